package dev.univar.io;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.univar.data.InputException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fields of a Hugging Face BERT {@code config.json} that the encoder depends on.
 *
 * <p>Only the size fields are required when reading; the others default to the values of Hugging Face's own
 * {@code BertConfig}, so a config that omits them means the same thing here as there.
 */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                         int intermediateSize, int maxPositionEmbeddings, int typeVocabSize, double layerNormEps,
                         String hiddenAct, int padTokenId, String modelType) {

    /** The only activation implemented: exact (erf) GELU, which HF calls "gelu". */
    public static final String GELU = "gelu";

    public BertConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        if (!(layerNormEps > 0) || Double.isInfinite(layerNormEps))
            throw new IllegalArgumentException("layer_norm_eps must be positive, got " + layerNormEps);
        if (!GELU.equals(hiddenAct))
            throw new IllegalArgumentException("unsupported hidden_act '" + hiddenAct + "': only '" + GELU
                    + "' (erf GELU) is implemented");
        if (padTokenId < 0 || padTokenId >= vocabSize)
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " is outside the vocabulary of "
                    + vocabSize);
        if (modelType == null || modelType.isEmpty()) throw new IllegalArgumentException("model_type is empty");
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Reads {@code config.json}; every problem is an IOException of one line naming the file and, where there is
     * one, the field: "config.json: hidden_size must be positive, got 0".
     */
    public static BertConfig read(Path file) throws IOException {
        String json;
        try {
            json = JsonInput.readText(file);
        } catch (InputException e) {
            throw new IOException(e.getMessage(), e);
        }
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the JSON text of a {@code config.json}; unknown fields are ignored. IllegalArgumentException, naming
     * the field, when it is not a valid BERT config.
     */
    public static BertConfig fromJson(String json) {
        JsonElement root = JsonInput.parse(json);
        if (!root.isJsonObject())
            throw new IllegalArgumentException("not a JSON object; expected a Hugging Face BERT config");
        JsonObject o = root.getAsJsonObject();
        return new BertConfig(
                intField(o, "vocab_size", null),
                intField(o, "hidden_size", null),
                intField(o, "num_hidden_layers", null),
                intField(o, "num_attention_heads", null),
                intField(o, "intermediate_size", null),
                intField(o, "max_position_embeddings", null),
                intField(o, "type_vocab_size", 2),
                doubleField(o, "layer_norm_eps", 1e-12),
                stringField(o, "hidden_act", GELU),
                intField(o, "pad_token_id", 0),
                stringField(o, "model_type", "bert"));
    }

    /** The config as {@code config.json} text, in HF field names. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", new String[]{"BertModel"});
        m.put("model_type", modelType);
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("intermediate_size", intermediateSize);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("type_vocab_size", typeVocabSize);
        m.put("layer_norm_eps", layerNormEps);
        m.put("hidden_act", hiddenAct);
        m.put("pad_token_id", padTokenId);
        return new GsonBuilder().setPrettyPrinting().create().toJson(m) + "\n";
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, toJson(), StandardCharsets.UTF_8);
    }

    private static int intField(JsonObject o, String name, Integer dflt) {
        JsonElement v = o.get(name);
        if (v == null || v.isJsonNull()) {
            if (dflt == null) throw new IllegalArgumentException("missing field '" + name + "'");
            return dflt;
        }
        try {
            return v.getAsBigDecimal().intValueExact();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("field '" + name + "' must be an integer, found " + JsonInput.describe(v));
        }
    }

    private static double doubleField(JsonObject o, String name, double dflt) {
        JsonElement v = o.get(name);
        if (v == null || v.isJsonNull()) return dflt;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber())
            throw new IllegalArgumentException("field '" + name + "' must be a number, found " + JsonInput.describe(v));
        return v.getAsDouble();
    }

    private static String stringField(JsonObject o, String name, String dflt) {
        JsonElement v = o.get(name);
        if (v == null || v.isJsonNull()) return dflt;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
            throw new IllegalArgumentException("field '" + name + "' must be a string, found " + JsonInput.describe(v));
        return v.getAsString();
    }
}
