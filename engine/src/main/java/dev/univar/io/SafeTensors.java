package dev.univar.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.univar.data.AtomicFile;
import dev.univar.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.SequencedSet;

/**
 * Reads and writes the Hugging Face {@code .safetensors} format: an 8-byte little-endian header length, a JSON
 * header mapping each tensor name to its dtype, shape and byte range, then the raw little-endian data.
 *
 * <p>A reader memory-maps the file: float32 tensors are returned as views of the mapping (no copy, no heap),
 * F16 and BF16 tensors as float32 copies. Every tensor stays valid until {@link #close()}. The mapping lives
 * in a shared arena so that tensors can be read from several threads.
 */
public final class SafeTensors implements AutoCloseable {

    /** Larger headers are rejected before parsing, as the reference implementation does (100 MB). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The dtypes of the format, with their sizes in bytes. */
    public enum DType {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4),
        F64(8), I64(8), U64(8);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One header entry; offsets are absolute in the file. */
    public record Entry(String name, DType dtype, int[] shape, long begin, long end) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        public long elementCount() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, MemorySegment mapped, Map<String, Entry> entries,
                        Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps and validates {@code file}; a malformed file gives an IOException naming the file and the problem. */
    public static SafeTensors open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw corrupt(file, "file of " + size + " bytes is too short for the 8-byte header length");
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES)
                throw corrupt(file, "header length " + headerLen + " is not in (0, " + MAX_HEADER_BYTES + "]");
            if (headerLen > size - 8)
                throw corrupt(file, "header length " + headerLen + " exceeds the " + (size - 8)
                        + " bytes that follow it (file truncated?)");
            String json = new String(mapped.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            long dataStart = 8 + headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = parseHeader(file, json, dataStart, size, metadata);
            return new SafeTensors(file, arena, mapped, entries, Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Entry> parseHeader(Path file, String json, long dataStart, long fileSize,
                                                  Map<String, String> metadata) throws IOException {
        JsonObject header;
        try {
            JsonElement root = JsonParser.parseString(json);
            if (!root.isJsonObject()) throw corrupt(file, "header is not a JSON object");
            header = root.getAsJsonObject();
        } catch (JsonParseException e) {
            throw corrupt(file, "header is not valid JSON (" + e.getMessage() + ")");
        }
        List<Entry> list = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                readMetadata(file, e.getValue(), metadata);
                continue;
            }
            list.add(parseEntry(file, name, e.getValue(), dataStart, fileSize));
        }
        // Sorted by position, overlaps show up between neighbours; the map keeps that (file) order.
        list.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Map<String, Entry> entries = new LinkedHashMap<>();
        Entry prev = null;
        for (Entry en : list) {
            if (prev != null && en.begin() < prev.end())
                throw corrupt(file, "tensors '" + prev.name() + "' and '" + en.name() + "' overlap");
            if (en.begin() < en.end()) prev = en; // empty tensors overlap nothing
            entries.put(en.name(), en);
        }
        return Collections.unmodifiableMap(entries);
    }

    private static void readMetadata(Path file, JsonElement value, Map<String, String> metadata) throws IOException {
        if (!value.isJsonObject()) throw corrupt(file, "__metadata__ is not a JSON object");
        for (Map.Entry<String, JsonElement> m : value.getAsJsonObject().entrySet()) {
            JsonElement v = m.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
                throw corrupt(file, "__metadata__ value of '" + m.getKey() + "' is not a string");
            metadata.put(m.getKey(), v.getAsString());
        }
    }

    private static Entry parseEntry(Path file, String name, JsonElement value, long dataStart, long fileSize)
            throws IOException {
        String where = "tensor '" + name + "': ";
        if (!value.isJsonObject()) throw corrupt(file, where + "entry is not a JSON object");
        JsonObject o = value.getAsJsonObject();
        DType dtype;
        try {
            dtype = DType.valueOf(stringField(file, where, o, "dtype"));
        } catch (IllegalArgumentException e) {
            throw corrupt(file, where + "unknown dtype " + o.get("dtype"));
        }
        long[] shapeL = longArray(file, where, o, "shape");
        long[] offsets = longArray(file, where, o, "data_offsets");
        if (offsets.length != 2) throw corrupt(file, where + "data_offsets must have 2 elements");
        int[] shape = new int[shapeL.length];
        long count = 1;
        for (int k = 0; k < shape.length; k++) {
            if (shapeL[k] < 0 || shapeL[k] > Integer.MAX_VALUE)
                throw corrupt(file, where + "bad dimension " + shapeL[k] + " in shape " + Arrays.toString(shapeL));
            shape[k] = (int) shapeL[k];
            count = Math.multiplyHigh(count, shape[k]) != 0 ? Long.MAX_VALUE : count * shape[k];
        }
        long dataSize = fileSize - dataStart;
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataSize)
            throw corrupt(file, where + "data_offsets [" + begin + ", " + end + "] are outside the data section of "
                    + dataSize + " bytes");
        if (count > Long.MAX_VALUE / dtype.bytes || end - begin != count * dtype.bytes)
            throw corrupt(file, where + "data_offsets span " + (end - begin) + " bytes but " + dtype + " "
                    + Arrays.toString(shape) + " needs " + count * dtype.bytes);
        return new Entry(name, dtype, shape, dataStart + begin, dataStart + end);
    }

    private static String stringField(Path file, String where, JsonObject o, String field) throws IOException {
        JsonElement v = o.get(field);
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
            throw corrupt(file, where + "missing or non-string '" + field + "'");
        return v.getAsString();
    }

    private static long[] longArray(Path file, String where, JsonObject o, String field) throws IOException {
        JsonElement v = o.get(field);
        if (v == null || !v.isJsonArray()) throw corrupt(file, where + "missing or non-array '" + field + "'");
        JsonArray a = v.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int k = 0; k < out.length; k++) {
            try {
                out[k] = a.get(k).getAsBigDecimal().longValueExact();
            } catch (RuntimeException e) {
                throw corrupt(file, where + "'" + field + "' holds a non-integer " + a.get(k));
            }
        }
        return out;
    }

    private static IOException corrupt(Path file, String what) {
        return new IOException("invalid safetensors file " + file + ": " + what);
    }

    public Path file() {
        return file;
    }

    /** Tensor names in the order of their data in the file. */
    public SequencedSet<String> names() {
        return Collections.unmodifiableSequencedSet(new LinkedHashSet<>(entries.keySet()));
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The header entry of {@code name}; IllegalArgumentException naming the file if there is none. */
    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no tensor '" + name + "' in " + file);
        return e;
    }

    /** The {@code __metadata__} map (empty if the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The tensor {@code name} as float32. F32 data is returned as a view of the mapping when it is 4-byte
     * aligned (always, for files written by {@link #write}) and copied otherwise, since aligned float access is
     * what the kernels assume; F16 and BF16 are widened into a copy. Copies live until {@link #close()}.
     */
    public Tensor tensor(String name) {
        Entry e = entry(name);
        MemorySegment src = mapped.asSlice(e.begin(), e.end() - e.begin());
        long n = e.elementCount();
        return switch (e.dtype()) {
            case F32 -> {
                if (src.address() % Float.BYTES == 0 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)
                    yield new Tensor(src, e.shape());
                Tensor t = Tensor.allocate(arena, e.shape());
                MemorySegment.copy(src, FLOAT_LE, 0, t.data(), ValueLayout.JAVA_FLOAT, 0, n);
                yield t;
            }
            case F16 -> {
                Tensor t = Tensor.allocate(arena, e.shape());
                for (long i = 0; i < n; i++) t.set(i, Float.float16ToFloat(src.get(SHORT_LE, i * 2)));
                yield t;
            }
            case BF16 -> {
                // bfloat16 is the upper half of a float32, so widening is a shift
                Tensor t = Tensor.allocate(arena, e.shape());
                for (long i = 0; i < n; i++) t.set(i, Float.intBitsToFloat((src.get(SHORT_LE, i * 2) & 0xffff) << 16));
                yield t;
            }
            default -> throw new IllegalArgumentException("tensor '" + name + "' in " + file + " has dtype "
                    + e.dtype() + "; only F32, F16 and BF16 can be read as float32");
        };
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * Writes {@code tensors} (in iteration order) as F32 with the given metadata. The file is written to a
     * temporary sibling and renamed over {@code file} at the end, so readers never see a half-written file.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals("__metadata__"))
                throw new IllegalArgumentException("invalid tensor name '" + name + "' for " + file);
            Tensor t = e.getValue();
            long bytes = t.size() * Float.BYTES;
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", "F32");
            entry.put("shape", t.shape());
            entry.put("data_offsets", new long[]{offset, offset + bytes});
            header.put(name, entry);
            offset += bytes;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        // Pad with spaces so the data section starts 8-byte aligned, which keeps every F32 view aligned.
        int padded = (json.length + 7) & ~7;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');

        try (AtomicFile out = AtomicFile.create(file); Arena scratch = Arena.ofConfined()) {
            FileChannel ch = out.channel();
            MemorySegment buf = scratch.allocate(1 << 20, 8);
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, padded);
            writeFully(ch, buf.asSlice(0, 8));
            writeFully(ch, MemorySegment.ofArray(headerBytes));
            long chunk = buf.byteSize() / Float.BYTES;
            for (Tensor t : tensors.values()) {
                for (long i = 0, n = t.size(); i < n; i += chunk) {
                    long count = Math.min(chunk, n - i);
                    MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT, i * Float.BYTES, buf, FLOAT_LE, 0, count);
                    writeFully(ch, buf.asSlice(0, count * Float.BYTES));
                }
            }
            out.commit();
        }
    }

    private static void writeFully(FileChannel ch, MemorySegment bytes) throws IOException {
        var bb = bytes.asByteBuffer();
        while (bb.hasRemaining()) ch.write(bb);
    }
}
