package dev.univar.model;

import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

/**
 * Gradient buffers of a model, one per parameter, in the form of its weights ({@link #weights()}: the same names,
 * shapes and flags). They start at zero; {@link TrainingGraph#backward} accumulates into them, so micro-batches sum
 * until {@link #zero}.
 */
public final class Gradients implements AutoCloseable {

    private final Arena arena = Arena.ofShared(); // shared: the backend's worker threads write them
    private final Weights tensors;

    public Gradients(ModelConfig config) {
        tensors = Weights.zeros(config, arena);
    }

    /** Gradient buffers allocated by {@code backend} ({@link Backend#allocate}), which then updates them in place. */
    public Gradients(ModelConfig config, Backend backend) {
        tensors = Weights.zeros(config, arena, backend);
    }

    public ModelConfig config() {
        return tensors.config();
    }

    /** The gradients as weights: for {@link Binder#of}, and with the parameters' flags. */
    public Weights weights() {
        return tensors;
    }

    /** The gradients under the names of their parameters ({@link Weights#named()} order). */
    public Map<String, Tensor> named() {
        return tensors.named();
    }

    /** Every gradient tensor, in {@link #named()} order. */
    public List<Tensor> all() {
        return List.copyOf(tensors.named().values());
    }

    /** Sets every gradient to 0. */
    public void zero(TrainingBackend backend) {
        for (Tensor t : tensors.named().values()) backend.zero(t, t.size());
    }

    @Override
    public void close() {
        arena.close();
    }
}
