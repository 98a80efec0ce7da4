package dev.univar.values;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** UMAP, t-SNE and PCA on data with known clusters; trustworthiness against hand-checkable cases. */
class LayoutTest {
    static final int CLUSTERS = 4, PER = 60, DIM = 20;

    /** Gaussian blobs around well-separated centres in 20 dimensions. */
    static float[][] blobs(long seed) {
        Random r = new Random(seed);
        float[][] centres = new float[CLUSTERS][DIM];
        for (float[] c : centres) for (int d = 0; d < DIM; d++) c[d] = (float) (r.nextGaussian() * 10);
        float[][] x = new float[CLUSTERS * PER][DIM];
        for (int i = 0; i < x.length; i++) for (int d = 0; d < DIM; d++) x[i][d] = centres[i / PER][d] + (float) r.nextGaussian();
        return x;
    }

    /** Every point is closer to its own cluster's centroid than to any other in the layout. */
    static void assertSeparated(double[][] y) {
        double[][] c = new double[CLUSTERS][2];
        for (int i = 0; i < y.length; i++) {
            c[i / PER][0] += y[i][0] / PER;
            c[i / PER][1] += y[i][1] / PER;
        }
        for (int i = 0; i < y.length; i++) {
            int best = -1;
            double bd = Double.POSITIVE_INFINITY;
            for (int k = 0; k < CLUSTERS; k++) {
                double d = Math.hypot(y[i][0] - c[k][0], y[i][1] - c[k][1]);
                if (d < bd) { bd = d; best = k; }
            }
            assertEquals(i / PER, best, "point " + i);
        }
    }

    @Test
    void umapSeparatesClustersTrustworthilyAndDeterministically() {
        float[][] x = blobs(1);
        double[][] y = Umap.fit(x, Umap.Options.defaults(3));
        assertSeparated(y);
        double t = Trustworthiness.of(x, y, 10);
        assertTrue(t >= 0.9, "trustworthiness " + t);
        assertArrayEquals(y[17], Umap.fit(x, Umap.Options.defaults(3))[17], "same seed, same layout");
    }

    @Test
    void tsneSeparatesClusters() {
        float[][] x = blobs(2);
        double[][] y = Tsne.fit(x, new Tsne.Options(30, 500, 0));
        assertSeparated(y);
        assertTrue(Trustworthiness.of(x, y, 10) >= 0.9);
    }

    @Test
    void pcaFindsTheMainAxis() {
        float[][] x = new float[50][3];
        Random r = new Random(4);
        for (float[] p : x) {
            double t = r.nextGaussian() * 5;
            p[0] = (float) t;
            p[1] = (float) (2 * t + r.nextGaussian() * 0.01);
            p[2] = (float) (r.nextGaussian() * 0.1);
        }
        double[][] y = Pca.project(x, 2);
        // The first component carries (almost) all the variance: it is ±(x0 + 2 x1)/√5 up to centring.
        double v0 = 0, v1 = 0;
        for (double[] p : y) { v0 += p[0] * p[0]; v1 += p[1] * p[1]; }
        assertTrue(v0 > 100 * v1, v0 + " vs " + v1);
    }

    @Test
    void trustworthinessOfHandMadeLayouts() {
        float[][] x = new float[12][1];
        double[][] same = new double[12][2];
        for (int i = 0; i < 12; i++) {
            x[i][0] = i;
            same[i][0] = i * 3; // a monotone rescaling keeps every neighbourhood
        }
        assertEquals(1.0, Trustworthiness.of(x, same, 3), 1e-12);
        // Random data, no ties: against a literal transcription of scikit-learn's formula with full argsorts.
        Random r = new Random(9);
        float[][] in = new float[40][5];
        double[][] out = new double[40][2];
        for (int i = 0; i < 40; i++) {
            for (int d = 0; d < 5; d++) in[i][d] = (float) r.nextGaussian();
            out[i][0] = in[i][0] + r.nextGaussian() * 0.5;
            out[i][1] = in[i][1] + r.nextGaussian() * 0.5;
        }
        assertEquals(sklearn(in, out, 5), Trustworthiness.of(in, out, 5), 1e-12);
    }

    static double sklearn(float[][] x, double[][] y, int k) {
        int n = x.length;
        long t = 0;
        for (int i = 0; i < n; i++) {
            final int ii = i;
            Integer[] byX = new Integer[n], byY = new Integer[n];
            for (int j = 0; j < n; j++) { byX[j] = j; byY[j] = j; }
            java.util.Arrays.sort(byX, java.util.Comparator.comparingDouble(j -> j == ii ? -1 : dist(x[ii], x[j])));
            java.util.Arrays.sort(byY, java.util.Comparator.comparingDouble(j -> j == ii ? -1 : Math.hypot(y[ii][0] - y[j][0], y[ii][1] - y[j][1])));
            int[] rank = new int[n];
            for (int p = 1; p < n; p++) rank[byX[p]] = p;
            for (int p = 1; p <= k; p++) t += Math.max(0, rank[byY[p]] - k);
        }
        return 1 - t * (2.0 / (n * k * (2.0 * n - 3 * k - 1)));
    }

    static double dist(float[] a, float[] b) {
        double s = 0;
        for (int d = 0; d < a.length; d++) s += (a[d] - b[d]) * (a[d] - b[d]);
        return Math.sqrt(s);
    }
}
