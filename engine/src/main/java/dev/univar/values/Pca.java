package dev.univar.values;

import java.util.SplittableRandom;

/**
 * Principal component projection by power iteration with deflation on the covariance matrix (dimensions are a few
 * hundred, so the matrix is small). Each component's sign is fixed so its largest coefficient is positive, which
 * makes the result deterministic.
 */
public final class Pca {
    private Pca() {
    }

    /** {@code [n][components]}: the centred points projected on the top principal axes. */
    public static double[][] project(float[][] x, int components) {
        int n = x.length, d = x[0].length;
        double[] mean = new double[d];
        for (float[] row : x) for (int j = 0; j < d; j++) mean[j] += row[j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) c[j] = row[j] - mean[j];
            for (int a = 0; a < d; a++) {
                double ca = c[a];
                if (ca == 0) continue;
                double[] ra = cov[a];
                for (int b = a; b < d; b++) ra[b] += ca * c[b];
            }
        }
        for (int a = 0; a < d; a++) for (int b = a; b < d; b++) cov[b][a] = cov[a][b] /= Math.max(1, n - 1);
        double[][] axes = new double[components][];
        SplittableRandom r = new SplittableRandom(42);
        for (int p = 0; p < components; p++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) v[j] = r.nextDouble() - 0.5;
            normalise(v);
            double lambda = 0;
            for (int it = 0; it < 500; it++) {
                double[] w = new double[d];
                for (int a = 0; a < d; a++) {
                    double s = 0;
                    for (int b = 0; b < d; b++) s += cov[a][b] * v[b];
                    w[a] = s;
                }
                lambda = normalise(w);
                double delta = 0;
                for (int j = 0; j < d; j++) delta += Math.abs(w[j] - v[j]);
                v = w;
                if (delta < 1e-10 || lambda == 0) break;
            }
            int big = 0;
            for (int j = 1; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
            if (v[big] < 0) for (int j = 0; j < d; j++) v[j] = -v[j];
            axes[p] = v;
            for (int a = 0; a < d; a++) for (int b = 0; b < d; b++) cov[a][b] -= lambda * v[a] * v[b];
        }
        double[][] out = new double[n][components];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < components; p++) {
                double s = 0;
                for (int j = 0; j < d; j++) s += (x[i][j] - mean[j]) * axes[p][j];
                out[i][p] = s;
            }
        return out;
    }

    private static double normalise(double[] v) {
        double s = 0;
        for (double a : v) s += a * a;
        s = Math.sqrt(s);
        if (s > 0) for (int j = 0; j < v.length; j++) v[j] /= s;
        return s;
    }
}
