package dev.univar.model;

import dev.univar.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * What an architecture's weight view is built from: the view declares each parameter once (name, shape, kind) and
 * gets back its tensor. The same declaration therefore lists the parameters ({@link #declaring}), picks them out of
 * a checkpoint ({@link Weights}), binds the weights ({@link #of}) and their gradients for training, and binds the
 * weights as a backend computes with them at inference ({@link Ops#bind}: device copies, packed matrices).
 *
 * <p>A parameter of kind {@link Param.Kind#BIAS} belongs to a {@link Linear}: declare it through {@link #linear}.
 */
public interface Binder {

    /** The tensor of {@code p}; null while only {@linkplain #declaring declaring}. */
    Tensor tensor(Param p);

    /**
     * What becomes of a linear once its weight and bias are bound: kept as is, except at inference, where the
     * weight is packed for the backend ({@link Ops#bind}).
     */
    default Linear prepare(Linear raw) {
        return raw;
    }

    /** A dense layer: {@code name.weight [out, in]} and, if {@code bias}, {@code name.bias [out]}. */
    default Linear linear(String name, int out, int in, boolean bias) {
        return prepare(raw(name, out, in, bias));
    }

    /**
     * Dense layers over one input whose outputs lie side by side ({@link Linear#fused}), each {@code [outEach, in]},
     * declared in the order given.
     */
    default Linear fused(List<String> names, int outEach, int in, boolean bias) {
        List<Linear> parts = new ArrayList<>();
        for (String n : names) parts.add(raw(n, outEach, in, bias));
        return prepare(Linear.fused(parts));
    }

    /** A LayerNorm: {@code name.weight} and {@code name.bias}, both {@code [dim]}. */
    default Norm layerNorm(String name, int dim) {
        return norm(new Param(name + ".weight", Param.Kind.NORM_WEIGHT, dim), new Param(name + ".bias", Param.Kind.NORM_BIAS, dim));
    }

    /** A normalisation whose parameters are declared by the caller (to give them aliases). */
    default Norm norm(Param weight, Param bias) {
        return new Norm(tensor(weight), tensor(bias));
    }

    /** A lookup table {@code [rows, dim]}. */
    default Tensor embedding(String name, int rows, int dim) {
        return tensor(new Param(name, Param.Kind.EMBEDDING, rows, dim));
    }

    private Linear raw(String name, int out, int in, boolean bias) {
        Tensor w = tensor(new Param(name + ".weight", Param.Kind.MATRIX, out, in));
        Tensor b = bias ? tensor(new Param(name + ".bias", Param.Kind.BIAS, out)) : null;
        return Linear.of(w, b);
    }

    /** Binds nothing: adds every declared parameter to {@code into}, in declaration order. */
    static Binder declaring(List<Param> into) {
        return p -> {
            into.add(p);
            return null;
        };
    }

    /** Binds the tensors of {@code weights} (or of gradients, which are {@link Weights} too) as they are. */
    static Binder of(Weights weights) {
        return p -> weights.get(p.name());
    }
}
