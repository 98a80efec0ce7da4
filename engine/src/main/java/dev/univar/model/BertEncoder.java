package dev.univar.model;

import dev.univar.tensor.Activation;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;

/**
 * BERT's encoder (post-layer-norm, as in the original BERT and all-MiniLM-L6-v2): embeddings (word + position +
 * token type) and LayerNorm, then per layer self-attention, residual + LayerNorm, GELU feed-forward, residual +
 * LayerNorm. {@link #forward} serves inference and training ({@link Ops}); {@link #backward} is its exact reverse.
 *
 * <p>Memory per token in training is about {@code layers × (8 × hidden + 2 × intermediate)} floats, plus
 * {@code layers × heads × seq} floats of attention probabilities; at inference one layer's worth, the layers
 * computing in place in one hidden-state buffer.
 */
final class BertEncoder implements EncoderGraph {

    private final BertConfig config;
    private final Ops ops;
    private BertWeights weights;

    private Arena arena;
    private int capTokens;
    private long capProbs;

    /** x[0]: embeddings after LayerNorm; x[l + 1]: output of layer l. At inference one buffer for all. */
    private Tensor[] x;
    private Tensor embSum, attnOut, ffnOut;
    private Ops.NormSaved embNorm;
    private LayerActs[] acts;
    // Scratch of the backward: dX and dY trade places layer by layer.
    private Tensor dY, dF, dContext;
    private Ops.Qkv dQkv;

    /** What one layer computes; at inference one set serves every layer and keeps nothing. */
    private record LayerActs(Ops.Qkv qkv, Tensor probs, Tensor context, Tensor h1, Ops.NormSaved norm1,
                             Tensor ffnPre, Tensor ffnAct, Ops.NormSaved norm2) {
    }

    BertEncoder(BertConfig config, Ops ops) {
        this.config = config;
        this.ops = ops;
    }

    @Override
    public void bind(Binder weights) {
        this.weights = BertWeights.bind(config, weights);
    }

    private Tensor x(int i) {
        return x[ops.training() ? i : 0];
    }

    private LayerActs layer(int i) {
        return acts[ops.training() ? i : 0];
    }

