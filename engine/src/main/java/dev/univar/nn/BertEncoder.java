package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A BERT encoder (post-layer-norm, as in the original BERT and all-MiniLM-L6-v2) written once against
 * {@link Backend}: embeddings, N × (self-attention, residual + LayerNorm, GELU feed-forward, residual + LayerNorm),
 * then sentence-transformers' mean pooling over the attention mask and L2 normalisation.
 *
 * <p>Activation buffers are allocated once for the largest batch seen and reused, so the steady state allocates
 * nothing. Not thread-safe: one encoder per thread of work (the backend itself runs each operation in parallel).
 */
public final class BertEncoder implements AutoCloseable {
    private final BertConfig config;
    private final BertWeights weights;
    private final Backend backend;
    private Arena arena;
    private int capacityTokens;
    private int capacityBatch;
    private Tensor x, q, k, v, context, attnOut, ffn, ffnOut, mask, pooled;

    public BertEncoder(BertConfig config, BertWeights weights, Backend backend) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
    }

    public BertConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** Embedding size (the hidden size). */
    public int dim() {
        return config.hiddenSize();
    }

    /** Mean-pooled, L2-normalised embeddings of a tokenised batch, one row per text, in batch order. */
    public float[][] embed(Batch batch) {
        Tensor out = forwardPooled(batch);
        int hidden = config.hiddenSize();
        float[][] rows = new float[batch.size()][];
        MemorySegment seg = out.data();
        for (int b = 0; b < batch.size(); b++) {
            rows[b] = seg.asSlice((long) b * hidden * Float.BYTES, (long) hidden * Float.BYTES)
                    .toArray(ValueLayout.JAVA_FLOAT);
        }
        return rows;
    }

    /**
     * Runs the encoder and pooling; the returned {@code [batch, hidden]} tensor is owned by this encoder and
     * overwritten by the next call.
     */
    public Tensor forwardPooled(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen(), hidden = config.hiddenSize();
        forward(batch);
        backend.meanPool(x, mask, pooled, bs, seq, hidden);
        backend.l2Normalize(pooled, bs, hidden);
        return pooled.rows(0, bs);
    }

    /**
     * Runs the encoder; the returned last hidden state {@code [batch * seq, hidden]} is owned by this encoder
     * and overwritten by the next call.
     */
    public Tensor forward(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen();
        if (seq > config.maxPositionEmbeddings())
            throw new IllegalArgumentException("sequence of " + seq + " tokens exceeds the model's "
                    + config.maxPositionEmbeddings() + " positions");
        int tokens = bs * seq;
        ensureCapacity(tokens, bs);
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = hidden / heads;
        float eps = (float) config.layerNormEps();
        mask.copyFrom(batch.mask());

        BertWeights.Embeddings emb = weights.embeddings();
        backend.embeddings(batch.ids(), batch.typeIds(), emb.word(), emb.position(), emb.tokenType(), x, bs, seq, hidden);
        backend.layerNorm(x, null, emb.lnGamma(), emb.lnBeta(), eps, x, tokens, hidden);

        for (BertWeights.Layer l : weights.layers()) {
            backend.matmul(x, l.qW(), true, l.qB(), q, tokens, hidden, hidden);
            backend.matmul(x, l.kW(), true, l.kB(), k, tokens, hidden, hidden);
            backend.matmul(x, l.vW(), true, l.vB(), v, tokens, hidden, hidden);
            backend.attention(q, k, v, mask, context, bs, seq, heads, headDim);
            backend.matmul(context, l.attnOutW(), true, l.attnOutB(), attnOut, tokens, hidden, hidden);
            backend.layerNorm(attnOut, x, l.attnLnGamma(), l.attnLnBeta(), eps, x, tokens, hidden);
            backend.matmul(x, l.ffnInW(), true, l.ffnInB(), ffn, tokens, inter, hidden);
            backend.gelu(ffn, ffn, (long) tokens * inter);
            backend.matmul(ffn, l.ffnOutW(), true, l.ffnOutB(), ffnOut, tokens, hidden, inter);
            backend.layerNorm(ffnOut, x, l.outLnGamma(), l.outLnBeta(), eps, x, tokens, hidden);
        }
        return x.rows(0, tokens);
    }

    private void ensureCapacity(int tokens, int bs) {
        if (tokens <= capacityTokens && bs <= capacityBatch) return;
        if (arena != null) arena.close();
        capacityTokens = Math.max(tokens, capacityTokens);
        capacityBatch = Math.max(bs, capacityBatch);
        // Shared: the backend's worker threads read and write these buffers.
        arena = Arena.ofShared();
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        x = Tensor.allocate(arena, capacityTokens, hidden);
        q = Tensor.allocate(arena, capacityTokens, hidden);
        k = Tensor.allocate(arena, capacityTokens, hidden);
        v = Tensor.allocate(arena, capacityTokens, hidden);
        context = Tensor.allocate(arena, capacityTokens, hidden);
        attnOut = Tensor.allocate(arena, capacityTokens, hidden);
        ffn = Tensor.allocate(arena, capacityTokens, inter);
        ffnOut = Tensor.allocate(arena, capacityTokens, hidden);
        mask = Tensor.allocate(arena, capacityTokens);
        pooled = Tensor.allocate(arena, capacityBatch, hidden);
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
        arena = null;
        capacityTokens = capacityBatch = 0;
    }
}
