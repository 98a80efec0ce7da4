package dev.univar.cpu;

import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;

/**
 * The cos and sin tables of a rotary position embedding: {@code cos[p, j] = cos(θ)}, {@code sin[p, j] = sin(θ)} with
 * {@code θ = p · invFreq[j]} and {@code invFreq[j] = 1 / base^(2j / rotaryDim)}, for positions {@code p} in
 * {@code [0, positions)} and frequencies {@code j} in {@code [0, rotaryDim / 2)}; rows are positions.
 *
 * <p>The values are those of NomicBERT's official code, which builds the tables in float32 whatever the model's
 * precision: the exponent {@code 2j / rotaryDim}, the power and its reciprocal, and the product {@code θ} are each
 * rounded to float, then cos and sin of that float are rounded to float. Positions above a few hundred make θ large
 * enough that rounding it to float moves cos/sin by up to 1e-5, so a table computed in double would not match.
 *
 * <p>Shared by every backend: the tables are plain float32 tensors, built once per model and length limit.
 */
public record RotaryTable(Tensor cos, Tensor sin, int rotaryDim, int positions) {

    public RotaryTable {
        if (rotaryDim < 0 || rotaryDim % 2 != 0) throw new IllegalArgumentException("rotary dim " + rotaryDim + " must be even");
        Args.fits("cos", cos, (long) positions * (rotaryDim / 2));
        Args.fits("sin", sin, (long) positions * (rotaryDim / 2));
    }

    /**
     * The rotated part of a head, {@code int(headDim · fraction)} as the official code truncates it (its
     * {@code rotary_emb_fraction}); it must come out even, since the rotation pairs its two halves.
     */
    public static int rotaryDim(int headDim, double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) throw new IllegalArgumentException("rotary fraction " + fraction);
        int dim = (int) (headDim * fraction);
        if (dim % 2 != 0) throw new IllegalArgumentException("rotary dim " + dim + " (head dim " + headDim + " x " + fraction + ") is odd");
        return dim;
    }

    /** Tables for positions {@code [0, positions)}, allocated in {@code arena}. */
    public static RotaryTable create(Arena arena, int rotaryDim, double base, int positions) {
        if (rotaryDim < 0 || rotaryDim % 2 != 0) throw new IllegalArgumentException("rotary dim " + rotaryDim + " must be even");
        if (positions < 0) throw new IllegalArgumentException("positions " + positions);
        int half = rotaryDim / 2;
        Tensor cos = Tensor.allocate(arena, positions, half), sin = Tensor.allocate(arena, positions, half);
        float[] inv = new float[half];
        for (int j = 0; j < half; j++) inv[j] = invFreq(j, rotaryDim, base);
        for (int p = 0; p < positions; p++) {
            for (int j = 0; j < half; j++) {
                float theta = (float) p * inv[j];
                cos.set((long) p * half + j, (float) Math.cos(theta));
                sin.set((long) p * half + j, (float) Math.sin(theta));
            }
        }
        return new RotaryTable(cos, sin, rotaryDim, positions);
    }

    /** {@code 1 / base^(2j / rotaryDim)} in float32 steps: the exponent, the power and the reciprocal each rounded to float. */
    static float invFreq(int j, int rotaryDim, double base) {
        float exponent = (float) (2 * j) / (float) rotaryDim;
        float power = (float) Math.pow((float) base, exponent);
        return 1f / power;
    }
}
