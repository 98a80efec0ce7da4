package dev.univar.bench.jmh;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
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
    public static BertWeights randomWeights(Arena arena, BertConfig c, long seed) {
        int h = c.hiddenSize(), ff = c.intermediateSize();
        Map<String, Tensor> m = new LinkedHashMap<>();
        long[] s = {seed};
        java.util.function.BiFunction<Float, int[], Tensor> rnd = (scale, shape) -> random(arena, s[0]++, scale, shape);
        m.put("embeddings.word_embeddings.weight", rnd.apply(0.05f, new int[]{c.vocabSize(), h}));
        m.put("embeddings.position_embeddings.weight", rnd.apply(0.05f, new int[]{c.maxPositionEmbeddings(), h}));
        m.put("embeddings.token_type_embeddings.weight", rnd.apply(0.05f, new int[]{c.typeVocabSize(), h}));
        m.put("embeddings.LayerNorm.weight", ones(arena, h));
        m.put("embeddings.LayerNorm.bias", rnd.apply(0.01f, new int[]{h}));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "encoder.layer." + i + ".";
            for (String name : new String[]{"attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense"}) {
                m.put(p + name + ".weight", rnd.apply(0.05f, new int[]{h, h}));
                m.put(p + name + ".bias", rnd.apply(0.01f, new int[]{h}));
            }
            m.put(p + "intermediate.dense.weight", rnd.apply(0.05f, new int[]{ff, h}));
            m.put(p + "intermediate.dense.bias", rnd.apply(0.01f, new int[]{ff}));
            m.put(p + "output.dense.weight", rnd.apply(0.05f, new int[]{h, ff}));
            m.put(p + "output.dense.bias", rnd.apply(0.01f, new int[]{h}));
            for (String ln : new String[]{"attention.output.LayerNorm", "output.LayerNorm"}) {
                m.put(p + ln + ".weight", ones(arena, h));
                m.put(p + ln + ".bias", rnd.apply(0.01f, new int[]{h}));
            }
        }
        return BertWeights.from(c, m, "random MiniLM-shaped weights");
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
