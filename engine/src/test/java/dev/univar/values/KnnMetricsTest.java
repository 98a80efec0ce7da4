package dev.univar.values;

import dev.univar.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KnnMetricsTest {
    @Test
    void metricsMatchHandComputedExample() {
        // truth:     0 0 1 1 2 ; top-1 predictions: 0 1 1 1 0
        int[] truth = {0, 0, 1, 1, 2};
        int[][] ranked = {{0, 1, 2}, {1, 0, 2}, {1, 2, 0}, {1, 0, 2}, {0, 2, 1}};
        Metrics m = Metrics.of(ranked, truth, 3);
        assertEquals(3.0 / 5, m.accuracy(1), 1e-12);
        assertEquals(1.0, m.accuracy(2), 1e-12); // truths sit at ranks 1,2,1,1,2
        assertEquals(1.0, m.accuracy(3), 1e-12);
        assertArrayEquals(new int[]{1, 1, 0}, m.confusion()[0]);
        assertArrayEquals(new int[]{0, 2, 0}, m.confusion()[1]);
        assertArrayEquals(new int[]{1, 0, 0}, m.confusion()[2]);
        // class 0: P=1/2 R=1/2 F=1/2 (support 2); class 1: P=2/3 R=1 F=0.8 (2); class 2: P=0 R=0 F=0 (1)
        assertEquals((0.5 * 2 + 2.0 / 3 * 2) / 5, m.precisionWeighted(), 1e-12);
        assertEquals((0.5 * 2 + 1.0 * 2) / 5, m.recallWeighted(), 1e-12);
        assertEquals((0.5 * 2 + 0.8 * 2) / 5, m.f1Weighted(), 1e-12);
        assertEquals((0.5 + 0.8 + 0) / 3, m.f1Macro(), 1e-12);
    }

    @Test
    void knnMatchesBruteForceVoting() {
        Random r = new Random(5);
        int nt = 300, nq = 40, dim = 19, labels = 4, k = 7;
        float[][] train = new float[nt][dim], q = new float[nq][dim];
        int[] tl = new int[nt];
        for (int i = 0; i < nt; i++) { tl[i] = i % labels; fillUnit(train[i], r, tl[i]); }
        for (int i = 0; i < nq; i++) fillUnit(q[i], r, i % labels);
        try (CpuBackend b = new CpuBackend(2)) {
            int[][] ranked = Knn.rank(b, train, tl, labels, q, k);
            for (int i = 0; i < nq; i++) {
                // brute force: similarities in double, k nearest, majority
                double[] sim = new double[nt];
                for (int j = 0; j < nt; j++) for (int d = 0; d < dim; d++) sim[j] += (double) q[i][d] * train[j][d];
                Integer[] idx = new Integer[nt];
                for (int j = 0; j < nt; j++) idx[j] = j;
                java.util.Arrays.sort(idx, (a, c) -> Double.compare(sim[c], sim[a]));
                int[] votes = new int[labels];
                for (int j = 0; j < k; j++) votes[tl[idx[j]]]++;
                int top = 0;
                for (int c = 1; c < labels; c++) if (votes[c] > votes[top]) top = c;
                assertEquals(votes[top], votes[ranked[i][0]], "query " + i + ": top label has the most votes");
                assertEquals(labels, java.util.Arrays.stream(ranked[i]).distinct().count());
            }
            Metrics m = Metrics.of(ranked, java.util.stream.IntStream.range(0, nq).map(i -> i % labels).toArray(), labels);
            assertTrue(m.accuracy(1) > 0.9, "clustered data is separable: " + m.accuracy(1));
        }
    }

    static void fillUnit(float[] v, Random r, int cluster) {
        double n = 0;
        for (int d = 0; d < v.length; d++) {
            v[d] = (float) (0.3 * r.nextGaussian() + (d == cluster ? 2 : 0));
            n += v[d] * v[d];
        }
        for (int d = 0; d < v.length; d++) v[d] /= (float) Math.sqrt(n);
    }
}
