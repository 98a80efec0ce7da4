package dev.univar.io;

import dev.univar.tensor.Tensor;

import java.io.IOException;
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

    /** Opens a Hugging Face BERT folder ({@code config.json} + {@code model.safetensors}). */
    public static Loaded open(Path modelDir) throws IOException {
        BertConfig config = BertConfig.read(modelDir.resolve(CONFIG_FILE));
        SafeTensors file = SafeTensors.open(modelDir.resolve(WEIGHTS_FILE));
        try {
            return new Loaded(modelDir, config, from(config, file), file);
        } catch (IllegalArgumentException e) {
            file.close();
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Picks the BERT tensors out of {@code file}: HF names with or without the {@code bert.} prefix of
     * {@code BertForXxx} checkpoints; other tensors (pooler, task heads) are ignored.
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
                return file.tensor(name);
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
