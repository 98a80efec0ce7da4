package dev.univar.model;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of a Hugging Face BERT {@code config.json} ({@code model_type} {@code bert}) that the encoder depends
 * on: post-layer-norm BERT as in the original and in all-MiniLM-L6-v2 ({@link BertWeights}, {@link BertEncoder}).
 *
 * <p>Only the size fields are required when reading; the others default to the values of Hugging Face's own
 * {@code BertConfig}, so a config that omits them means the same thing here as there.
 */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                         int intermediateSize, int maxPositionEmbeddings, int typeVocabSize, double layerNormEps,
                         String hiddenAct, int padTokenId, String modelType) implements ModelConfig {

    public static final String MODEL_TYPE = "bert";

    /** The only activation implemented: exact (erf) GELU, which HF calls "gelu". */
    public static final String GELU = "gelu";

    public BertConfig {
        ConfigJson.positive("vocab_size", vocabSize);
        ConfigJson.positive("hidden_size", hiddenSize);
        ConfigJson.positive("num_hidden_layers", numHiddenLayers);
        ConfigJson.positive("num_attention_heads", numAttentionHeads);
        ConfigJson.positive("intermediate_size", intermediateSize);
        ConfigJson.positive("max_position_embeddings", maxPositionEmbeddings);
        ConfigJson.positive("type_vocab_size", typeVocabSize);
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
        if (!MODEL_TYPE.equals(modelType))
            throw new IllegalArgumentException("model_type of a BERT config is '" + MODEL_TYPE + "', got '" + modelType + "'");
    }

    /** A BERT of these sizes for {@code univar init}: two token types, LayerNorm eps 1e-12, GELU. */
    public static BertConfig initial(int vocabSize, int padTokenId, int layers, int hidden, int heads, int intermediate,
                                     int maxPositions) {
        return new BertConfig(vocabSize, hidden, layers, heads, intermediate, maxPositions, 2, 1e-12, GELU, padTokenId,
                MODEL_TYPE);
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    @Override
    public int maxPositions() {
        return maxPositionEmbeddings;
    }

    @Override
    public List<Param> parameters() {
        return ModelConfig.declared(b -> BertWeights.bind(this, b));
    }

    /** {@code BertForXxx} checkpoints hold the encoder under {@code bert.}. */
    @Override
    public List<String> checkpointPrefixes() {
        return List.of("", "bert.");
    }

    @Override
    public EncoderGraph encoder(Ops ops) {
        return new BertEncoder(this, ops);
    }

    @Override
    public double forwardFlops(int batch, int seq) {
        double tokens = (double) batch * seq, h = hiddenSize, i = intermediateSize;
        double perLayer = tokens * (2 * 4 * h * h + 2 * 2 * h * i) + batch * 2.0 * 2 * seq * (double) seq * h;
        return perLayer * numHiddenLayers;
    }

    /** Parses the JSON text of a BERT {@code config.json} ({@link ModelConfig#fromJson}, which must find a BERT). */
    public static BertConfig fromJson(String json) {
        if (ModelConfig.fromJson(json) instanceof BertConfig c) return c;
        throw new IllegalArgumentException("not a BERT config: model_type is not '" + MODEL_TYPE + "'");
    }

    /**
     * The fields of a parsed {@code config.json} whose {@code model_type} is {@code bert}; IllegalArgumentException
     * naming the field when it is not a valid BERT config.
     */
    static BertConfig fromJson(JsonObject o) {
        return new BertConfig(
                ConfigJson.integer(o, "vocab_size", null),
                ConfigJson.integer(o, "hidden_size", null),
                ConfigJson.integer(o, "num_hidden_layers", null),
                ConfigJson.integer(o, "num_attention_heads", null),
                ConfigJson.integer(o, "intermediate_size", null),
                ConfigJson.integer(o, "max_position_embeddings", null),
                ConfigJson.integer(o, "type_vocab_size", 2),
                ConfigJson.number(o, "layer_norm_eps", 1e-12),
                ConfigJson.string(o, "hidden_act", GELU),
                ConfigJson.integer(o, "pad_token_id", 0),
                ConfigJson.string(o, "model_type", MODEL_TYPE));
    }

    @Override
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
}
