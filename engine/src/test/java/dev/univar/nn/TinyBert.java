package dev.univar.nn;

import dev.univar.model.BertConfig;
import dev.univar.model.Param;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small random BERTs and padded batches for the training tests. */
public final class TinyBert {

    private TinyBert() {
    }

    public static BertConfig config(int vocab, int hidden, int layers, int heads, int inter, int positions) {
        return BertConfig.fromJson("""
                {"vocab_size": %d, "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "intermediate_size": %d, "max_position_embeddings": %d, "type_vocab_size": 2,
                 "layer_norm_eps": 1e-12, "hidden_act": "gelu", "model_type": "bert"}"""
                .formatted(vocab, hidden, layers, heads, inter, positions));
    }

    /** Random weights: LayerNorm weights near 1, everything else N(0, scale²). */
    public static Weights weights(BertConfig config, Arena arena, long seed, double scale) {
        Random r = new Random(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Param p : config.parameters()) {
            int n = 1;
            for (int d : p.shape()) n *= d;
            float[] v = new float[n];
            boolean gamma = p.kind() == Param.Kind.NORM_WEIGHT;
            for (int i = 0; i < n; i++) v[i] = (float) (gamma ? 1 + 0.1 * r.nextGaussian() : scale * r.nextGaussian());
            t.put(p.name(), Tensor.of(arena, v, p.shape()));
        }
        return Weights.from(config, t, "random");
    }

    /** A batch of rows with the given real lengths, padded with id 0 to the longest; random ids and type ids. */
    public static Batch batch(int vocab, long seed, int... lengths) {
        Random r = new Random(seed);
        int size = lengths.length, seq = 0;
        for (int l : lengths) seq = Math.max(seq, l);
        int[] ids = new int[size * seq], types = new int[size * seq];
        float[] mask = new float[size * seq];
        for (int b = 0; b < size; b++)
            for (int t = 0; t < lengths[b]; t++) {
                ids[b * seq + t] = 1 + r.nextInt(vocab - 1);
                types[b * seq + t] = r.nextInt(2);
                mask[b * seq + t] = 1;
            }
        return new Batch(size, seq, ids, types, mask, lengths.clone());
    }
}
