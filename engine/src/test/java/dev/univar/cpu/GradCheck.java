package dev.univar.cpu;

import dev.univar.tensor.Tensor;

import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.fail;

/** Central finite differences in double, and the comparison of gradients against them. */
public final class GradCheck {

    private GradCheck() {
    }

    /** {@code d f / d x[i]} for every i by central differences with step {@code h} (x is restored). */
    public static double[] numeric(double[] x, ToDoubleFunction<double[]> f, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = f.applyAsDouble(x);
            x[i] = keep - h;
            double down = f.applyAsDouble(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /**
     * Every {@code actual[i]} within relative {@code rel} of {@code expected[i]}; the relative error of a component
     * is taken against at least 1% of the largest expected component, so that components that are 0 up to float
     * noise do not fail on the noise.
     */
    public static void assertClose(double[] expected, double[] actual, double rel, String what) {
        if (expected.length != actual.length) fail(what + ": " + expected.length + " vs " + actual.length + " values");
        double max = 0;
        for (double e : expected) max = Math.max(max, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (!Double.isFinite(a) || Math.abs(a - e) > rel * Math.max(Math.abs(e), 0.01 * max) + 1e-30)
                fail("%s[%d]: expected %.9g, got %.9g (max |expected| %.3g)".formatted(what, i, e, a, max));
        }
    }

    public static double[] toDouble(Tensor t, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = t.get(i);
        return d;
    }

    public static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    public static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
        return d;
    }
}
