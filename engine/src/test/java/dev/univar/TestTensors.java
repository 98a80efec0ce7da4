package dev.univar;

import dev.univar.tensor.Tensor;

import java.util.Random;

/**
 * Test data shared by the backend tests (cpu and cuda alike): the tensors come from the caller, who decides where
 * they live (an arena, or the backend's own memory); these only fill them, drawing from the caller's generator so
 * that each test sees the same numbers whichever backend it checks.
 */
public final class TestTensors {
    private TestTensors() {
    }

    /** Uniform values in {@code [-scale, scale)} into the first {@code n} elements. */
    public static Tensor uniform(Tensor t, int n, float scale, Random random) {
        for (int i = 0; i < n; i++) t.set(i, (random.nextFloat() * 2 - 1) * scale);
        return t;
    }

    /** Gaussian values of standard deviation {@code scale} into the first {@code n} elements. */
    public static Tensor gaussian(Tensor t, int n, double scale, Random random) {
        for (int i = 0; i < n; i++) t.set(i, (float) (scale * random.nextGaussian()));
        return t;
    }

    /**
     * Scattered padding masks {@code [batch, seq]}: row 0 all real tokens, row 1 only the first token, row 2 random
     * with at least one real token, any further rows random (which may be all padding).
     */
    public static Tensor scatteredMask(Tensor mask, int batch, int seq, Random random) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                boolean real = switch (b) {
                    case 0 -> true;
                    case 1 -> t == 0;
                    case 2 -> t == seq / 2 || random.nextBoolean();
                    default -> seq > 4 && random.nextInt(3) == 0;
                };
                mask.set((long) b * seq + t, real ? 1 : 0);
            }
        }
        return mask;
    }

    /**
     * Right-padded masks {@code [batch, seq]} as tokenizers make them: row 0 full, the last row (of three or more)
     * all padding, the others a random length of at least one token.
     */
    public static Tensor prefixMask(Tensor mask, int batch, int seq, Random random) {
        for (int b = 0; b < batch; b++) {
            int len = b == 0 ? seq : b == batch - 1 && batch > 2 ? 0 : 1 + random.nextInt(seq);
            for (int t = 0; t < seq; t++) mask.set((long) b * seq + t, t < len ? 1 : 0);
        }
        return mask;
    }
}
