package dev.univar.values;

import java.util.stream.IntStream;

/**
 * Exact Euclidean nearest neighbours by brute force (a few thousand points: O(n²·d) time, O(n·k) memory), shared
 * by UMAP, t-SNE and trustworthiness. Rows are processed in parallel, each independently, so results do not depend
 * on the thread count. Ties are broken by the lower index.
 */
public final class Neighbours {
    /** {@code index[i]} are the {@code k} nearest points to {@code i} (itself excluded), nearest first; {@code distance} alike. */
    public record Graph(int[][] index, double[][] distance) {
    }

    private Neighbours() {
    }

    public static Graph of(float[][] x, int k) {
        int n = x.length;
        if (k < 1 || k >= n) throw new IllegalArgumentException("need 1 <= k < n points, got k=" + k + ", n=" + n);
        double[] norms = sqNorms(x);
        int[][] index = new int[n][];
        double[][] distance = new double[n][];
        IntStream.range(0, n).parallel().forEach(i -> {
            double[] row = new double[n];
            distancesFrom(x, norms, i, row);
            int[] idx = new int[k];
            double[] d = new double[k];
            int size = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                double v = row[j];
                if (size == k && v >= d[k - 1]) continue;
                int p = size < k ? size++ : k - 1;
                while (p > 0 && d[p - 1] > v) { // insertion keeps the list sorted; equal distances keep index order
                    d[p] = d[p - 1];
                    idx[p] = idx[p - 1];
                    p--;
                }
                d[p] = v;
                idx[p] = j;
            }
            index[i] = idx;
            distance[i] = d;
        });
        return new Graph(index, distance);
    }

    static double[] sqNorms(float[][] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double s = 0;
            for (float v : x[i]) s += (double) v * v;
            out[i] = s;
        }
        return out;
    }

    /** {@code out[j]} = Euclidean distance from point {@code i} to point {@code j}. */
    static void distancesFrom(float[][] x, double[] norms, int i, double[] out) {
        float[] a = x[i];
        for (int j = 0; j < x.length; j++) {
            float[] b = x[j];
            double dot = 0;
            for (int k = 0; k < a.length; k++) dot += a[k] * b[k];
            out[j] = j == i ? 0 : Math.sqrt(Math.max(0, norms[i] + norms[j] - 2 * dot));
        }
    }

    static float[][] toFloat(double[][] y) {
        float[][] out = new float[y.length][];
        for (int i = 0; i < y.length; i++) {
            out[i] = new float[y[i].length];
            for (int j = 0; j < y[i].length; j++) out[i][j] = (float) y[i][j];
        }
        return out;
    }
}
