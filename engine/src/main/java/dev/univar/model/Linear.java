package dev.univar.model;

import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;

import java.util.List;

/**
 * A dense layer {@code y = x · Wᵀ + b} as a weight view binds it: {@code weight [out, in]} (a PyTorch
 * {@code Linear}), {@code bias [out]} or null for none. Bound for inference ({@link Ops#bind}) it also holds the
 * weight packed for {@link dev.univar.tensor.Backend#linear}, and its bias as the backend reads it.
 *
 * <p>A fused linear ({@link #fused}) is several linears over the same input whose outputs lie side by side (BERT's
 * query, key and value): inference computes them as one product of the packed concatenation, training and
 * gradients work on the {@link #parts}, each with its own weight and bias.
 */
public record Linear(Tensor weight, Tensor bias, PackedMatrix packed, List<Linear> parts) {

    public Linear {
        parts = List.copyOf(parts);
    }

    public static Linear of(Tensor weight, Tensor bias) {
        return new Linear(weight, bias, null, List.of());
    }

    /** Linears side by side over one input; {@link #weight} is null until packed. */
    public static Linear fused(List<Linear> parts) {
        return new Linear(null, null, null, parts);
    }

    public boolean isFused() {
        return !parts.isEmpty();
    }

    public Linear part(int i) {
        return parts.get(i);
    }

    /** Output features: the rows of the weight (all parts' together for a fused linear). */
    public int out() {
        if (packed != null) return packed.n();
        if (!isFused()) return weight.dim(0);
        int n = 0;
        for (Linear p : parts) n += p.out();
        return n;
    }

    /** Input features: the columns of the weight. */
    public int in() {
        if (packed != null) return packed.k();
        return isFused() ? parts.get(0).in() : weight.dim(1);
    }
}
