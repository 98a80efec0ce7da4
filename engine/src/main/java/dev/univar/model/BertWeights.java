package dev.univar.model;

import dev.univar.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT's weights under named fields, declared once ({@link #bind}): the checkpoint names and shapes of every
 * parameter, the order they are listed and written in, and the view {@link BertEncoder} computes with. The same
 * declaration binds the weights, their gradients and their packed inference form.
 *
 * <p>Query, key and value are one {@link Linear#fused} linear of three parts ({@code attention.self.query},
 * {@code .key}, {@code .value}). LayerNorm parameters are also found under {@code gamma}/{@code beta}, as old
 * TF-converted checkpoints name them.
 */
public record BertWeights(Embeddings embeddings, List<Layer> layers) {

    public record Embeddings(Tensor word, Tensor position, Tensor tokenType, Norm norm) {
    }

    public record Layer(Linear qkv, Linear attnOut, Norm attnNorm, Linear ffnIn, Linear ffnOut, Norm outNorm) {
    }

    public BertWeights {
        layers = List.copyOf(layers);
    }

    /** Declares BERT's parameters for {@code c} to {@code b}, in Hugging Face's {@code state_dict} order, and returns the view. */
    public static BertWeights bind(BertConfig c, Binder b) {
        int h = c.hiddenSize(), ff = c.intermediateSize();
        Embeddings emb = new Embeddings(
                b.embedding("embeddings.word_embeddings.weight", c.vocabSize(), h),
                b.embedding("embeddings.position_embeddings.weight", c.maxPositionEmbeddings(), h),
                b.embedding("embeddings.token_type_embeddings.weight", c.typeVocabSize(), h),
                layerNorm(b, "embeddings.LayerNorm", h));
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "encoder.layer." + i + ".";
            layers.add(new Layer(
                    b.fused(List.of(p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"), h, h, true),
                    b.linear(p + "attention.output.dense", h, h, true),
                    layerNorm(b, p + "attention.output.LayerNorm", h),
                    b.linear(p + "intermediate.dense", ff, h, true),
                    b.linear(p + "output.dense", h, ff, true),
                    layerNorm(b, p + "output.LayerNorm", h)));
        }
        return new BertWeights(emb, layers);
    }

    private static Norm layerNorm(Binder b, String name, int dim) {
        return b.norm(new Param(name + ".weight", Param.Kind.NORM_WEIGHT, dim).alias(name + ".gamma"),
                new Param(name + ".bias", Param.Kind.NORM_BIAS, dim).alias(name + ".beta"));
    }
}
