package dev.univar.text;

import dev.univar.bindings.NativeLibraries;
import dev.univar.bindings.spm.univar_spm_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A loaded SentencePiece model: the real {@code libsentencepiece} (Debian's C++ library) reached through the
 * {@code univar_spm} C shim and the Foreign Function & Memory API. Ids are SentencePiece's own, exactly what
 * {@code spm_encode --output_format=id} prints; {@link SentencePieceTokenizer} maps them to a model's
 * convention.
 *
 * <p>Thread-safe: SentencePiece's encode, decode and vocabulary lookups are {@code const} on a loaded model, so
 * calls run concurrently. The native processor is freed by {@link #close()}, which waits for calls in flight
 * (a read-write lock: calls share it, close takes it exclusively); any call after close throws. Every call's
 * scratch memory (text bytes, result buffers, error message) is owned by a confined {@link Arena} closed
 * before the call returns.
 */
public final class SentencePieceProcessor implements AutoCloseable {

    /** What to tell a user whose build or machine lacks the shim or the library under it. */
    static final String INSTALL_HINT = "SentencePiece needs libsentencepiece-dev when univar is built "
            + "(apt-get install libsentencepiece-dev, then rebuild) and libsentencepiece0 when it runs";

    /** The univar_spm.h interface version this class was written against. */
    private static final int ABI_VERSION = 1;
    private static final int ERR_CAP = 1024;

    private final MemorySegment handle;
    private final String source;
    private final String[] pieces; // cached once: token(id) and the fairseq mapping read it on every call
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private SentencePieceProcessor(MemorySegment handle, String source) {
        this.handle = handle;
        this.source = source;
        int n = univar_spm_h.univar_spm_vocab_size(handle);
        this.pieces = new String[n];
        try (Arena arena = Arena.ofConfined()) {
            long cap = 256;
            MemorySegment buf = arena.allocate(cap);
            for (int id = 0; id < n; id++) {
                long len = univar_spm_h.univar_spm_id_to_piece(handle, id, buf, cap);
                if (len > cap) {
                    cap = len;
                    buf = arena.allocate(cap);
                    len = univar_spm_h.univar_spm_id_to_piece(handle, id, buf, cap);
                }
                pieces[id] = utf8(buf, len);
            }
        }
    }

    // ---------------------------------------------------------------- loading

    /** Loads the shim once; throws {@link NativeLibraries.UnavailableException} saying what to install. */
    static void ensureLibrary() {
        NativeLibraries.load("univar_spm", INSTALL_HINT);
        int abi = univar_spm_h.univar_spm_abi_version();
        if (abi != ABI_VERSION)
            throw new NativeLibraries.UnavailableException("libunivar_spm.so implements interface version " + abi
                    + ", this univar expects " + ABI_VERSION + ": rebuild univar", null);
    }

    /** Whether the SentencePiece shim and library can be loaded here (for tests and optional features). */
    public static boolean isAvailable() {
        try {
            ensureLibrary();
            return true;
        } catch (NativeLibraries.UnavailableException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Why {@link #isAvailable()} is false, or {@code null} when it is true. */
    public static String unavailableReason() {
        try {
            ensureLibrary();
            return null;
        } catch (NativeLibraries.UnavailableException | UnsatisfiedLinkError e) {
            return e.getMessage();
        }
    }

    /** Loads a {@code .model} file (a serialized SentencePiece ModelProto). */
    public static SentencePieceProcessor load(Path model) {
        ensureLibrary();
        if (!Files.isRegularFile(model))
            throw new IllegalArgumentException(model + ": no such SentencePiece model file");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment err = arena.allocate(ERR_CAP);
            int rc = univar_spm_h.univar_spm_load_file(arena.allocateFrom(model.toString()), out, err, ERR_CAP);
            if (rc != univar_spm_h.UNIVAR_SPM_OK())
                throw new IllegalArgumentException(model + ": not a SentencePiece model: " + err.getString(0));
            return new SentencePieceProcessor(out.get(ValueLayout.ADDRESS, 0), model.toString());
        }
    }

    /** Loads a model from the bytes of a {@code .model} file. */
    public static SentencePieceProcessor load(byte[] model) {
        ensureLibrary();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment err = arena.allocate(ERR_CAP);
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, model);
            int rc = univar_spm_h.univar_spm_load_bytes(data, model.length, out, err, ERR_CAP);
            if (rc != univar_spm_h.UNIVAR_SPM_OK())
                throw new IllegalArgumentException("not a SentencePiece model: " + err.getString(0));
            return new SentencePieceProcessor(out.get(ValueLayout.ADDRESS, 0), model.length + " bytes");
        }
    }

    // ---------------------------------------------------------------- encoding and decoding

    /** SentencePiece ids of {@code text}: exactly {@code spm_encode --output_format=id}. */
    public int[] encodeIds(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        lock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            MemorySegment in = bytes(arena, bytes);
            MemorySegment err = arena.allocate(ERR_CAP);
            MemorySegment n = arena.allocate(ValueLayout.JAVA_LONG);
            // One piece covers at least one byte of normalised text, which is rarely longer than the input:
            // this capacity almost always fits, and the shim reports the true count when it does not.
            long cap = bytes.length + 16L;
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, cap);
            int rc = univar_spm_h.univar_spm_encode_ids(handle, in, bytes.length, ids, cap, n, err, ERR_CAP);
            if (rc == univar_spm_h.UNIVAR_SPM_SHORT_BUFFER()) {
                cap = n.get(ValueLayout.JAVA_LONG, 0);
                ids = arena.allocate(ValueLayout.JAVA_INT, cap);
                rc = univar_spm_h.univar_spm_encode_ids(handle, in, bytes.length, ids, cap, n, err, ERR_CAP);
            }
            check(rc, err, "encode");
            return ids.asSlice(0, n.get(ValueLayout.JAVA_LONG, 0) * Integer.BYTES).toArray(ValueLayout.JAVA_INT);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** SentencePiece pieces of {@code text}, as {@code spm_encode --output_format=piece}. */
    public List<String> encodePieces(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        lock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            MemorySegment in = bytes(arena, bytes);
            MemorySegment err = arena.allocate(ERR_CAP);
            MemorySegment n = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment nBytes = arena.allocate(ValueLayout.JAVA_LONG);
            long endsCap = bytes.length + 16L, bytesCap = 2L * bytes.length + 64; // "▁" is 3 bytes for 1 space
            MemorySegment out = arena.allocate(bytesCap);
            MemorySegment ends = arena.allocate(ValueLayout.JAVA_INT, endsCap);
            int rc = univar_spm_h.univar_spm_encode_pieces(handle, in, bytes.length, out, bytesCap, nBytes, ends,
                    endsCap, n, err, ERR_CAP);
            if (rc == univar_spm_h.UNIVAR_SPM_SHORT_BUFFER()) {
                endsCap = Math.max(1, n.get(ValueLayout.JAVA_LONG, 0));
                bytesCap = Math.max(1, nBytes.get(ValueLayout.JAVA_LONG, 0));
                out = arena.allocate(bytesCap);
                ends = arena.allocate(ValueLayout.JAVA_INT, endsCap);
                rc = univar_spm_h.univar_spm_encode_pieces(handle, in, bytes.length, out, bytesCap, nBytes, ends,
                        endsCap, n, err, ERR_CAP);
            }
            check(rc, err, "encode");
            int count = (int) n.get(ValueLayout.JAVA_LONG, 0);
            List<String> result = new ArrayList<>(count);
            int start = 0;
            for (int i = 0; i < count; i++) {
                int end = ends.getAtIndex(ValueLayout.JAVA_INT, i);
                result.add(utf8(out.asSlice(start), end - start));
                start = end;
            }
            return result;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Text of SentencePiece ids; an unknown id becomes " ⁇ " and control ids nothing, as in SentencePiece. */
    public String decodeIds(int[] ids) {
        lock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            for (int id : ids)
                if (id < 0 || id >= pieces.length)
                    throw new IllegalArgumentException("id " + id + " is outside the vocabulary [0, " + pieces.length + ")");
            MemorySegment in = arena.allocateFrom(ValueLayout.JAVA_INT, ids);
            return decode(arena, (text, cap, len, err) ->
                    univar_spm_h.univar_spm_decode_ids(handle, in, ids.length, text, cap, len, err, ERR_CAP));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Text of pieces; a piece outside the vocabulary keeps its surface, as in SentencePiece. */
    public String decodePieces(List<String> pieceList) {
        lock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            byte[][] encoded = new byte[pieceList.size()][];
            int total = 0;
            for (int i = 0; i < encoded.length; i++) total += (encoded[i] = pieceList.get(i).getBytes(StandardCharsets.UTF_8)).length;
            MemorySegment bytes = arena.allocate(Math.max(1, total));
            MemorySegment ends = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, encoded.length));
            int at = 0;
            for (int i = 0; i < encoded.length; i++) {
                MemorySegment.copy(encoded[i], 0, bytes, ValueLayout.JAVA_BYTE, at, encoded[i].length);
                at += encoded[i].length;
                ends.setAtIndex(ValueLayout.JAVA_INT, i, at);
            }
            return decode(arena, (text, cap, len, err) ->
                    univar_spm_h.univar_spm_decode_pieces(handle, bytes, ends, encoded.length, text, cap, len, err, ERR_CAP));
        } finally {
            lock.readLock().unlock();
        }
    }

    private interface DecodeCall {
        int call(MemorySegment text, long cap, MemorySegment len, MemorySegment err);
    }

    private String decode(SegmentAllocator arena, DecodeCall call) {
        MemorySegment err = arena.allocate(ERR_CAP);
        MemorySegment len = arena.allocate(ValueLayout.JAVA_LONG);
        long cap = 1024;
        MemorySegment text = arena.allocate(cap);
        int rc = call.call(text, cap, len, err);
        if (rc == univar_spm_h.UNIVAR_SPM_SHORT_BUFFER()) {
            cap = len.get(ValueLayout.JAVA_LONG, 0);
            text = arena.allocate(cap);
            rc = call.call(text, cap, len, err);
        }
        check(rc, err, "decode");
        return utf8(text, len.get(ValueLayout.JAVA_LONG, 0));
    }

    // ---------------------------------------------------------------- vocabulary

    /** Number of pieces, control and unknown pieces included. */
    public int pieceSize() {
        return pieces.length;
    }

    /** The piece of {@code id}; throws for an id outside [0, {@link #pieceSize()}). */
    public String idToPiece(int id) {
        return pieces[id];
    }

    /** The id of {@code piece}, or {@link #unkId()} when the vocabulary lacks it (as SentencePiece answers). */
    public int pieceToId(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        lock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            return univar_spm_h.univar_spm_piece_to_id(handle, bytes(arena, bytes), bytes.length);
        } finally {
            lock.readLock().unlock();
        }
    }

    public boolean isUnknown(int id) {
        return flag(id, 0);
    }

    public boolean isControl(int id) {
        return flag(id, 1);
    }

    public boolean isUnused(int id) {
        return flag(id, 2);
    }

    public boolean isByte(int id) {
        return flag(id, 3);
    }

    /** The unknown id ({@code <unk>}). */
    public int unkId() {
        return special(0);
    }

    /** The {@code <s>} id, or -1 where the model has none. */
    public int bosId() {
        return special(1);
    }

    /** The {@code </s>} id, or -1 where the model has none. */
    public int eosId() {
        return special(2);
    }

    /** The {@code <pad>} id, or -1 where the model has none (SentencePiece's default). */
    public int padId() {
        return special(3);
    }

    private boolean flag(int id, int which) {
        lock.readLock().lock();
        try {
            checkOpen();
            return switch (which) {
                case 0 -> univar_spm_h.univar_spm_is_unknown(handle, id);
                case 1 -> univar_spm_h.univar_spm_is_control(handle, id);
                case 2 -> univar_spm_h.univar_spm_is_unused(handle, id);
                default -> univar_spm_h.univar_spm_is_byte(handle, id);
            } != 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    private int special(int which) {
        lock.readLock().lock();
        try {
            checkOpen();
            return switch (which) {
                case 0 -> univar_spm_h.univar_spm_unk_id(handle);
                case 1 -> univar_spm_h.univar_spm_bos_id(handle);
                case 2 -> univar_spm_h.univar_spm_eos_id(handle);
                default -> univar_spm_h.univar_spm_pad_id(handle);
            };
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- lifetime and helpers

    /** Frees the native processor once calls in flight have returned; later calls throw. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            univar_spm_h.univar_spm_free(handle);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "SentencePieceProcessor[" + source + ", " + pieces.length + " pieces" + (closed ? ", closed" : "") + "]";
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("SentencePiece model " + source + " is closed");
    }

    private void check(int rc, MemorySegment err, String what) {
        if (rc != univar_spm_h.UNIVAR_SPM_OK())
            throw new IllegalStateException("SentencePiece " + what + " failed: " + err.getString(0));
    }

    /** Text bytes for the shim; a non-empty segment even for "" so the pointer is never NULL. */
    private static MemorySegment bytes(SegmentAllocator arena, byte[] bytes) {
        return bytes.length == 0 ? arena.allocate(1) : arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
    }

    private static String utf8(MemorySegment s, long len) {
        return new String(s.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
