package dev.univar.model;

import dev.univar.data.InputException;
import dev.univar.io.SafeTensors;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Weights and BERT's weight view over a tiny synthetic model, so that every naming and shape rule is exercised quickly. */
class WeightsTest {
    static final BertConfig TINY = new BertConfig(10, 8, 2, 2, 16, 6, 2, 1e-12, "gelu", 0, "bert");

    @TempDir
    Path dir;

    /** HF-named tensors of {@link #TINY}; tensor k holds k * 1000 + element index, so mix-ups show. */
    static Map<String, Tensor> tinyTensors(Arena arena) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        int h = 8, ff = 16;
        add(m, arena, "embeddings.word_embeddings.weight", 10, h);
        add(m, arena, "embeddings.position_embeddings.weight", 6, h);
        add(m, arena, "embeddings.token_type_embeddings.weight", 2, h);
        add(m, arena, "embeddings.LayerNorm.weight", h);
        add(m, arena, "embeddings.LayerNorm.bias", h);
        for (int i = 0; i < 2; i++) {
            String p = "encoder.layer." + i + ".";
            for (String s : new String[]{"attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense"}) {
                add(m, arena, p + s + ".weight", h, h);
                add(m, arena, p + s + ".bias", h);
            }
            add(m, arena, p + "attention.output.LayerNorm.weight", h);
            add(m, arena, p + "attention.output.LayerNorm.bias", h);
            add(m, arena, p + "intermediate.dense.weight", ff, h);
            add(m, arena, p + "intermediate.dense.bias", ff);
            add(m, arena, p + "output.dense.weight", h, ff);
            add(m, arena, p + "output.dense.bias", h);
            add(m, arena, p + "output.LayerNorm.weight", h);
            add(m, arena, p + "output.LayerNorm.bias", h);
        }
        return m;
    }

    private static void add(Map<String, Tensor> m, Arena arena, String name, int... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.size(); i++) t.set(i, m.size() * 1000 + i);
        m.put(name, t);
    }

    private Path writeFolder(Map<String, Tensor> tensors) throws IOException {
        TINY.write(dir.resolve(ModelConfig.CONFIG_FILE));
        SafeTensors.write(dir.resolve(Weights.WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        return dir;
    }

    @Test
    void loadsNamedFieldsAndWritesBack() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> src = tinyTensors(arena);
            try (Weights.Loaded m = Weights.open(writeFolder(src))) {
                BertWeights w = BertWeights.bind(TINY, Binder.of(m.weights()));
                assertEquals(TINY, m.config());
                assertEquals(2, w.layers().size());
                assertArrayEquals(src.get("embeddings.word_embeddings.weight").toArray(),
                        w.embeddings().word().toArray());
                assertArrayEquals(src.get("encoder.layer.1.attention.self.key.weight").toArray(),
                        w.layers().get(1).qkv().part(1).weight().toArray());
                assertArrayEquals(src.get("encoder.layer.1.attention.self.value.bias").toArray(),
                        w.layers().get(1).qkv().part(2).bias().toArray());
                assertArrayEquals(src.get("encoder.layer.0.output.dense.weight").toArray(),
                        w.layers().get(0).ffnOut().weight().toArray());
                assertArrayEquals(new int[]{16, 8}, w.layers().get(0).ffnIn().weight().shape());

                Map<String, Tensor> back = m.weights().named();
                assertEquals(List.copyOf(src.keySet()), List.copyOf(back.keySet()), "declaration order is Hugging Face's");
                assertEquals(src.keySet(), back.keySet());
                for (String name : src.keySet())
                    assertArrayEquals(src.get(name).toArray(), back.get(name).toArray(), name);
            }
        }
    }

    @Test
    void acceptsBertPrefixLegacyLayerNormNamesAndIgnoresExtras() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> src = tinyTensors(arena);
            Map<String, Tensor> prefixed = new LinkedHashMap<>();
            src.forEach((k, v) -> prefixed.put("bert." + k.replace("embeddings.LayerNorm.weight",
                    "embeddings.LayerNorm.gamma").replace("embeddings.LayerNorm.bias", "embeddings.LayerNorm.beta"), v));
            prefixed.put("bert.pooler.dense.weight", Tensor.allocate(arena, 8, 8));
            prefixed.put("cls.predictions.bias", Tensor.allocate(arena, 10));
            try (Weights.Loaded m = Weights.open(writeFolder(prefixed))) {
                BertWeights w = BertWeights.bind(TINY, Binder.of(m.weights()));
                assertArrayEquals(src.get("embeddings.LayerNorm.weight").toArray(), w.embeddings().norm().weight().toArray());
                assertArrayEquals(src.get("encoder.layer.1.output.LayerNorm.bias").toArray(),
                        w.layers().get(1).outNorm().bias().toArray());
                assertEquals(src.keySet(), m.weights().named().keySet(), "written back under the canonical names");
            }
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> src = tinyTensors(arena);
            src.remove("encoder.layer.1.attention.self.value.bias");
            Path folder = writeFolder(src);
            IOException e = assertThrows(IOException.class, () -> Weights.open(folder).close());
            assertTrue(e.getMessage().contains("'encoder.layer.1.attention.self.value.bias' is missing"),
                    e.getMessage());
            assertTrue(e.getMessage().contains(Weights.WEIGHTS_FILE), e.getMessage());
        }
    }

    @Test
    void misShapedTensorNamesExpectedAndFound() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> src = tinyTensors(arena);
            // the [in, out] layout of an ONNX MatMul, not PyTorch's [out, in]
            src.put("encoder.layer.0.intermediate.dense.weight", Tensor.allocate(arena, 8, 16));
            Path folder = writeFolder(src);
            IOException e = assertThrows(IOException.class, () -> Weights.open(folder).close());
            assertTrue(e.getMessage().contains("'encoder.layer.0.intermediate.dense.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("shape [8, 16], expected [16, 8]"), e.getMessage());
            assertTrue(e.getMessage().contains(Weights.WEIGHTS_FILE), e.getMessage());
        }
    }

    @Test
    void layersBeyondTheConfigAreAnError() {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> src = tinyTensors(arena);
            src.put("encoder.layer.2.output.dense.bias", Tensor.allocate(arena, 8));
            var e = assertThrows(IllegalArgumentException.class, () -> Weights.from(TINY, src, "test map"));
            assertTrue(e.getMessage().contains("encoder.layer.2"), e.getMessage());
        }
    }

    /** Issue 21: one NaN in a LayerNorm weight made every embedding NaN, with exit code 0. */
    @Test
    void nonFiniteWeightsAreRefusedNamingFileTensorAndIndex() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> src = tinyTensors(arena);
            src.get("embeddings.LayerNorm.weight").set(5, Float.NaN);
            Path folder = writeFolder(src);
            InputException e = assertThrows(InputException.class, () -> Weights.open(dir).close());
            assertEquals(folder.resolve(Weights.WEIGHTS_FILE), e.file());
            assertTrue(e.getMessage().startsWith(folder.resolve(Weights.WEIGHTS_FILE)
                    + ": tensor 'embeddings.LayerNorm.weight' holds NaN at index 5"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());

            src = tinyTensors(arena);
            Tensor word = src.get("embeddings.word_embeddings.weight");
            word.set(3 * 8 + 2, Float.NEGATIVE_INFINITY);
            word.set(9 * 8 + 7, Float.POSITIVE_INFINITY);
            writeFolder(src);
            e = assertThrows(InputException.class, () -> Weights.open(dir).close());
            assertTrue(e.getMessage().contains("tensor 'embeddings.word_embeddings.weight' holds -Infinity at index 26 "
                    + "(row 3, column 2), and 1 more non-finite values"), e.getMessage());

            // the last element of the last tensor, and a legacy-named (bert.) checkpoint
            src = tinyTensors(arena);
            Map<String, Tensor> prefixed = new LinkedHashMap<>();
            src.forEach((k, v) -> prefixed.put("bert." + k, v));
            prefixed.get("bert.encoder.layer.1.output.LayerNorm.bias").set(7, Float.POSITIVE_INFINITY);
            writeFolder(prefixed);
            e = assertThrows(InputException.class, () -> Weights.open(dir).close());
            assertTrue(e.getMessage().contains("tensor 'bert.encoder.layer.1.output.LayerNorm.bias' holds +Infinity at index 7"),
                    e.getMessage());
        }
    }

    /** The branch-free scan agrees with Float.isFinite on edge values, at every position and for odd lengths. */
    @Test
    void finitenessScanFindsEveryNonFiniteValue() {
        float[] finite = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -3.3e38f};
        float[] nonFinite = {Float.NaN, Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xffffffff),
                Float.intBitsToFloat(0x7f800001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 1; n <= 9; n++) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = finite[i % finite.length];
                assertTrue(Weights.allFinite(Tensor.of(arena, v, n).data(), n), "n=" + n);
                for (int at = 0; at < n; at++)
                    for (float bad : nonFinite) {
                        float[] w = v.clone();
                        w[at] = bad;
                        assertFalse(Weights.allFinite(Tensor.of(arena, w, n).data(), n), "n=" + n + " at=" + at + " " + bad);
                    }
            }
            // longer than one heap chunk (4,096 pairs): both sides of the chunk boundaries and the odd tail
            int n = 20_001;
            Tensor big = Tensor.allocate(arena, n);
            for (int i = 0; i < n; i++) big.set(i, (float) Math.sin(i) * 1e30f);
            assertTrue(Weights.allFinite(big.data(), n));
            for (int at : new int[]{0, 8191, 8192, 8193, 16383, 16384, 19999, 20000}) {
                float keep = big.get(at);
                big.set(at, Float.NaN);
                assertFalse(Weights.allFinite(big.data(), n), "at " + at);
                big.set(at, keep);
            }
        }
    }
}
