package dev.univar.nn;

import dev.univar.cpu.CpuBackend;
import dev.univar.cpu.ScalarBackend;
import dev.univar.data.InputException;
import dev.univar.model.BertConfig;
import dev.univar.io.SafeTensors;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A small random BERT saved as a Hugging Face folder with a {@code vocab.txt} (not tokenizer.json) and a
 * {@code bert.} prefix on its tensor names: {@code --model DIR} must load it, and both backends must agree on it.
 */
class EmbeddingModelTest {
    @TempDir
    Path dir;

    Path writeTinyModel() throws IOException {
        int vocab = 40, hidden = 24, layers = 2, heads = 3, inter = 40, positions = 64;
        BertConfig config = BertConfig.fromJson("""
                {"vocab_size": %d, "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "intermediate_size": %d, "max_position_embeddings": %d, "type_vocab_size": 2,
                 "layer_norm_eps": 1e-12, "hidden_act": "gelu", "model_type": "bert"}""".formatted(vocab, hidden, layers, heads, inter, positions));
        Files.writeString(dir.resolve("config.json"), config.toJson());
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "value", "##s",
                "of", "care", "fair", "##ness", "liberty", ".", ",", "!"));
        while (tokens.size() < vocab) tokens.add("tok" + tokens.size());
        Files.write(dir.resolve("vocab.txt"), tokens);
        Random r = new Random(3);
        Arena arena = Arena.ofAuto();
        Map<String, Tensor> t = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, int[]> add = (name, shape) -> {
            int n = 1;
            for (int d : shape) n *= d;
            float[] v = new float[n];
            boolean gamma = name.endsWith("LayerNorm.weight");
            for (int i = 0; i < n; i++) v[i] = gamma ? 1f + 0.1f * (float) r.nextGaussian() : 0.2f * (float) r.nextGaussian();
            t.put("bert." + name, Tensor.of(arena, v, shape));
        };
        add.accept("embeddings.word_embeddings.weight", new int[]{vocab, hidden});
        add.accept("embeddings.position_embeddings.weight", new int[]{positions, hidden});
        add.accept("embeddings.token_type_embeddings.weight", new int[]{2, hidden});
        add.accept("embeddings.LayerNorm.weight", new int[]{hidden});
        add.accept("embeddings.LayerNorm.bias", new int[]{hidden});
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                add.accept(p + m + ".weight", new int[]{hidden, hidden});
                add.accept(p + m + ".bias", new int[]{hidden});
            }
            add.accept(p + "attention.output.LayerNorm.weight", new int[]{hidden});
            add.accept(p + "attention.output.LayerNorm.bias", new int[]{hidden});
            add.accept(p + "intermediate.dense.weight", new int[]{inter, hidden});
            add.accept(p + "intermediate.dense.bias", new int[]{inter});
            add.accept(p + "output.dense.weight", new int[]{hidden, inter});
            add.accept(p + "output.dense.bias", new int[]{hidden});
            add.accept(p + "output.LayerNorm.weight", new int[]{hidden});
            add.accept(p + "output.LayerNorm.bias", new int[]{hidden});
        }
        add.accept("pooler.dense.weight", new int[]{hidden, hidden}); // extra tensors are ignored
        SafeTensors.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    @Test
    void loadsAnHfFolderWithVocabTxtAndBothBackendsAgree() throws IOException {
        Path modelDir = writeTinyModel();
        List<String> texts = List.of("The values of care", "fairness, liberty!", "", "the the the the the the the the the the the the");
        try (EmbeddingModel cpu = EmbeddingModel.load(modelDir, new CpuBackend(2));
             EmbeddingModel ref = EmbeddingModel.load(modelDir, new ScalarBackend())) {
            assertEquals(24, cpu.dim());
            assertArrayEquals(new int[]{2, 5, 6, 7, 8, 9, 3}, cpu.tokenizer().encode("The values of care", 64).ids());
            float[][] a = cpu.embed(texts, 16), b = ref.embed(texts, 16);
            for (int i = 0; i < texts.size(); i++) {
                double norm = 0;
                for (int d = 0; d < a[i].length; d++) {
                    assertEquals(b[i][d], a[i][d], 1e-5, "text " + i + " dim " + d);
                    norm += a[i][d] * a[i][d];
                }
                assertEquals(1.0, norm, 1e-5);
            }
            // A text's vector does not depend on what it is batched with.
            float[] alone = cpu.embed(List.of(texts.get(0)), 16)[0];
            assertArrayEquals(alone, a[0], 1e-5f);
        }
    }

    /** A one-shot job of one short text runs on the reference kernels; its vector equals the Vector API path's. */
    @Test
    void oneShotJobsAgreeWithTheVectorPath() throws IOException {
        Path modelDir = writeTinyModel();
        try (EmbeddingModel m = EmbeddingModel.load(modelDir, new CpuBackend(2))) {
            for (String text : List.of("The values of care", "fairness, liberty!", "")) {
                var batch = dev.univar.text.Batch.pad(new dev.univar.text.Encoding[]{m.tokenizer().encode(text, 16)}, m.tokenizer().padId());
                assertTrue((long) batch.size() * batch.seqLen() <= EmbeddingModel.ONE_SHOT_MAX_POSITIONS);
                float[] oneShot = m.embed(batch, true)[0], vector = m.embed(batch, false)[0];
                assertArrayEquals(vector, oneShot, 1e-6f, text);
            }
        }
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> EmbeddingModel.load(empty, new ScalarBackend()));
        assertTrue(e.getMessage().contains("config.json is missing"), e.getMessage());
    }

    /** {@code model.safetensors} of {@code modelDir} rewritten with {@code edit} applied to copies of its tensors. */
    static void editWeights(Path modelDir, java.util.function.Consumer<Map<String, Tensor>> edit) throws IOException {
        Path file = modelDir.resolve("model.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            try (SafeTensors st = SafeTensors.open(file)) {
                for (String name : st.names()) {
                    Tensor src = st.tensor(name);
                    t.put(name, Tensor.of(arena, src.toArray(), src.shape()));
                }
            }
            edit.accept(t);
            SafeTensors.write(file, t, Map.of("format", "pt"));
        }
    }

    /** Issue 21: one NaN weight made every embedding NaN and the job succeed; now the load fails, naming it. */
    @Test
    void nanWeightFailsTheLoadNamingFileAndTensor() throws IOException {
        Path modelDir = writeTinyModel();
        editWeights(modelDir, t -> t.get("bert.embeddings.LayerNorm.weight").set(17, Float.NaN));
        InputException e = assertThrows(InputException.class, () -> EmbeddingModel.load(modelDir, new ScalarBackend()).close());
        assertEquals(modelDir.resolve("model.safetensors") + ": tensor 'bert.embeddings.LayerNorm.weight' holds NaN at index 17;"
                + " a model with such weights computes NaN embeddings", e.getMessage());
    }

    /**
     * Issue 21, defence in depth: finite weights that overflow (LayerNorm scaled to near Float.MAX_VALUE) give a
     * non-finite embedding; the batch fails naming the model instead of handing NaN on, on both backends and both
     * embed paths.
     */
    @Test
    void nonFiniteOutputFailsTheBatchNamingTheModel() throws IOException {
        Path modelDir = writeTinyModel();
        editWeights(modelDir, t -> {
            t.get("bert.encoder.layer.1.output.LayerNorm.weight").fill(3e38f);
            t.get("bert.encoder.layer.1.output.LayerNorm.bias").fill(3e38f);
        });
        for (var backend : List.<java.util.function.Supplier<dev.univar.tensor.Backend>>of(ScalarBackend::new, () -> new CpuBackend(2))) {
            try (EmbeddingModel m = EmbeddingModel.load(modelDir, backend.get())) {
                InputException e = assertThrows(InputException.class, () -> m.embed(List.of("the values of care", "liberty"), 16));
                assertEquals(modelDir, e.file());
                assertTrue(e.getMessage().startsWith(modelDir + ": the model computed a non-finite embedding (NaN in dimension 0,"
                        + " for one of a batch of 2 texts)"), e.getMessage());
                var batch = dev.univar.text.Batch.pad(new dev.univar.text.Encoding[]{m.tokenizer().encode("fairness", 16)},
                        m.tokenizer().padId());
                for (boolean wholeJob : new boolean[]{true, false})
                    assertThrows(InputException.class, () -> m.embed(batch, wholeJob), "wholeJob " + wholeJob);
            }
        }
    }
}
