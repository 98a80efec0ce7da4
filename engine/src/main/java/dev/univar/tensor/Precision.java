package dev.univar.tensor;

/**
 * Arithmetic of a backend's dense products. Everything else (layer norm, softmax, activations, reductions)
 * stays in float32 whatever the precision.
 */
public enum Precision {
    /** float32 products, float32 accumulation: the reference. */
    FP32,
    /** TF32 tensor-core products (10-bit mantissa inputs), float32 accumulation (CUDA only). */
    TF32,
    /** bfloat16 inputs, float32 accumulation. */
    BF16;

    /** Parses "fp32", "tf32", "bf16" (any case); the message lists the accepted values. */
    public static Precision parse(String s) {
        for (Precision p : values())
            if (p.name().equalsIgnoreCase(s.trim())) return p;
        throw new IllegalArgumentException("unknown precision '" + s + "': use fp32, tf32 or bf16");
    }
}
