package dev.univar.io;

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
        assertEquals(c, BertConfig.read(file));
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
        IOException e = assertThrows(IOException.class, () -> BertConfig.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    private static void assertMessage(String json, String... fragments) {
        var e = assertThrows(IllegalArgumentException.class, () -> BertConfig.fromJson(json));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }
}
