package dev.univar.io;

import dev.univar.data.InputException;
import dev.univar.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The weights of a BERT encoder under named fields, checked against a {@link BertConfig}.
 *
 * <p>Dense weights keep the PyTorch {@code Linear} layout {@code [out, in]}. Tensors loaded from a
 * {@link SafeTensors} file are views of its mapping and live as long as the file stays open.
 */
public record BertWeights(BertConfig config, Embeddings embeddings, List<Layer> layers) {

    /** File name of the weights in a Hugging Face model folder. */
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";

    public record Embeddings(Tensor word, Tensor position, Tensor tokenType, Tensor lnGamma, Tensor lnBeta) {
    }

    public record Layer(Tensor qW, Tensor qB, Tensor kW, Tensor kB, Tensor vW, Tensor vB,
                        Tensor attnOutW, Tensor attnOutB, Tensor attnLnGamma, Tensor attnLnBeta,
                        Tensor ffnInW, Tensor ffnInB, Tensor ffnOutW, Tensor ffnOutB,
                        Tensor outLnGamma, Tensor outLnBeta) {
    }

    public BertWeights {
        layers = List.copyOf(layers);
    }

    /** An opened model folder: config, weights and the mapped file backing them; close it to unmap. */
    public record Loaded(Path dir, BertConfig config, BertWeights weights, SafeTensors file)
            implements AutoCloseable {
        @Override
        public void close() {
            file.close();
        }
    }

    /**
     * Opens a Hugging Face BERT folder ({@code config.json} + {@code model.safetensors}), for inference and as the
     * base of a training run alike. A weight that is NaN or infinite is an {@link InputException} naming the file,
     * the tensor and the index (see {@link #from(BertConfig, SafeTensors)}).
     */
    public static Loaded open(Path modelDir) throws IOException {
        BertConfig config = BertConfig.read(modelDir.resolve(CONFIG_FILE));
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
     * Picks the BERT tensors out of {@code file}: HF names with or without the {@code bert.} prefix of
     * {@code BertForXxx} checkpoints; other tensors (pooler, task heads) are ignored. Every tensor picked is
     * checked to hold finite values only (one pass over it): a NaN or infinite weight would turn every embedding
     * into NaN without any other sign, so it is an {@link InputException} naming the file, the tensor and the
     * first bad index.
     */
    public static BertWeights from(BertConfig config, SafeTensors file) {
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

    /** Same as {@link #from(BertConfig, SafeTensors)} over an in-memory name → tensor map. */
    public static BertWeights from(BertConfig config, Map<String, Tensor> tensors, String description) {
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

    /** The weights under their HF names (no prefix), in a stable order, for {@link SafeTensors#write}. */
    public Map<String, Tensor> toNamedTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", embeddings.word());
        m.put("embeddings.position_embeddings.weight", embeddings.position());
        m.put("embeddings.token_type_embeddings.weight", embeddings.tokenType());
        m.put("embeddings.LayerNorm.weight", embeddings.lnGamma());
        m.put("embeddings.LayerNorm.bias", embeddings.lnBeta());
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            String p = "encoder.layer." + i + ".";
            m.put(p + "attention.self.query.weight", l.qW());
            m.put(p + "attention.self.query.bias", l.qB());
            m.put(p + "attention.self.key.weight", l.kW());
            m.put(p + "attention.self.key.bias", l.kB());
            m.put(p + "attention.self.value.weight", l.vW());
            m.put(p + "attention.self.value.bias", l.vB());
            m.put(p + "attention.output.dense.weight", l.attnOutW());
            m.put(p + "attention.output.dense.bias", l.attnOutB());
            m.put(p + "attention.output.LayerNorm.weight", l.attnLnGamma());
            m.put(p + "attention.output.LayerNorm.bias", l.attnLnBeta());
            m.put(p + "intermediate.dense.weight", l.ffnInW());
            m.put(p + "intermediate.dense.bias", l.ffnInB());
            m.put(p + "output.dense.weight", l.ffnOutW());
            m.put(p + "output.dense.bias", l.ffnOutB());
            m.put(p + "output.LayerNorm.weight", l.outLnGamma());
            m.put(p + "output.LayerNorm.bias", l.outLnBeta());
        }
        return m;
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

    private static final Pattern LAYER_NAME = Pattern.compile("^(?:bert\\.)?encoder\\.layer\\.(\\d+)\\.");

    private static BertWeights build(BertConfig c, Source src) {
        for (String name : src.names()) {
            Matcher m = LAYER_NAME.matcher(name);
            if (m.find() && Long.parseLong(m.group(1)) >= c.numHiddenLayers())
                throw new IllegalArgumentException("tensor '" + name + "' in " + src.describe()
                        + " belongs to a layer beyond num_hidden_layers = " + c.numHiddenLayers());
        }
        String prefix = src.has("embeddings.word_embeddings.weight") ? ""
                : src.has("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        Loader ld = new Loader(src, prefix);
        int h = c.hiddenSize(), ff = c.intermediateSize();
        Embeddings emb = new Embeddings(
                ld.get("embeddings.word_embeddings.weight", c.vocabSize(), h),
                ld.get("embeddings.position_embeddings.weight", c.maxPositionEmbeddings(), h),
                ld.get("embeddings.token_type_embeddings.weight", c.typeVocabSize(), h),
                ld.layerNorm("embeddings.LayerNorm", "weight", "gamma", h),
                ld.layerNorm("embeddings.LayerNorm", "bias", "beta", h));
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "encoder.layer." + i + ".";
            layers.add(new Layer(
                    ld.get(p + "attention.self.query.weight", h, h), ld.get(p + "attention.self.query.bias", h),
                    ld.get(p + "attention.self.key.weight", h, h), ld.get(p + "attention.self.key.bias", h),
                    ld.get(p + "attention.self.value.weight", h, h), ld.get(p + "attention.self.value.bias", h),
                    ld.get(p + "attention.output.dense.weight", h, h), ld.get(p + "attention.output.dense.bias", h),
                    ld.layerNorm(p + "attention.output.LayerNorm", "weight", "gamma", h),
                    ld.layerNorm(p + "attention.output.LayerNorm", "bias", "beta", h),
                    ld.get(p + "intermediate.dense.weight", ff, h), ld.get(p + "intermediate.dense.bias", ff),
                    ld.get(p + "output.dense.weight", h, ff), ld.get(p + "output.dense.bias", h),
                    ld.layerNorm(p + "output.LayerNorm", "weight", "gamma", h),
                    ld.layerNorm(p + "output.LayerNorm", "bias", "beta", h)));
        }
        return new BertWeights(c, emb, layers);
    }

    private record Loader(Source src, String prefix) {
        Tensor get(String name, int... expected) {
            String full = prefix + name;
            if (!src.has(full))
                throw new IllegalArgumentException("tensor '" + full + "' is missing from " + src.describe());
            int[] found = src.shape(full);
            if (!Arrays.equals(found, expected))
                throw new IllegalArgumentException("tensor '" + full + "' in " + src.describe() + " has shape "
                        + Arrays.toString(found) + ", expected " + Arrays.toString(expected));
            return src.get(full);
        }

        /** LayerNorm parameters are {@code weight|bias}, or {@code gamma|beta} in old TF-converted checkpoints. */
        Tensor layerNorm(String base, String name, String legacyName, int size) {
            String legacy = base + "." + legacyName;
            if (!src.has(prefix + base + "." + name) && src.has(prefix + legacy)) return get(legacy, size);
            return get(base + "." + name, size);
        }
    }
}
