package dev.univar.model;

import dev.univar.data.InputException;
import dev.univar.io.SafeTensors;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model's weights: every parameter of its config ({@link ModelConfig#parameters}) under its checkpoint name, each
 * checked for shape, in declaration order. An architecture's weight view ({@link BertWeights}) reads them through
 * {@link Binder#of}; gradients and optimizer state have the same form.
 *
 * <p>Dense weights keep the PyTorch {@code Linear} layout {@code [out, in]}. Tensors loaded from a {@link SafeTensors}
 * file are views of its mapping and live as long as the file stays open.
 */
public final class Weights {

    /** File name of the weights in a Hugging Face model folder. */
    public static final String WEIGHTS_FILE = "model.safetensors";

    private final ModelConfig config;
    private final List<Param> params;
    private final Map<String, Tensor> tensors;

    private Weights(ModelConfig config, List<Param> params, Map<String, Tensor> tensors) {
        this.config = config;
        this.params = params;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    public ModelConfig config() {
        return config;
    }

    /** The parameters, in declaration order, with their flags. */
    public List<Param> params() {
        return params;
    }

    /** The tensors under their checkpoint names (no prefix), in {@link #params} order, for {@link SafeTensors#write}. */
    public Map<String, Tensor> named() {
        return tensors;
    }

    /** The tensor of the parameter of this name; IllegalArgumentException when the model has none. */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("the " + config.modelType() + " model has no parameter '" + name + "'");
        return t;
    }

    /** An opened model folder: config, weights and the mapped file backing them; close it to unmap. */
    public record Loaded(Path dir, ModelConfig config, Weights weights, SafeTensors file) implements AutoCloseable {
        @Override
        public void close() {
            file.close();
        }
    }

    /**
     * Opens a Hugging Face model folder ({@code config.json} + {@code model.safetensors}) of any architecture the
     * engine runs, for inference and as the base of a training run alike. A weight that is NaN or infinite is an
     * {@link InputException} naming the file, the tensor and the index (see {@link #from(ModelConfig, SafeTensors)});
     * a missing or mis-shaped tensor an IOException naming the file and the tensor.
     */
    public static Loaded open(Path modelDir) throws IOException {
        ModelConfig config = ModelConfig.read(modelDir.resolve(ModelConfig.CONFIG_FILE));
        SafeTensors file = SafeTensors.open(modelDir.resolve(WEIGHTS_FILE));
        try {
            return new Loaded(modelDir, config, from(config, file), file);
        } catch (IllegalArgumentException e) {
            file.close();
            throw new IOException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            file.close();
            throw e;
        }
    }

    /**
     * Picks the model's tensors out of {@code file}: the config's parameters, under one of its
     * {@linkplain ModelConfig#checkpointPrefixes prefixes} or a parameter's aliases; other tensors (pooler, task
     * heads) are ignored. Every tensor picked is checked to hold finite values only (one pass over it): a NaN or
     * infinite weight would turn every embedding into NaN without any other sign, so it is an
     * {@link InputException} naming the file, the tensor and the first bad index.
     */
    public static Weights from(ModelConfig config, SafeTensors file) {
        return build(config, new Source() {
            public boolean has(String name) {
                return file.contains(name);
            }

            public int[] shape(String name) {
                return file.entry(name).shape();
            }

            public Tensor get(String name) {
                Tensor t = file.tensor(name);
                requireFinite(t, file.file(), name);
                return t;
            }

            public Iterable<String> names() {
                return file.names();
            }

            public String describe() {
                return file.file().toString();
            }
        });
    }

    /** Same as {@link #from(ModelConfig, SafeTensors)} over an in-memory name → tensor map (no finiteness check). */
    public static Weights from(ModelConfig config, Map<String, Tensor> tensors, String description) {
        return build(config, new Source() {
            public boolean has(String name) {
                return tensors.containsKey(name);
            }

            public int[] shape(String name) {
                return tensors.get(name).shape();
            }

            public Tensor get(String name) {
                return tensors.get(name);
            }

            public Iterable<String> names() {
                return tensors.keySet();
            }

            public String describe() {
                return description;
            }
        });
    }

    /** Zero-filled weights of this config in {@code arena} (gradient buffers, optimizer state). */
    public static Weights zeros(ModelConfig config, Arena arena) {
        return zeros(config, arena, Tensor::allocate);
    }

    /** Zero-filled weights of this config in {@code arena}, allocated by {@code backend} ({@link Backend#allocate}). */
    public static Weights zeros(ModelConfig config, Arena arena, Backend backend) {
        return zeros(config, arena, backend::allocate);
    }

    private static Weights zeros(ModelConfig config, Arena arena, BiFunction<Arena, int[], Tensor> allocate) {
        List<Param> params = config.parameters();
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Param p : params) t.put(p.name(), allocate.apply(arena, p.shape()));
        return new Weights(config, params, t);
    }

    /**
     * A writable copy in {@code arena}: weights loaded from a file are views of a read-only mapping, and training
     * updates them in place.
     */
    public Weights copy(Arena arena) {
        return copy(arena, Tensor::allocate);
    }

    /** {@link #copy(Arena)} in tensors allocated by {@code backend} ({@link Backend#allocate}). */
    public Weights copy(Arena arena, Backend backend) {
        return copy(arena, backend::allocate);
    }

    private Weights copy(Arena arena, BiFunction<Arena, int[], Tensor> allocate) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        tensors.forEach((name, src) -> {
            Tensor dst = allocate.apply(arena, src.shape());
            MemorySegment.copy(src.data(), 0, dst.data(), 0, src.size() * Float.BYTES);
            t.put(name, dst);
        });
        return new Weights(config, params, t);
    }

    /**
     * Fails with an {@link InputException} naming {@code file}, {@code name} and the first bad index when
     * {@code t} holds a NaN or an infinity. One pass over the data, reading two floats per step.
     */
    static void requireFinite(Tensor t, Path file, String name) {
        MemorySegment data = t.data();
        long n = t.size();
        if (allFinite(data, n)) return;
        long first = -1, bad = 0;
        for (long i = 0; i < n; i++) {
            if (!Float.isFinite(data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i))) {
                if (first < 0) first = i;
                bad++;
            }
        }
        float v = data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, first);
        int[] shape = t.shape();
        String where = shape.length == 2 ? " (row " + first / shape[1] + ", column " + first % shape[1] + ")" : "";
        throw new InputException(file, 0, "tensor '" + name + "' holds " + (Float.isNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity")
                + " at index " + first + where + (bad > 1 ? ", and " + (bad - 1) + " more non-finite values" : "")
                + "; a model with such weights computes NaN embeddings");
    }

    private static final ValueLayout.OfLong PAIR = ValueLayout.JAVA_LONG_UNALIGNED;
    /** Pairs of floats copied to the heap per step of {@link #allFinite}: 32 KB. */
    private static final int CHUNK_PAIRS = 4096;

    /**
     * Whether the {@code n} floats of {@code data} are all finite. A float is not finite when its exponent bits are
     * all ones, i.e. when {@code (bits & 0x7fffffff) >= 0x7f800000}: adding {@code 0x00800000} to the magnitude then
     * carries into bit 31. Two floats are tested per long (the low half cannot carry into the high one) and the
     * carries OR-ed together, so the loop has no branch. It runs over chunks copied to a heap array by a small method
     * called once per chunk: in the fresh JVM of a command, that method is compiled within the first few chunks,
     * where a loop over the mapped segment itself ran interpreted and then in on-stack-replaced code for much of a
     * large tensor (MiniLM's 90 MB: about 180 ms against 320 ms, on a loaded 2-core machine).
     */
    static boolean allFinite(MemorySegment data, long n) {
        long pairs = n / 2, acc = 0;
        long[] chunk = new long[(int) Math.min(CHUNK_PAIRS, pairs)];
        for (long from = 0; from < pairs; from += chunk.length) {
            int count = (int) Math.min(chunk.length, pairs - from);
            MemorySegment.copy(data, PAIR, from * Long.BYTES, chunk, 0, count);
            acc |= carries(chunk, count);
        }
        if (n % 2 != 0) acc |= (data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, n - 1) & 0x7fffffffL) + 0x00800000L;
        return (acc & 0x8000000080000000L) == 0;
    }

    /** The OR of {@code (pair & 0x7fffffff7fffffff) + 0x0080000000800000} over the first {@code count} pairs. */
    private static long carries(long[] pairs, int count) {
        long acc = 0;
        for (int i = 0; i < count; i++) acc |= (pairs[i] & 0x7fffffff7fffffffL) + 0x0080000000800000L;
        return acc;
    }

    /** Where tensors come from: a mapped file or a map. */
    private interface Source {
        boolean has(String name);

        int[] shape(String name);

        Tensor get(String name);

        Iterable<String> names();

        String describe();
    }

    /** A layer index inside a tensor name: {@code encoder.layer.3.}. */
    private static final Pattern INDEX = Pattern.compile("\\.(\\d+)\\.");

    private static Weights build(ModelConfig c, Source src) {
        List<Param> params = c.parameters();
        String prefix = prefixOf(c, params, src);
        checkNoExtraLayers(c, params, src, prefix);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Param p : params) t.put(p.name(), pick(src, prefix, p));
        return new Weights(c, params, t);
    }

    /** The first of the config's prefixes under which the source holds the first parameter (or "", to report it missing). */
    private static String prefixOf(ModelConfig c, List<Param> params, Source src) {
        Param first = params.getFirst();
        for (String prefix : c.checkpointPrefixes()) {
            if (src.has(prefix + first.name())) return prefix;
            for (String alias : first.aliases()) if (src.has(prefix + alias)) return prefix;
        }
        return "";
    }

    /**
     * A tensor named like a parameter but with a layer index the config does not have (a checkpoint of a deeper
     * model, or a config that lost a layer) is an error: loading would silently drop the layer.
     */
    private static void checkNoExtraLayers(ModelConfig c, List<Param> params, Source src, String prefix) {
        Set<String> names = new HashSet<>(), shapes = new HashSet<>();
        for (Param p : params) {
            names.add(p.name());
            shapes.add(INDEX.matcher(p.name()).replaceAll(".#."));
            for (String a : p.aliases()) {
                names.add(a);
                shapes.add(INDEX.matcher(a).replaceAll(".#."));
            }
        }
        for (String full : src.names()) {
            if (!full.startsWith(prefix)) continue;
            String name = full.substring(prefix.length());
            if (names.contains(name) || !shapes.contains(INDEX.matcher(name).replaceAll(".#."))) continue;
            Matcher m = INDEX.matcher(name);
            String index = m.find() ? m.group(1) : "?";
            throw new IllegalArgumentException("tensor '" + full + "' in " + src.describe() + " belongs to layer " + index
                    + ", beyond the " + c.numLayers() + " layers of the config");
        }
    }

    private static Tensor pick(Source src, String prefix, Param p) {
        String name = prefix + p.name();
        if (!src.has(name)) {
            for (String alias : p.aliases())
                if (src.has(prefix + alias)) {
                    name = prefix + alias;
                    break;
                }
        }
        if (!src.has(name))
            throw new IllegalArgumentException("tensor '" + prefix + p.name() + "' is missing from " + src.describe());
        int[] found = src.shape(name);
        if (!Arrays.equals(found, p.shape()))
            throw new IllegalArgumentException("tensor '" + name + "' in " + src.describe() + " has shape "
                    + Arrays.toString(found) + ", expected " + Arrays.toString(p.shape()));
        return src.get(name);
    }
}
