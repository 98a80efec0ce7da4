package dev.univar.model;

import java.util.Arrays;
import java.util.List;

/**
 * One parameter of an architecture as its weight view declares it: the checkpoint name, the shape, and what kind of
 * parameter it is. The kind carries the flags the rest of the engine needs, so nothing chooses by name: whether
 * AdamW decays it ({@link Kind#decays}) and how {@code univar init} fills it ({@link Kind#init}).
 *
 * <p>{@code aliases} are other names the same tensor has in some checkpoints (LayerNorm {@code gamma}/{@code beta}
 * in TF-converted BERTs); the parameter is always written back under {@code name}.
 */
public record Param(String name, int[] shape, Kind kind, List<String> aliases) {

    /** What a parameter is. */
    public enum Kind {
        /** A dense layer's weight {@code [out, in]}: decayed, initialised N(0, 0.02²). */
        MATRIX(true, Init.NORMAL),
        /** A lookup table {@code [rows, dim]}: decayed, initialised N(0, 0.02²). */
        EMBEDDING(true, Init.NORMAL),
        /** A dense layer's bias: not decayed, initialised 0. */
        BIAS(false, Init.ZEROS),
        /** A normalisation's scale: not decayed, initialised 1. */
        NORM_WEIGHT(false, Init.ONES),
        /** A normalisation's shift: not decayed, initialised 0. */
        NORM_BIAS(false, Init.ZEROS);

        private final boolean decays;
        private final Init init;

        Kind(boolean decays, Init init) {
            this.decays = decays;
            this.init = init;
        }

        /** Whether weight decay applies (the usual fine-tuning rule: not to biases and normalisations). */
        public boolean decays() {
            return decays;
        }

        public Init init() {
            return init;
        }
    }

    /** How a fresh model's parameter is filled: BERT's initialisation, which the other encoders share. */
    public enum Init {
        /** Normal with standard deviation {@link #STD}. */
        NORMAL,
        ZEROS,
        ONES;

        public static final double STD = 0.02;
    }

    public Param {
        shape = shape.clone();
        aliases = List.copyOf(aliases);
    }

    public Param(String name, Kind kind, int... shape) {
        this(name, shape, kind, List.of());
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public boolean decays() {
        return kind.decays();
    }

    /** The same parameter, also found under {@code alias} in checkpoints. */
    public Param alias(String alias) {
        String[] all = aliases.toArray(new String[aliases.size() + 1]);
        all[aliases.size()] = alias;
        return new Param(name, shape, kind, List.of(all));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Param p && name.equals(p.name) && Arrays.equals(shape, p.shape) && kind == p.kind
                && aliases.equals(p.aliases);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + kind;
    }
}
