package dev.univar.model;

import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;

/**
 * A model's encoder in training, for any architecture: {@link #forward} runs its {@link EncoderGraph} in training
 * mode ({@link Ops#training}, every activation the backward needs kept), mean pooling and L2 normalisation;
 * {@link #backward} then accumulates the gradient of every weight. It computes with the weights as they are, so an
 * optimizer step on them is seen by the next forward.
 *
 * <p>Buffers are sized for the largest batch seen and reused. Not thread-safe: one graph per thread of work.
 */
public final class TrainingGraph implements AutoCloseable {

    private final Weights weights;
    private final TrainingBackend backend;
    private final EncoderGraph graph;
    private Arena arena;
    private int capTokens, capBatch;
    private Tensor mask, pooledRaw, pooled, dPooled, dHidden;
    private Batch last;

    public TrainingGraph(Weights weights, TrainingBackend backend) {
        this.weights = weights;
        this.backend = backend;
        Ops ops = Ops.training(backend);
        this.graph = weights.config().encoder(ops);
        graph.bind(ops.bind(weights));
    }

    public ModelConfig config() {
        return weights.config();
    }

    public TrainingBackend backend() {
        return backend;
    }

    /**
     * Runs the encoder, mean pooling and L2 normalisation, saving what {@link #backward} needs. The returned
     * {@code [batch, hidden]} tensor is owned by this graph and overwritten by the next call.
     */
    public Tensor forward(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen(), hidden = config().hiddenSize();
        if (seq > config().maxPositions())
            throw new IllegalArgumentException("sequence of " + seq + " tokens exceeds the model's "
                    + config().maxPositions() + " positions");
        backend.synchronize(); // the last backward is done before its buffers are rewritten or freed
        ensureCapacity(bs * seq, bs);
        mask.copyFrom(batch.mask());
        last = null;
        Tensor x = graph.forward(batch, mask);
        backend.meanPool(x, mask, pooledRaw, bs, seq, hidden);
        // l2Normalize works in place: keep the pooled vector before it, which its backward needs. Pooling twice
        // (cheap next to the encoder) rather than copying on the host keeps both where the backend computes.
        backend.meanPool(x, mask, pooled, bs, seq, hidden);
        backend.l2Normalize(pooled, bs, hidden);
        backend.synchronize();
        last = batch;
        return pooled.rows(0, bs);
    }

    /**
     * Backward of the last {@link #forward}: given {@code dEmbeddings [batch, hidden]}, the gradient of the loss
     * with respect to its output, adds the gradient of every weight into {@code grads}.
     */
    public void backward(Tensor dEmbeddings, Gradients grads) {
        Batch batch = last;
        if (batch == null) throw new IllegalStateException("backward before forward");
        int bs = batch.size(), seq = batch.seqLen(), hidden = config().hiddenSize();
        if (dEmbeddings.size() < (long) bs * hidden)
            throw new IllegalArgumentException("dEmbeddings " + dEmbeddings + " is smaller than [" + bs + ", " + hidden + "]");
        backend.l2NormalizeBackward(pooledRaw, dEmbeddings, dPooled, bs, hidden);
        backend.meanPoolBackward(dPooled, mask, dHidden, bs, seq, hidden);
        graph.backward(batch, mask, dHidden, Binder.of(grads.weights()));
    }

    private void ensureCapacity(int tokens, int bs) {
        if (tokens <= capTokens && bs <= capBatch) return;
        if (arena != null) arena.close();
        capTokens = Math.max(tokens, capTokens);
        capBatch = Math.max(bs, capBatch);
        arena = Arena.ofShared(); // the backend's worker threads read and write these buffers
        int hidden = config().hiddenSize();
        mask = backend.allocate(arena, capTokens);
        pooledRaw = backend.allocate(arena, capBatch, hidden);
        pooled = backend.allocate(arena, capBatch, hidden);
        dPooled = backend.allocate(arena, capBatch, hidden);
        dHidden = backend.allocate(arena, capTokens, hidden);
    }

    @Override
    public void close() {
        backend.synchronize();
        graph.close();
        if (arena != null) arena.close();
        arena = null;
        capTokens = capBatch = 0;
        last = null;
    }
}
