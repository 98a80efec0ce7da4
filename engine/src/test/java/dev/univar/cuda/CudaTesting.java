package dev.univar.cuda;

import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the CUDA tests share: the skip where there is no driver, and the comparisons, which also keep the worst
 * difference of each check so that a GPU run's log shows one line of numbers per check.
 *
 * <p>Nothing here touches FFM when a test class is loaded: the first native call is {@link #assumeDriver()}'s.
 */
final class CudaTesting {

    private CudaTesting() {
    }

    /**
     * Skips the calling test where no CUDA driver and device are usable. Called from {@code @BeforeEach}, so that
     * every test reports itself skipped (an assumption in {@code @BeforeAll} hides them from the counts).
     */
    static void assumeDriver() {
        Assumptions.assumeTrue(CudaContext.available(), "no CUDA driver: skipped");
    }

    /** The worst differences per check, printed one line each by {@link #print()}. */
    static final class Summary {
        private final String title;
        private final Map<String, double[]> worst = new TreeMap<>(); // {max |diff|, max relative, comparisons}

        Summary(String title) {
            this.title = title;
        }

        synchronized void add(String check, double absDiff, double relDiff, long comparisons) {
            double[] w = worst.computeIfAbsent(check, c -> new double[3]);
            w[0] = Math.max(w[0], absDiff);
            w[1] = Math.max(w[1], relDiff);
            w[2] += comparisons;
        }

        synchronized void print() {
            worst.forEach((check, w) -> System.out.printf(Locale.ROOT,
                    "CUDA check %s %-30s max |diff| %.3e, max rel %.3e over %.0f values%n", title, check, w[0], w[1], w[2]));
        }
    }

    /**
     * {@code |actual - expected| <= tolerance * (1 + |expected|)} for the first {@code n} elements, never NaN, as the
     * CPU backend tests compare; records the worst difference under {@code check}.
     */
    static void assertClose(Summary summary, String check, Tensor expected, Tensor actual, double tolerance, long n,
                            String what) {
        double maxAbs = 0, maxRel = 0;
        for (long i = 0; i < n; i++) {
            float e = expected.get(i), a = actual.get(i);
            double d = Math.abs(a - e);
            if (!(d <= tolerance * (1 + Math.abs(e))))
                fail(what + ": element " + i + " expected " + e + " but was " + a);
            maxAbs = Math.max(maxAbs, d);
            maxRel = Math.max(maxRel, d / (1 + Math.abs(e)));
        }
        summary.add(check, maxAbs, maxRel, n);
    }

    /**
     * Every {@code actual[i]} within relative {@code rel} of {@code expected[i]}, measured against at least 1% of the
     * largest expected component (components that are 0 up to float noise do not fail on the noise), as the CPU
     * training tests compare; records the worst such relative error under {@code check}.
     */
    static void assertRelative(Summary summary, String check, double[] expected, double[] actual, double rel,
                               String what) {
        assertRelative(summary, check, expected, actual, rel, 0, what);
    }

    /**
     * {@link #assertRelative(Summary, String, double[], double[], double, String)} with an absolute {@code floor} added
     * to every tolerance: for gradients that are exactly 0 in exact arithmetic (the key bias: softmax ignores a shift
     * of a whole row of scores), which any float backward gives as rounding noise.
     */
    static void assertRelative(Summary summary, String check, double[] expected, double[] actual, double rel,
                               double floor, String what) {
        if (expected.length != actual.length) fail(what + ": " + expected.length + " vs " + actual.length + " values");
        double max = 0;
        for (double e : expected) max = Math.max(max, Math.abs(e));
        double worstAbs = 0, worstRel = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i], scale = Math.max(Math.abs(e), 0.01 * max) + 1e-30;
            double d = Math.abs(a - e);
            if (!Double.isFinite(a) || d > rel * scale + floor)
                fail("%s[%d]: expected %.9g, got %.9g (max |expected| %.3g)".formatted(what, i, e, a, max));
            worstAbs = Math.max(worstAbs, d);
            worstRel = Math.max(worstRel, d / scale);
        }
        summary.add(check, worstAbs, worstRel, expected.length);
    }

    static double[] toDouble(Tensor t, long n) {
        double[] d = new double[Math.toIntExact(n)];
        for (int i = 0; i < d.length; i++) d[i] = t.get(i);
        return d;
    }
}
