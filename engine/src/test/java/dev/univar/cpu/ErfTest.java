package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErfTest {

    @Test
    void knownValues() {
        assertRelative(0.5204998778130465, Erf.erf(0.5), 1e-14);
        assertRelative(0.8427007929497149, Erf.erf(1), 1e-14);
        assertRelative(0.9953222650189527, Erf.erf(2), 1e-14);
        // Values on both sides of the switch from the series to the continued fraction (mpmath, 30 digits).
        assertRelative(0.999593047982555041, Erf.erf(2.5), 1e-14);
        assertRelative(0.999977909503001415, Erf.erf(3), 1e-14);
        assertRelative(0.112462916018284898, Erf.erf(0.1), 1e-14);
        assertRelative(1.12837916709551257e-10, Erf.erf(1e-10), 1e-14);
        assertRelative(1.5374597944280348502e-12, Erf.erfc(5), 1e-12);
        assertEquals(1.0, Erf.erf(6), 1e-15);
        assertEquals(1.0, Erf.erf(30), 0);
        assertEquals(0.0, Erf.erf(0), 0);
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)));
        assertEquals(1.0, Erf.erf(Double.POSITIVE_INFINITY), 0);
        assertEquals(-1.0, Erf.erf(Double.NEGATIVE_INFINITY), 0);
    }

    @Test
    void oddAndMonotone() {
        double previous = -1;
        for (double x = -7; x <= 7; x += 1e-3) {
            assertEquals(-Erf.erf(x), Erf.erf(-x), 0, "odd at " + x);
            double e = Erf.erf(x);
            assertTrue(e >= previous, "monotone at " + x);
            previous = e;
            assertEquals(1 - e, Erf.erfc(x), 1e-15, "erfc at " + x);
        }
    }

    /** The vectorised float erf against the double one on a dense sweep of [-10, 10]. */
    @Test
    void vectorErfMatchesReference() {
        int vl = CpuBackend.VL;
        float[] xs = new float[vl], ys = new float[vl];
        double worst = 0;
        for (int i = -200_000; i <= 200_000; i += vl) {
            for (int l = 0; l < vl; l++) xs[l] = (i + l) * 5e-5f;
            VecMath.erf(FloatVector.fromArray(CpuBackend.S, xs, 0)).intoArray(ys, 0);
            for (int l = 0; l < vl; l++) {
                double expected = Erf.erf(xs[l]);
                double error = xs[l] == 0 ? Math.abs(ys[l]) : Math.abs(ys[l] - expected) / Math.abs(expected);
                worst = Math.max(worst, error);
            }
        }
        assertTrue(worst < 4e-7, "worst relative error " + worst);
    }

    /** Vectorised GELU against the double reference on a dense sweep of [-10, 10], relative everywhere. */
    @Test
    void vectorGeluMatchesReference() {
        int n = 400_001;
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, n), y = Tensor.allocate(arena, n);
            for (int i = 0; i < n; i++) x.set(i, (i - 200_000) * 5e-5f);
            VecMath.gelu(x.data(), y.data(), 0, n);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double expected = ScalarBackend.gelu(x.get(i));
                worst = Math.max(worst, Math.abs(y.get(i) - expected) / Math.max(Math.abs(expected), 1e-30));
            }
            assertTrue(worst < 1e-6, "worst relative error " + worst);
        }
    }

    private static void assertRelative(double expected, double actual, double tolerance) {
        assertTrue(Math.abs(actual - expected) <= tolerance * Math.abs(expected),
                "expected " + expected + " but was " + actual);
    }
}
