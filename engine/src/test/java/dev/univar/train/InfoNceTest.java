package dev.univar.train;

import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class InfoNceTest {

    /**
     * a1 = (1, 0), a2 = (0, 1), b1 = (0.6, 0.8), b2 = (0.8, -0.6), temperature 0.5: logits = 2 a·bᵀ =
     * [[1.2, 1.6], [1.6, -1.2]], symmetric, so the column cross-entropies equal the row ones and
     * loss = (CE row 0 + CE row 1) / 2 with CE row i = log Σ_j exp(logit_ij) - logit_ii.
     * With p00 = softmax(row 0)[0], p10 = softmax(row 1)[0] (and columns the same by symmetry), dL/dlogits is
     * g = [[(p00 - 1)/2, (p01 + p10)/4], [(p10 + p01)/4, (p11 - 1)/2]]; dA = g B / T, dB = gᵀ A / T.
     */
    @Test
    void twoPairsByHand() {
        float[][] a = {{1, 0}, {0, 1}}, b = {{0.6f, 0.8f}, {0.8f, -0.6f}};
        float[][] dA = new float[2][2], dB = new float[2][2];
        double loss = InfoNce.lossAndGradients(a, b, 0.5, dA, dB);
        double l00 = 2 * 0.6f, l01 = 2 * 0.8f, l10 = 2 * 0.8f, l11 = 2 * -0.6f;
        double ce0 = Math.log(Math.exp(l00) + Math.exp(l01)) - l00, ce1 = Math.log(Math.exp(l10) + Math.exp(l11)) - l11;
        assertEquals((ce0 + ce1) / 2, loss, 1e-12);

        double p00 = Math.exp(l00) / (Math.exp(l00) + Math.exp(l01)), p01 = 1 - p00;
        double p10 = Math.exp(l10) / (Math.exp(l10) + Math.exp(l11)), p11 = 1 - p10;
        double g00 = (p00 - 1) / 2, g01 = (p01 + p10) / 4, g10 = (p10 + p01) / 4, g11 = (p11 - 1) / 2;
        double invT = 2;
        for (int d = 0; d < 2; d++) {
            assertEquals((g00 * b[0][d] + g01 * b[1][d]) * invT, dA[0][d], 1e-6, "dA0");
            assertEquals((g10 * b[0][d] + g11 * b[1][d]) * invT, dA[1][d], 1e-6, "dA1");
            assertEquals((g00 * a[0][d] + g10 * a[1][d]) * invT, dB[0][d], 1e-6, "dB0");
            assertEquals((g01 * a[0][d] + g11 * a[1][d]) * invT, dB[1][d], 1e-6, "dB1");
        }
    }

    /** 3 × 3 at the default temperature: gradient against central differences, and the tensor form agrees. */
    @Test
    void threePairsAgainstFiniteDifferences() {
        Random r = new Random(4);
        int n = 3, dim = 5;
        float[][] a = new float[n][dim], b = new float[n][dim];
        for (float[][] m : new float[][][]{a, b})
            for (float[] row : m) {
                double norm = 0;
                for (int d = 0; d < dim; d++) {
                    row[d] = (float) r.nextGaussian();
                    norm += row[d] * row[d];
                }
                for (int d = 0; d < dim; d++) row[d] /= (float) Math.sqrt(norm);
            }
        float[][] dA = new float[n][dim], dB = new float[n][dim];
        double t = InfoNce.DEFAULT_TEMPERATURE;
        double loss = InfoNce.lossAndGradients(a, b, t, dA, dB);
        for (float[][] x : new float[][][]{a, b})
            for (int i = 0; i < n; i++)
                for (int d = 0; d < dim; d++) {
                    float keep = x[i][d];
                    float h = 1e-3f;
                    x[i][d] = keep + h;
                    double up = InfoNce.lossAndGradients(a, b, t, null, null);
                    x[i][d] = keep - h;
                    double down = InfoNce.lossAndGradients(a, b, t, null, null);
                    x[i][d] = keep;
                    // h is exactly representable around these values only approximately: divide by the real step.
                    double step = (double) (keep + h) - (double) (keep - h);
                    double expected = (up - down) / step;
                    float actual = (x == a ? dA : dB)[i][d];
                    assertEquals(expected, actual, 1e-3 * Math.abs(expected) + 1e-3, (x == a ? "dA" : "dB") + "[" + i + "][" + d + "]");
                }

        try (Arena arena = Arena.ofConfined()) {
            Tensor at = Tensor.allocate(arena, n, dim), bt = Tensor.allocate(arena, n, dim);
            Tensor gat = Tensor.allocate(arena, n, dim), gbt = Tensor.allocate(arena, n, dim);
            for (int i = 0; i < n; i++)
                for (int d = 0; d < dim; d++) {
                    at.set(i * dim + d, a[i][d]);
                    bt.set(i * dim + d, b[i][d]);
                }
            assertEquals(loss, InfoNce.lossAndGradients(at, bt, n, dim, t, gat, gbt), 0);
            for (int i = 0; i < n; i++)
                for (int d = 0; d < dim; d++) {
                    assertEquals(dA[i][d], gat.get(i * dim + d), 0);
                    assertEquals(dB[i][d], gbt.get(i * dim + d), 0);
                }
        }
    }
}
