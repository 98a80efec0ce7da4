package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/** Allocating {@link BertWeights}-shaped sets of tensors: gradient buffers, optimizer state, trainable copies. */
public final class BertParameters {

    private BertParameters() {
    }

    /** The shape of every tensor of a BERT of this config, under its HF name, in {@link BertWeights#toNamedTensors} order. */
    public static Map<String, int[]> shapes(BertConfig c) {
        int h = c.hiddenSize(), ff = c.intermediateSize();
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", new int[]{c.vocabSize(), h});
        m.put("embeddings.position_embeddings.weight", new int[]{c.maxPositionEmbeddings(), h});
        m.put("embeddings.token_type_embeddings.weight", new int[]{c.typeVocabSize(), h});
        m.put("embeddings.LayerNorm.weight", new int[]{h});
        m.put("embeddings.LayerNorm.bias", new int[]{h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "encoder.layer." + i + ".";
            for (String d : new String[]{"attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense"}) {
                m.put(p + d + ".weight", new int[]{h, h});
                m.put(p + d + ".bias", new int[]{h});
            }
            m.put(p + "attention.output.LayerNorm.weight", new int[]{h});
            m.put(p + "attention.output.LayerNorm.bias", new int[]{h});
            m.put(p + "intermediate.dense.weight", new int[]{ff, h});
            m.put(p + "intermediate.dense.bias", new int[]{ff});
            m.put(p + "output.dense.weight", new int[]{h, ff});
            m.put(p + "output.dense.bias", new int[]{h});
            m.put(p + "output.LayerNorm.weight", new int[]{h});
            m.put(p + "output.LayerNorm.bias", new int[]{h});
        }
        return m;
    }

    /** Zero-filled weights of this config in {@code arena}. */
    public static BertWeights zeros(BertConfig config, Arena arena) {
        return zeros(config, arena, Tensor::allocate);
    }

    /** Zero-filled weights of this config in {@code arena}, allocated by {@code backend} ({@link Backend#allocate}). */
    public static BertWeights zeros(BertConfig config, Arena arena, Backend backend) {
        return zeros(config, arena, backend::allocate);
    }

    private static BertWeights zeros(BertConfig config, Arena arena, BiFunction<Arena, int[], Tensor> allocate) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        shapes(config).forEach((name, shape) -> t.put(name, allocate.apply(arena, shape)));
        return BertWeights.from(config, t, "zeros");
    }

    /**
     * A writable copy of {@code weights} in {@code arena}: weights loaded from a file are views of a read-only
     * mapping, and training updates them in place.
     */
    public static BertWeights copyOf(BertWeights weights, Arena arena) {
        return copyOf(weights, arena, Tensor::allocate);
    }

    /** {@link #copyOf(BertWeights, Arena)} in tensors allocated by {@code backend} ({@link Backend#allocate}). */
    public static BertWeights copyOf(BertWeights weights, Arena arena, Backend backend) {
        return copyOf(weights, arena, backend::allocate);
    }

    private static BertWeights copyOf(BertWeights weights, Arena arena, BiFunction<Arena, int[], Tensor> allocate) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        weights.toNamedTensors().forEach((name, src) -> {
            Tensor dst = allocate.apply(arena, src.shape());
            MemorySegment.copy(src.data(), 0, dst.data(), 0, src.size() * Float.BYTES);
            t.put(name, dst);
        });
        return BertWeights.from(weights.config(), t, "copy");
    }
}
