package dev.univar.bench.jmh;

import dev.univar.model.BertConfig;
import dev.univar.model.ModelConfig;
import dev.univar.model.Param;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/** Random inputs of all-MiniLM-L6-v2's shapes for the benchmarks (no model file needed). */
public final class BenchData {
    private BenchData() {
    }

    /** all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, FFN 1536, vocab 30522, 512 positions. */
    public static final BertConfig MINILM = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0, "bert");

    /** A tensor of uniform values in [-scale, scale). */
    public static Tensor random(Arena arena, long seed, float scale, int... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0, n = t.size(); i < n; i++) t.set(i, (float) ((r.nextDouble() * 2 - 1) * scale));
        return t;
    }

    /** Random weights of {@code c}'s shapes, scaled like a trained BERT's (about 0.05), layer norms near 1. */
    public static Weights randomWeights(Arena arena, ModelConfig c, long seed) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        long s = seed;
        for (Param p : c.parameters()) {
            int[] shape = p.shape();
            m.put(p.name(), switch (p.kind()) {
                case MATRIX, EMBEDDING -> random(arena, s++, 0.05f, shape);
                case BIAS, NORM_BIAS -> random(arena, s++, 0.01f, shape);
                case NORM_WEIGHT -> ones(arena, shape[0]);
            });
        }
        return Weights.from(c, m, "random " + c.modelType() + " weights");
    }

    private static Tensor ones(Arena arena, int n) {
        Tensor t = Tensor.allocate(arena, n);
        t.fill(1f);
        return t;
    }

    /** {@code size} texts of exactly {@code seqLen} random tokens each (no padding: the worst case). */
    public static Batch randomBatch(int size, int seqLen, int vocab, long seed) {
        Random r = new Random(seed);
        int n = size * seqLen;
        int[] ids = new int[n], lengths = new int[size];
        float[] mask = new float[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1000 + r.nextInt(vocab - 1000);
            mask[i] = 1f;
        }
        java.util.Arrays.fill(lengths, seqLen);
        return new Batch(size, seqLen, ids, new int[n], mask, lengths);
    }
}
