package dev.univar.model;

import dev.univar.tensor.Tensor;

/** A LayerNorm's parameters as a weight view binds them: scale {@code weight [dim]} and shift {@code bias [dim]}. */
public record Norm(Tensor weight, Tensor bias) {
}
