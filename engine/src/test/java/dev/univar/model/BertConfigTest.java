package dev.univar.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class BertConfigTest {
    static final String MINILM = """
            {"_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"],
             "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false, "hidden_act": "gelu",
             "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
             "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
             "num_attention_heads": 12, "num_hidden_layers": 6, "pad_token_id": 0,
             "position_embedding_type": "absolute", "transformers_version": "4.8.2", "type_vocab_size": 2,
             "use_cache": true, "vocab_size": 30522}""";

    @Test
    void readsHuggingFaceConfigAndRoundTrips(@TempDir Path dir) throws IOException {
        BertConfig c = BertConfig.fromJson(MINILM);
        assertEquals(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0, "bert"), c);
        assertEquals(32, c.headDim());
        Path file = dir.resolve("config.json");
        c.write(file);
        assertEquals(c, ModelConfig.read(file));
        assertEquals(c, ModelConfig.fromJson(MINILM), "model_type bert chooses BERT");
        assertTrue(Files.readString(file).contains("\"num_attention_heads\": 12"));
    }

    @Test
    void defaultsOptionalFields() {
        BertConfig c = BertConfig.fromJson("""
                {"vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 128, "max_position_embeddings": 32}""");
        assertEquals(2, c.typeVocabSize());
        assertEquals(1e-12, c.layerNormEps());
        assertEquals("gelu", c.hiddenAct());
        assertEquals("bert", c.modelType());
    }

    @Test
    void rejectsInvalidConfigs(@TempDir Path dir) throws IOException {
        assertMessage(MINILM.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 5"),
                "not divisible", "384", "5");
        assertMessage(MINILM.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"relu\""), "relu");
        assertMessage(MINILM.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu_new\""), "gelu_new");
        assertMessage(MINILM.replace("\"vocab_size\": 30522", "\"vocab_sizes\": 30522"), "vocab_size");
        assertMessage(MINILM.replace("\"hidden_size\": 384", "\"hidden_size\": 384.5"), "hidden_size");
        assertMessage(MINILM.replace("\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": 0"), "layer_norm_eps");
        Path bad = Files.writeString(dir.resolve("config.json"), "{oops");
        IOException e = assertThrows(IOException.class, () -> ModelConfig.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    private static void assertMessage(String json, String... fragments) {
        var e = assertThrows(IllegalArgumentException.class, () -> BertConfig.fromJson(json));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    /** Issue 21: config.json problems are one line naming the file and the field, never a parser's exception. */
    @Test
    void configFileProblemsAreOneLineNamingFileAndField(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        assertReadFails(file, "{\"vocab_size\": 30522,\n  \"hidden_size\": 384\n  \"x\": 1}", "not valid JSON (line 3 column 4: unterminated object)");
        assertReadFails(file, "{\"vocab_size\": 3", "not valid JSON (line 1 column 17: end of input)");
        assertReadFails(file, "{} x", "not valid JSON (line 1 column 5: unexpected text)");
        assertReadFails(file, "", "empty file");
        assertReadFails(file, "[1, 2]", "not a JSON object");
        assertReadFails(file, "{}", "missing field 'vocab_size'");
        assertReadFails(file, MINILM.replace("\"hidden_size\": 384", "\"hidden_size\": 0"), "hidden_size must be positive, got 0");
        assertReadFails(file, MINILM.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7"),
                "hidden_size 384 is not divisible by num_attention_heads 7");
        assertReadFails(file, MINILM.replace("\"vocab_size\": 30522", "\"vocab_size\": 1e12"),
                "field 'vocab_size' must be an integer, found the number 1e12");
        assertReadFails(file, MINILM.replace("\"hidden_size\": 384", "\"hidden_size\": {\"a\": 1}"),
                "field 'hidden_size' must be an integer, found an object");
        assertReadFails(file, MINILM.replace("\"pad_token_id\": 0", "\"pad_token_id\": 40000"), "pad_token_id 40000 is outside");
        Files.write(file, new byte[]{'{', '\n', '"', (byte) 0xff, '"', '}'});
        IOException e = assertThrows(IOException.class, () -> ModelConfig.read(file));
        assertEquals(file + ":2: not valid UTF-8 text", e.getMessage());
        Path missing = dir.resolve("nothing/config.json");
        e = assertThrows(IOException.class, () -> ModelConfig.read(missing));
        assertEquals(missing + ": no such file", e.getMessage());
    }

    /** The architecture is chosen by model_type; one the engine does not run is one line naming the file and field. */
    @Test
    void unknownModelTypeIsOneLineNamingTheField(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        assertReadFails(file, MINILM.replace("\"model_type\": \"bert\"", "\"model_type\": \"llama\""),
                "field 'model_type' is 'llama', an architecture univar does not run (it runs bert");
        assertReadFails(file, MINILM.replace("\"model_type\": \"bert\"", "\"model_type\": 3"),
                "field 'model_type' must be a string, found the number 3");
        assertEquals("bert", ModelConfig.read(writeJson(file, MINILM.replace("\"model_type\": \"bert\",", ""))).modelType(),
                "no model_type: BERT, as univar's older folders");
    }

    private static Path writeJson(Path file, String json) throws IOException {
        Files.writeString(file, json);
        return file;
    }

    private static void assertReadFails(Path file, String json, String fragment) throws IOException {
        Files.writeString(file, json);
        IOException e = assertThrows(IOException.class, () -> ModelConfig.read(file));
        String m = e.getMessage();
        assertTrue(m.startsWith(file + ": "), m);
        assertTrue(m.contains(fragment), m);
        assertFalse(m.contains("\n") || m.contains("Exception") || m.contains("gson") || m.contains("$"), m);
    }
}
