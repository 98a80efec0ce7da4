package dev.univar.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VecMathExpTest {

    /** The vectorised exp against Math.exp on a dense sweep of [-110, 89], relative where the result is normal. */
    @Test
    void expMatchesMathExp() {
        int vl = CpuBackend.VL;
        float[] xs = new float[vl], ys = new float[vl];
        double worst = 0;
        for (int i = -1_100_000; i <= 890_000; i += vl) {
            for (int l = 0; l < vl; l++) xs[l] = (i + l) * 1e-4f;
            VecMath.exp(FloatVector.fromArray(CpuBackend.S, xs, 0)).intoArray(ys, 0);
            for (int l = 0; l < vl; l++) {
                double expected = Math.exp(xs[l]);
                if (xs[l] > 88.7f) continue;
                if (expected >= Float.MIN_NORMAL) {
                    worst = Math.max(worst, Math.abs(ys[l] - expected) / expected);
                } else {
                    // subnormal or flushed: absolutely tiny, never negative, never above the smallest normal
                    assertTrue(ys[l] >= 0 && ys[l] <= Float.MIN_NORMAL, "exp(" + xs[l] + ") = " + ys[l]);
                    if (xs[l] > -100) assertEquals(expected, ys[l], 2 * Float.MIN_VALUE, "exp(" + xs[l] + ")");
                }
            }
        }
        assertTrue(worst < 3e-7, "worst relative error " + worst);
    }

    @Test
    void expEdges() {
        int vl = CpuBackend.VL;
        float[] xs = new float[vl], ys = new float[vl];
        float[] cases = {0f, -0f, Float.NEGATIVE_INFINITY, -1000f, 1f, -1f};
        double[] expected = {1, 1, 0, 0, Math.E, 1 / Math.E};
        for (int c = 0; c < cases.length; c++) {
            java.util.Arrays.fill(xs, cases[c]);
            VecMath.exp(FloatVector.fromArray(CpuBackend.S, xs, 0)).intoArray(ys, 0);
            for (int l = 0; l < vl; l++) assertEquals(expected[c], ys[l], 2e-7 * expected[c], "exp(" + cases[c] + ")");
        }
    }
}
