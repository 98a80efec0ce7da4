package dev.univar.model;

import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A model's encoder at inference, for any architecture: its {@link EncoderGraph} in inference mode
 * ({@link Ops#inference}), then sentence-transformers' mean pooling over the attention mask and L2 normalisation.
 *
 * <p>Activation buffers are allocated once for the largest batch seen and reused, so the steady state allocates
 * nothing. Not thread-safe: one encoder per thread of work (the backend itself runs each operation in parallel).
 *
 * <p>The weights are treated as constants: the first forward pass binds them as the backend computes with them
 * ({@link Ops#bind}: dense weights packed, the others through {@link Backend#resident}). Code that changes the
 * weights in place (a training step) must call {@link #prepack()} afterwards, or the encoder keeps computing with
 * the old values.
 */
public final class Encoder implements AutoCloseable {
    private final Weights weights;
    private final Backend backend;
    private final Ops ops;
    private final EncoderGraph graph;
    private Ops.Binding binding;
    private Arena arena;
    private int capTokens, capBatch;
    private Tensor mask, pooled;

    public Encoder(Weights weights, Backend backend) {
        this.weights = weights;
        this.backend = backend;
        this.ops = Ops.inference(backend);
        this.graph = weights.config().encoder(ops);
    }

    public ModelConfig config() {
        return weights.config();
    }

    public Backend backend() {
        return backend;
    }

    /** Embedding size (the hidden size). */
    public int dim() {
        return weights.config().hiddenSize();
    }

    /**
     * (Re)binds the weights from their current values. Called by the first forward pass; call it again after
     * changing any weight in place. Packing copies: the weight tensors are not referenced by the packed form.
     */
    public void prepack() {
        releaseBinding();
        Ops.Binding b = ops.bind(weights);
        try {
            graph.bind(b);
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
        binding = b;
    }

    private void releaseBinding() {
        backend.synchronize(); // nothing may still be reading what is freed
        if (binding != null) binding.close();
        binding = null;
    }

    /** Mean-pooled, L2-normalised embeddings of a tokenised batch, one row per text, in batch order. */
    public float[][] embed(Batch batch) {
        Tensor out = forwardPooled(batch);
        int hidden = dim();
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
        int bs = batch.size(), seq = batch.seqLen(), hidden = dim();
        Tensor x = forward(batch);
        backend.meanPool(x, mask, pooled, bs, seq, hidden);
        backend.l2Normalize(pooled, bs, hidden);
        backend.synchronize();
        return pooled.rows(0, bs);
    }

    /**
     * Runs the encoder; the returned last hidden state {@code [batch * seq, hidden]} is owned by this encoder
     * and overwritten by the next call.
     */
    public Tensor forward(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen();
        if (seq > config().maxPositions())
            throw new IllegalArgumentException("sequence of " + seq + " tokens exceeds the model's "
                    + config().maxPositions() + " positions");
        backend.synchronize(); // the last batch's work is done before its buffers are rewritten or freed
        ensureCapacity(bs * seq, bs);
        mask.copyFrom(batch.mask());
        if (binding == null) prepack();
        Tensor x = graph.forward(batch, mask);
        backend.synchronize();
        return x;
    }

    private void ensureCapacity(int tokens, int bs) {
        if (tokens <= capTokens && bs <= capBatch) return;
        if (arena != null) arena.close();
        capTokens = Math.max(tokens, capTokens);
        capBatch = Math.max(bs, capBatch);
        arena = Arena.ofShared(); // the backend's worker threads read and write these buffers
        mask = backend.allocate(arena, capTokens);
        pooled = backend.allocate(arena, capBatch, dim());
    }

    @Override
    public void close() {
        releaseBinding();
        graph.close();
        if (arena != null) arena.close();
        arena = null;
        capTokens = capBatch = 0;
    }
}
