package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

/**
 * Gradient buffers of a BERT encoder, one per weight, in the same structure ({@link #tensors()} is a
 * {@link BertWeights} whose tensors are the gradients). They start at zero; {@link BertTrainingGraph#backward}
 * accumulates into them, so micro-batches sum until {@link #zero}.
 */
public final class BertGradients implements AutoCloseable {

    private final Arena arena = Arena.ofShared(); // shared: the backend's worker threads write them
    private final BertWeights tensors;
    private final Map<String, Tensor> named;

    public BertGradients(BertConfig config) {
        tensors = BertParameters.zeros(config, arena);
        named = tensors.toNamedTensors();
    }

    /** Gradient buffers allocated by {@code backend} ({@link Backend#allocate}), which then updates them in place. */
    public BertGradients(BertConfig config, Backend backend) {
        tensors = BertParameters.zeros(config, arena, backend);
        named = tensors.toNamedTensors();
    }

    public BertConfig config() {
        return tensors.config();
    }

    /** The gradients, field by field as the weights. */
    public BertWeights tensors() {
        return tensors;
    }

    /** The gradients under the HF names of their weights ({@link BertWeights#toNamedTensors()} order). */
    public Map<String, Tensor> named() {
        return named;
    }

    /** Every gradient tensor, in {@link #named()} order. */
    public List<Tensor> all() {
        return List.copyOf(named.values());
    }

    /** Sets every gradient to 0. */
    public void zero(TrainingBackend backend) {
        for (Tensor t : named.values()) backend.zero(t, t.size());
    }

    @Override
    public void close() {
        arena.close();
    }
}
