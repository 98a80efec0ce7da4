package dev.univar.tensor;

/** Elementwise function applied to a product as it is stored ({@link Backend#linear}). */
public enum Activation {
    /** The product (plus bias) as is. */
    NONE,
    /** Exact (erf) GELU, as {@link Backend#gelu}. */
    GELU
}