    @Override
    public Tensor forward(Batch batch, Tensor mask) {
        int bs = batch.size(), seq = batch.seqLen(), tokens = bs * seq;
        int hidden = config.hiddenSize(), heads = config.numAttentionHeads(), headDim = config.headDim();
        float eps = (float) config.layerNormEps();
        ensureCapacity(tokens, ops.training() ? (long) bs * heads * seq * seq : 0);

        BertWeights.Embeddings e = weights.embeddings();
        ops.embeddings(batch, e.word(), e.position(), e.tokenType(), embSum, hidden);
        ops.layerNorm(embSum, null, e.norm(), eps, x(0), embNorm, tokens, hidden);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            BertWeights.Layer l = weights.layers().get(i);
            LayerActs a = layer(i);
            ops.projectQkv(x(i), l.qkv(), a.qkv(), tokens);
            ops.attention(a.qkv(), mask, a.context(), a.probs(), bs, seq, heads, headDim);
            ops.linear(a.context(), l.attnOut(), Activation.NONE, null, attnOut, tokens);
            ops.layerNorm(attnOut, x(i), l.attnNorm(), eps, a.h1(), a.norm1(), tokens, hidden);
            ops.linear(a.h1(), l.ffnIn(), Activation.GELU, a.ffnPre(), a.ffnAct(), tokens);
            ops.linear(a.ffnAct(), l.ffnOut(), Activation.NONE, null, ffnOut, tokens);
            ops.layerNorm(ffnOut, a.h1(), l.outNorm(), eps, x(i + 1), a.norm2(), tokens, hidden);
        }
        return x(config.numHiddenLayers()).rows(0, tokens);
    }

    @Override
    public void backward(Batch batch, Tensor mask, Tensor dHidden, Binder grads) {
        int bs = batch.size(), seq = batch.seqLen(), tokens = bs * seq;
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = config.headDim();
        BertWeights g = BertWeights.bind(config, grads);
        // dX holds the gradient of the current layer's output; the inputs' gradients are summed by accumulating
        // products into the residual branch's gradient (no separate adds), then dX and dY trade places.
        Tensor dX = dHidden;
        for (int i = config.numHiddenLayers() - 1; i >= 0; i--) {
            BertWeights.Layer w = weights.layers().get(i), gl = g.layers().get(i);
            LayerActs a = layer(i);
            // x[i+1] = LN(ffnOut + h1): dY is the gradient of both ffnOut and h1.
            ops.layerNormBackward(dX, a.norm2(), w.outNorm(), gl.outNorm(), dY, tokens, hidden);
            ops.linearBackward(dY, a.ffnAct(), w.ffnOut(), gl.ffnOut(), dF, false, tokens);
            ops.activationBackward(Activation.GELU, a.ffnPre(), dF, dF, (long) tokens * inter);
            ops.linearBackward(dF, a.h1(), w.ffnIn(), gl.ffnIn(), dY, true, tokens); // dH1 = dY + dF · W
            // h1 = LN(attnOut + x[i]): dX is now the gradient of both attnOut and x[i].
            ops.layerNormBackward(dY, a.norm1(), w.attnNorm(), gl.attnNorm(), dX, tokens, hidden);
            ops.linearBackward(dX, a.context(), w.attnOut(), gl.attnOut(), dContext, false, tokens);
            ops.attentionBackward(a.qkv(), mask, a.probs(), dContext, dQkv, bs, seq, heads, headDim);
            // d x[i] = dX (residual) + dQ · Wq + dK · Wk + dV · Wv, accumulated in place.
            ops.projectQkvBackward(dQkv, x(i), w.qkv(), gl.qkv(), dX, tokens);
        }
        BertWeights.Embeddings we = weights.embeddings(), ge = g.embeddings();
        ops.layerNormBackward(dX, embNorm, we.norm(), ge.norm(), dY, tokens, hidden);
        ops.embeddingsBackward(batch, dY, ge.word(), ge.position(), ge.tokenType(), hidden);
    }

    private void ensureCapacity(int tokens, long probsSize) {
        if (tokens <= capTokens && probsSize <= capProbs) return;
        if (arena != null) arena.close();
        capTokens = Math.max(tokens, capTokens);
        capProbs = Math.max(probsSize, capProbs);
        arena = Arena.ofShared(); // the backend's worker threads read and write these buffers
        int hidden = config.hiddenSize(), inter = config.intermediateSize(), layers = config.numHiddenLayers();
        boolean training = ops.training();
        x = new Tensor[training ? layers + 1 : 1];
        for (int i = 0; i < x.length; i++) x[i] = hidden();
        // At inference the embeddings and every layer norm write the one hidden-state buffer in place.
        embSum = training ? hidden() : x[0];
        embNorm = ops.normSaved(arena, capTokens, hidden);
        acts = new LayerActs[training ? layers : 1];
        for (int i = 0; i < acts.length; i++) {
            acts[i] = new LayerActs(ops.qkv(arena, capTokens, hidden),
                    ops.saved(arena, Math.toIntExact(capProbs)),
                    hidden(),
                    training ? hidden() : x[0],
                    ops.normSaved(arena, capTokens, hidden),
                    ops.saved(arena, capTokens, inter),
                    ops.allocate(arena, capTokens, inter),
                    ops.normSaved(arena, capTokens, hidden));
        }
        attnOut = hidden();
        ffnOut = hidden();
        if (training) {
            dY = hidden();
            dF = ops.allocate(arena, capTokens, inter);
            dContext = hidden();
            dQkv = ops.qkv(arena, capTokens, hidden);
        }
    }

    private Tensor hidden() {
        return ops.allocate(arena, capTokens, config.hiddenSize());
    }

    @Override
    public void close() {
        ops.backend().synchronize(); // nothing may still be reading what is freed
        if (arena != null) arena.close();
        arena = null;
        capTokens = 0;
        capProbs = 0;
    }
}
