package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;

/**
 * The encoder of {@link BertEncoder} with a backward pass: {@link #forward} runs the same operations in the same
 * order (embeddings, LayerNorm, per layer q/k/v projections, attention, output projection, residual + LayerNorm,
 * GELU feed-forward, residual + LayerNorm; then mean pooling and L2 normalisation) but keeps every activation the
 * backward needs in buffers of its own; {@link #backward} then accumulates the gradient of every weight.
 *
 * <p>Buffers are sized for the largest batch seen and reused. Memory per token is about
 * {@code layers × (8 × hidden + 2 × intermediate)} floats, plus {@code layers × heads × seq} floats of
 * attention probabilities. Not thread-safe: one graph per thread of work.
 */
public final class BertTrainingGraph implements AutoCloseable {

    private final BertConfig config;
    private final BertWeights weights;
    private final TrainingBackend backend;
    private Arena arena;
    private int capTokens, capBatch;
    private long capProbs;

    // Saved by the forward.
    private Tensor mask, embSum, embXhat, embRstd, pooledRaw, pooled;
    private Tensor[] x;                   // x[0]: embeddings after LayerNorm; x[l + 1]: output of layer l
    private Tensor[] q, k, v, probs, context, h1, xhat1, rstd1, ffnPre, ffnAct, xhat2, rstd2;
    // Scratch of the forward (not needed afterwards) and of the backward.
    private Tensor attnOut, ffnOut, dX, dY, dF, dQ, dK, dV, dContext, dPooled;

    private Batch last;

