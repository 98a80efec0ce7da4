package dev.univar.values;

import java.util.SplittableRandom;

/**
 * Distances between two samples of embeddings, with permutation-test p-values:
 * <ul>
 * <li>MMD² with a Gaussian (RBF) kernel, the unbiased estimator; the bandwidth is the median pairwise distance of
 * the pooled sample (the median heuristic);</li>
 * <li>energy distance {@code 2·E|X-Y| - E|X-X'| - E|Y-Y'|} (Székely and Rizzo), V-statistic form.</li>
 * </ul>
 * A p-value is {@code (1 + #{permutations at least as large}) / (1 + permutations)}: the pooled points are
 * relabelled at random, which under the null (one distribution) leaves the statistic's distribution unchanged.
 * The pooled distance matrix is computed once, so each permutation is O((n+m)²).
 */
public final class TwoSample {
    public record Result(double mmd2, double mmdP, double energy, double energyP, double bandwidth) {
    }

    private TwoSample() {
    }

    public static Result test(float[][] a, float[][] b, int permutations, long seed) {
        int na = a.length, nb = b.length, n = na + nb;
        if (na < 2 || nb < 2) throw new IllegalArgumentException("a two-sample test needs at least 2 points per sample");
        float[][] pooled = new float[n][];
        System.arraycopy(a, 0, pooled, 0, na);
        System.arraycopy(b, 0, pooled, na, nb);
        double[] norms = Neighbours.sqNorms(pooled);
        double[][] dist = new double[n][n];
        java.util.stream.IntStream.range(0, n).parallel().forEach(i -> Neighbours.distancesFrom(pooled, norms, i, dist[i]));
        double[] upper = new double[n * (n - 1) / 2];
        int c = 0;
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) upper[c++] = dist[i][j];
        java.util.Arrays.sort(upper);
        double h = upper[upper.length / 2];
        if (h <= 0) h = 1;
        double[][] kernel = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) kernel[i][j] = Math.exp(-dist[i][j] * dist[i][j] / (2 * h * h));
        boolean[] inA = new boolean[n];
        for (int i = 0; i < na; i++) inA[i] = true;
        double mmd = mmd2(kernel, inA, na, nb), energy = energy(dist, inA, na, nb);
        int mmdAtLeast = 0, energyAtLeast = 0;
        SplittableRandom r = new SplittableRandom(seed);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        boolean[] lab = new boolean[n];
        for (int p = 0; p < permutations; p++) {
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            java.util.Arrays.fill(lab, false);
            for (int i = 0; i < na; i++) lab[perm[i]] = true;
            if (mmd2(kernel, lab, na, nb) >= mmd - 1e-12) mmdAtLeast++;
            if (energy(dist, lab, na, nb) >= energy - 1e-12) energyAtLeast++;
        }
        return new Result(mmd, (1.0 + mmdAtLeast) / (1.0 + permutations), energy, (1.0 + energyAtLeast) / (1.0 + permutations), h);
    }

    /** Unbiased MMD² for the split of the pooled sample given by {@code inA}. */
    static double mmd2(double[][] k, boolean[] inA, int na, int nb) {
        double[] s = blockSums(k, inA);
        return (s[0] - na) / ((double) na * (na - 1)) + (s[1] - nb) / ((double) nb * (nb - 1)) - 2 * s[2] / ((double) na * nb);
    }

    static double energy(double[][] d, boolean[] inA, int na, int nb) {
        double[] s = blockSums(d, inA);
        return 2 * s[2] / ((double) na * nb) - s[0] / ((double) na * na) - s[1] / ((double) nb * nb);
    }

    /** Sums of the within-A, within-B (diagonals included) and A×B blocks of a symmetric matrix. */
    private static double[] blockSums(double[][] m, boolean[] inA) {
        double aa = 0, bb = 0, ab = 0;
        int n = m.length;
        for (int i = 0; i < n; i++) {
            double[] row = m[i];
            boolean ai = inA[i];
            for (int j = 0; j < n; j++) {
                if (ai == inA[j]) {
                    if (ai) aa += row[j];
                    else bb += row[j];
                } else if (ai) ab += row[j];
            }
        }
        return new double[]{aa, bb, ab};
    }
}
