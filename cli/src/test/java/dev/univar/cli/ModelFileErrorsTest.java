package dev.univar.cli;

import dev.univar.io.SafeTensors;
import dev.univar.model.BertConfig;
import dev.univar.nn.ModelInit;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21: a broken model folder (non-finite weights, weights that overflow, a malformed tokenizer or config) stops
 * {@code embed}, {@code tokenize} and {@code train} with exit code 1 and one line on stderr naming the file, instead
 * of NaN embeddings with exit code 0 or a Java exception.
 */
class ModelFileErrorsTest {
    @TempDir
    Path dir;

    /** A 1-layer random BERT (hidden 32) over a small BERT-style vocabulary. */
    private Path tinyModel() throws IOException {
        List<String> vocab = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (String w : "the values of care fairness liberty on topic is good certainly i think as an ai".split(" ")) vocab.add(w);
        while (vocab.size() < 64) vocab.add("tok" + vocab.size());
        Path file = Files.write(dir.resolve("vocab.txt"), vocab);
        Path model = dir.resolve("tiny");
        ModelInit.create(file, v -> BertConfig.initial(v.size(), v.padId(), 1, 32, 2, 64, 512), model, 0);
        return model;
    }

    private static void editWeights(Path model, Consumer<Map<String, Tensor>> edit) throws IOException {
        Path file = model.resolve("model.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            try (SafeTensors st = SafeTensors.open(file)) {
                for (String name : st.names()) t.put(name, Tensor.of(arena, st.tensor(name).toArray(), st.entry(name).shape()));
            }
            edit.accept(t);
            SafeTensors.write(file, t, Map.of("format", "pt"));
        }
    }

    /**
     * Exit code 1 and exactly one error line on stderr, "COMMAND: error: " + expected (a prefix of the line), with no
     * exception or stack trace anywhere (train prints progress lines before it).
     */
    private static void assertOneLineError(Run r, String command, String expected) {
        assertEquals(1, r.exit(), r.err());
        List<String> errors = r.err().lines().filter(l -> l.contains(": error: ")).toList();
        assertEquals(1, errors.size(), r.err());
        assertTrue(errors.get(0).startsWith(command + ": error: " + expected), errors.get(0));
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    private Run embed(Path model, Path output) throws IOException {
        Path input = Files.write(dir.resolve("in.txt"), List.of("the values of care", "fairness", "liberty on topic"),
                StandardCharsets.UTF_8);
        return Run.of("embed", "--input", input.toString(), "--output", output.toString(), "--model", model.toString(),
                "--max-length", "32", "--threads", "1");
    }

    @Test
    void nanWeightStopsEmbedAndTrainNamingFileAndTensor() throws IOException {
        Path model = tinyModel();
        Path output = dir.resolve("out.npy");
        Run intact = embed(model, output);
        assertEquals(0, intact.exit(), intact.err());
        Files.delete(output);
        editWeights(model, t -> t.get("embeddings.LayerNorm.weight").set(17, Float.NaN));
        assertOneLineError(embed(model, output), "univar embed",
                model.resolve("model.safetensors") + ": tensor 'embeddings.LayerNorm.weight' holds NaN at index 17");
        assertFalse(Files.exists(output));

        // train loads its base model the same way
        StringBuilder csv = new StringBuilder("question_id,question,answer,model\n");
        for (int q = 0; q < 6; q++)
            for (int m = 0; m < 2; m++)
                csv.append("q").append(q).append(",Is topic ").append(q).append(" good?,")
                        .append(m == 0 ? "certainly the values of care" : "i think liberty").append(",llm").append(m).append('\n');
        Path corpus = Files.writeString(dir.resolve("corpus.csv"), csv.toString());
        Run train = Run.of("train", "--corpus", corpus.toString(), "--base", model.toString(), "--output",
                dir.resolve("run").toString(), "--steps", "2", "--batch-size", "4", "--micro-batch", "4", "--max-length", "16",
                "--threads", "1");
        assertOneLineError(train, "univar train",
                model.resolve("model.safetensors") + ": tensor 'embeddings.LayerNorm.weight' holds NaN at index 17");
    }

    @Test
    void overflowingModelStopsEmbedNamingTheModel() throws IOException {
        Path model = tinyModel();
        editWeights(model, t -> {
            t.get("encoder.layer.0.output.LayerNorm.weight").fill(3e38f);
            t.get("encoder.layer.0.output.LayerNorm.bias").fill(3e38f);
        });
        Path output = dir.resolve("out.npy");
        assertOneLineError(embed(model, output), "univar embed", model + ": the model computed a non-finite embedding");
        assertFalse(Files.exists(output));
    }

    @Test
    void malformedTokenizerAndConfigAreOneLine() throws IOException {
        Path model = tinyModel();
        Path input = Files.write(dir.resolve("in.txt"), List.of("the values of care"), StandardCharsets.UTF_8);
        Path tokenizerJson = model.resolve("tokenizer.json");
        Files.writeString(tokenizerJson, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": -5, \"[CLS]\": 0}}}");
        assertOneLineError(Run.of("tokenize", "--input", input.toString(), "--model", model.toString()), "univar tokenize",
                tokenizerJson + ": model.vocab: id -5 for '[UNK]' is negative");
        Files.writeString(tokenizerJson, "{}");
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed",
                tokenizerJson + ": no 'model' object; expected a Hugging Face tokenizer file");
        Files.writeString(tokenizerJson, "{\"model\": ");
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed",
                tokenizerJson + ": not valid JSON (line 1 column 11: end of input)");
        Files.delete(tokenizerJson);

        Path config = model.resolve("config.json");
        String good = Files.readString(config);
        Files.writeString(config, good.replace("\"hidden_size\": 32", "\"hidden_size\": 0"));
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed", config + ": hidden_size must be positive, got 0");
        Files.writeString(config, good.substring(0, good.length() / 2));
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed", config + ": not valid JSON (line ");
        assertFalse(Files.exists(dir.resolve("a.npy")));
    }

    /**
     * The model layer's refusals, for embed and train alike: a config.json of an architecture the engine does not
     * run, a tensor missing from model.safetensors, and one of the wrong shape. One line naming the file and the field
     * or tensor, exit code 1, nothing written.
     */
    @Test
    void unknownArchitectureAndMissingOrMisShapedTensorsAreOneLine() throws IOException {
        Path model = tinyModel();
        Path config = model.resolve("config.json"), weights = model.resolve("model.safetensors");
        String good = Files.readString(config);
        Files.writeString(config, good.replace("\"model_type\": \"bert\"", "\"model_type\": \"llama\""));
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed",
                config + ": field 'model_type' is 'llama', an architecture univar does not run (it runs bert)");
        Files.writeString(config, good);

        editWeights(model, t -> t.remove("encoder.layer.0.output.dense.weight"));
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed",
                "tensor 'encoder.layer.0.output.dense.weight' is missing from " + weights);
        editWeights(model, t -> t.put("encoder.layer.0.output.dense.weight", Tensor.allocate(Arena.ofAuto(), 32, 32)));
        assertOneLineError(embed(model, dir.resolve("a.npy")), "univar embed",
                "tensor 'encoder.layer.0.output.dense.weight' in " + weights + " has shape [32, 32], expected [32, 64]");
        assertFalse(Files.exists(dir.resolve("a.npy")));
    }
}