    public BertTrainingGraph(BertConfig config, BertWeights weights, TrainingBackend backend) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
    }

    public BertConfig config() {
        return config;
    }

    public TrainingBackend backend() {
        return backend;
    }

    /**
     * Runs the encoder, mean pooling and L2 normalisation, saving what {@link #backward} needs. The returned
     * {@code [batch, hidden]} tensor is owned by this graph and overwritten by the next call.
     */
    public Tensor forward(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen();
        if (seq > config.maxPositionEmbeddings())
            throw new IllegalArgumentException("sequence of " + seq + " tokens exceeds the model's "
                    + config.maxPositionEmbeddings() + " positions");
        int tokens = bs * seq;
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = hidden / heads;
        backend.synchronize(); // the last backward is done before its buffers are rewritten or freed
        ensureCapacity(tokens, bs, (long) bs * heads * seq * seq);
        float eps = (float) config.layerNormEps();
        mask.copyFrom(batch.mask());

        BertWeights.Embeddings emb = weights.embeddings();
        backend.embeddings(batch.ids(), batch.typeIds(), emb.word(), emb.position(), emb.tokenType(), embSum, bs, seq, hidden);
        backend.layerNormTrain(embSum, null, emb.lnGamma(), emb.lnBeta(), eps, x[0], embXhat, embRstd, tokens, hidden);

        for (int i = 0; i < weights.layers().size(); i++) {
            BertWeights.Layer l = weights.layers().get(i);
            backend.matmul(x[i], l.qW(), true, l.qB(), q[i], tokens, hidden, hidden);
            backend.matmul(x[i], l.kW(), true, l.kB(), k[i], tokens, hidden, hidden);
            backend.matmul(x[i], l.vW(), true, l.vB(), v[i], tokens, hidden, hidden);
            backend.attentionForwardTrain(q[i], k[i], v[i], mask, context[i], probs[i], bs, seq, heads, headDim);
            backend.matmul(context[i], l.attnOutW(), true, l.attnOutB(), attnOut, tokens, hidden, hidden);
            backend.layerNormTrain(attnOut, x[i], l.attnLnGamma(), l.attnLnBeta(), eps, h1[i], xhat1[i], rstd1[i], tokens, hidden);
            backend.matmul(h1[i], l.ffnInW(), true, l.ffnInB(), ffnPre[i], tokens, inter, hidden);
            backend.gelu(ffnPre[i], ffnAct[i], (long) tokens * inter);
            backend.matmul(ffnAct[i], l.ffnOutW(), true, l.ffnOutB(), ffnOut, tokens, hidden, inter);
            backend.layerNormTrain(ffnOut, h1[i], l.outLnGamma(), l.outLnBeta(), eps, x[i + 1], xhat2[i], rstd2[i], tokens, hidden);
        }
        int layers = weights.layers().size();
        backend.meanPool(x[layers], mask, pooledRaw, bs, seq, hidden);
        // l2Normalize works in place: keep the pooled vector before it, which its backward needs. Pooling twice
        // (cheap next to the encoder) rather than copying on the host keeps both where the backend computes.
        backend.meanPool(x[layers], mask, pooled, bs, seq, hidden);
        backend.l2Normalize(pooled, bs, hidden);
        backend.synchronize();
        last = batch;
        return pooled.rows(0, bs);
    }

    /**
     * Backward of the last {@link #forward}: given {@code dEmbeddings [batch, hidden]}, the gradient of the loss
     * with respect to its output, adds the gradient of every weight into {@code grads}.
     */
    public void backward(Tensor dEmbeddings, BertGradients grads) {
        Batch batch = last;
        if (batch == null) throw new IllegalStateException("backward before forward");
        int bs = batch.size(), seq = batch.seqLen(), tokens = bs * seq;
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = hidden / heads;
        if (dEmbeddings.size() < (long) bs * hidden)
            throw new IllegalArgumentException("dEmbeddings " + dEmbeddings + " is smaller than [" + bs + ", " + hidden + "]");

        backend.l2NormalizeBackward(pooledRaw, dEmbeddings, dPooled, bs, hidden);
        backend.meanPoolBackward(dPooled, mask, dX, bs, seq, hidden);

        BertWeights g = grads.tensors();
        // dX holds the gradient of the current layer's output; the inputs' gradients are summed by accumulating
        // GEMMs into the residual branch's gradient (no separate adds), then dX and dY trade places.
        for (int i = weights.layers().size() - 1; i >= 0; i--) {
            BertWeights.Layer w = weights.layers().get(i), gl = g.layers().get(i);
            // x[i+1] = LN(ffnOut + h1): dY is the gradient of both ffnOut and h1.
            backend.layerNormBackward(dX, xhat2[i], rstd2[i], w.outLnGamma(), dY, gl.outLnGamma(), gl.outLnBeta(), tokens, hidden);
            backend.matmulBackward(dY, ffnAct[i], w.ffnOutW(), dF, gl.ffnOutW(), gl.ffnOutB(), tokens, hidden, inter);
            backend.geluBackward(ffnPre[i], dF, dF, (long) tokens * inter);
            backend.matmulBackward(dF, h1[i], w.ffnInW(), null, gl.ffnInW(), gl.ffnInB(), tokens, inter, hidden);
            backend.gemm(dF, false, w.ffnInW(), false, null, true, dY, tokens, hidden, inter); // dH1 = dY + dF · W
            // h1 = LN(attnOut + x[i]): dX is now the gradient of both attnOut and x[i].
            backend.layerNormBackward(dY, xhat1[i], rstd1[i], w.attnLnGamma(), dX, gl.attnLnGamma(), gl.attnLnBeta(), tokens, hidden);
            backend.matmulBackward(dX, context[i], w.attnOutW(), dContext, gl.attnOutW(), gl.attnOutB(), tokens, hidden, hidden);
            backend.attentionBackward(q[i], k[i], v[i], mask, probs[i], dContext, dQ, dK, dV, bs, seq, heads, headDim);
            backend.matmulBackward(dQ, x[i], w.qW(), null, gl.qW(), gl.qB(), tokens, hidden, hidden);
            backend.matmulBackward(dK, x[i], w.kW(), null, gl.kW(), gl.kB(), tokens, hidden, hidden);
            backend.matmulBackward(dV, x[i], w.vW(), null, gl.vW(), gl.vB(), tokens, hidden, hidden);
            // d x[i] = dX (residual) + dQ · Wq + dK · Wk + dV · Wv, accumulated in place.
            backend.gemm(dQ, false, w.qW(), false, null, true, dX, tokens, hidden, hidden);
            backend.gemm(dK, false, w.kW(), false, null, true, dX, tokens, hidden, hidden);
            backend.gemm(dV, false, w.vW(), false, null, true, dX, tokens, hidden, hidden);
        }
        BertWeights.Embeddings we = weights.embeddings(), ge = g.embeddings();
        backend.layerNormBackward(dX, embXhat, embRstd, we.lnGamma(), dY, ge.lnGamma(), ge.lnBeta(), tokens, hidden);
        backend.embeddingsBackward(batch.ids(), batch.typeIds(), dY, ge.word(), ge.position(), ge.tokenType(), bs, seq, hidden);
    }

    private void ensureCapacity(int tokens, int bs, long probsSize) {
        if (tokens <= capTokens && bs <= capBatch && probsSize <= capProbs) return;
        if (arena != null) arena.close();
        capTokens = Math.max(tokens, capTokens);
        capBatch = Math.max(bs, capBatch);
        capProbs = Math.max(probsSize, capProbs);
        arena = Arena.ofShared(); // the backend's worker threads read and write these buffers
        int hidden = config.hiddenSize(), inter = config.intermediateSize(), layers = config.numHiddenLayers();
        mask = backend.allocate(arena, capTokens);
        embSum = hidden();
        embXhat = hidden();
        embRstd = backend.allocate(arena, capTokens);
        pooledRaw = backend.allocate(arena, capBatch, hidden);
        pooled = backend.allocate(arena, capBatch, hidden);
        x = new Tensor[layers + 1];
        for (int i = 0; i <= layers; i++) x[i] = hidden();
        q = new Tensor[layers];
        k = new Tensor[layers];
        v = new Tensor[layers];
        probs = new Tensor[layers];
        context = new Tensor[layers];
        h1 = new Tensor[layers];
        xhat1 = new Tensor[layers];
        rstd1 = new Tensor[layers];
        ffnPre = new Tensor[layers];
        ffnAct = new Tensor[layers];
        xhat2 = new Tensor[layers];
        rstd2 = new Tensor[layers];
        for (int i = 0; i < layers; i++) {
            q[i] = hidden();
            k[i] = hidden();
            v[i] = hidden();
            probs[i] = backend.allocate(arena, Math.toIntExact(capProbs));
            context[i] = hidden();
            h1[i] = hidden();
            xhat1[i] = hidden();
            rstd1[i] = backend.allocate(arena, capTokens);
            ffnPre[i] = backend.allocate(arena, capTokens, inter);
            ffnAct[i] = backend.allocate(arena, capTokens, inter);
            xhat2[i] = hidden();
            rstd2[i] = backend.allocate(arena, capTokens);
        }
        attnOut = hidden();
        ffnOut = hidden();
        dX = hidden();
        dY = hidden();
        dF = backend.allocate(arena, capTokens, inter);
        dQ = hidden();
        dK = hidden();
        dV = hidden();
        dContext = hidden();
        dPooled = backend.allocate(arena, capBatch, hidden);
        last = null;
    }

    private Tensor hidden() {
        return backend.allocate(arena, capTokens, config.hiddenSize());
    }

    @Override
    public void close() {
        backend.synchronize();
        if (arena != null) arena.close();
        arena = null;
        capTokens = capBatch = 0;
        capProbs = 0;
        last = null;
    }
}
