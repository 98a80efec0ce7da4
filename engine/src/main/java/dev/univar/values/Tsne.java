package dev.univar.values;

import java.util.stream.IntStream;

/**
 * t-SNE (van der Maaten and Hinton 2008) with an exact gradient. Input affinities are computed over each point's
 * 3·perplexity nearest neighbours (the rest are negligible), so memory is O(n·perplexity); the Student-t
 * repulsion is summed over all pairs each iteration without storing them, O(n²) time and O(n) memory. Settings
 * follow scikit-learn: PCA initialisation scaled to a standard deviation of 1e-4, early exaggeration 12 for 250
 * iterations, momentum 0.5 then 0.8, learning rate max(n / 48, 50), adaptive gains.
 */
public final class Tsne {
    /** {@code seed} is accepted for symmetry with UMAP; t-SNE here is deterministic without it (PCA initialisation). */
    public record Options(double perplexity, int iterations, long seed) {
        public static Options defaults(long seed) {
            return new Options(30, 1000, seed);
        }
    }

    private Tsne() {
    }

    public static double[][] fit(float[][] x, Options o) {
        int n = x.length;
        if (n < 4) throw new IllegalArgumentException("t-SNE needs at least 4 points, got " + n);
        double perplexity = Math.min(o.perplexity(), (n - 1) / 3.0);
        int k = Math.min(n - 1, (int) (3 * perplexity + 1));
        Neighbours.Graph g = Neighbours.of(x, k);
        double[][] p = conditional(g, perplexity);
        // Symmetrise P_ij = (p_j|i + p_i|j) / 2n on the union of the neighbour lists.
        java.util.Map<Long, Double> sym = new java.util.TreeMap<>();
        for (int i = 0; i < n; i++)
            for (int m = 0; m < k; m++) {
                int j = g.index()[i][m];
                long key = i < j ? (long) i * n + j : (long) j * n + i;
                sym.merge(key, p[i][m] / (2.0 * n), Double::sum);
            }
        int edges = sym.size();
        int[] ei = new int[edges], ej = new int[edges];
        double[] pw = new double[edges];
        int c = 0;
        for (var e : sym.entrySet()) {
            ei[c] = (int) (e.getKey() / n);
            ej[c] = (int) (e.getKey() % n);
            pw[c++] = e.getValue();
        }
        double[][] y = Pca.project(x, 2);
        double sd = 0, mean = 0;
        for (double[] q : y) mean += q[0];
        mean /= n;
        for (double[] q : y) sd += (q[0] - mean) * (q[0] - mean);
        sd = Math.sqrt(sd / n);
        if (sd == 0) sd = 1;
        for (double[] q : y) {
            q[0] *= 1e-4 / sd;
            q[1] *= 1e-4 / sd;
        }
        double lr = Math.max(n / 12.0 / 4.0, 50);
        double[][] update = new double[n][2], gains = new double[n][2];
        for (double[] gi : gains) java.util.Arrays.fill(gi, 1);
        double[][] grad = new double[n][2];
        double[] rowZ = new double[n];
        for (int it = 0; it < o.iterations(); it++) {
            boolean early = it < 250;
            double exaggeration = early ? 12 : 1, momentum = early ? 0.5 : 0.8;
            // Repulsion: each row's sums are computed independently (parallel, deterministic).
            double[][] yy = y;
            IntStream.range(0, n).parallel().forEach(i -> {
                double z = 0, rx = 0, ry = 0, xi = yy[i][0], yi = yy[i][1];
                for (int j = 0; j < n; j++) {
                    if (j == i) continue;
                    double dx = xi - yy[j][0], dy = yi - yy[j][1], w = 1 / (1 + dx * dx + dy * dy);
                    z += w;
                    rx += w * w * dx;
                    ry += w * w * dy;
                }
                rowZ[i] = z;
                grad[i][0] = rx;
                grad[i][1] = ry;
            });
            double z = 0;
            for (double v : rowZ) z += v;
            for (double[] gr : grad) {
                gr[0] = -gr[0] / z;
                gr[1] = -gr[1] / z;
            }
            for (int e = 0; e < edges; e++) {
                int i = ei[e], j = ej[e];
                double dx = y[i][0] - y[j][0], dy = y[i][1] - y[j][1], w = 1 / (1 + dx * dx + dy * dy);
                double f = exaggeration * pw[e] * w;
                grad[i][0] += f * dx;
                grad[i][1] += f * dy;
                grad[j][0] -= f * dx;
                grad[j][1] -= f * dy;
            }
            for (int i = 0; i < n; i++)
                for (int d = 0; d < 2; d++) {
                    double gd = 4 * grad[i][d];
                    gains[i][d] = Math.signum(gd) != Math.signum(update[i][d]) ? gains[i][d] + 0.2 : Math.max(0.01, gains[i][d] * 0.8);
                    update[i][d] = momentum * update[i][d] - lr * gains[i][d] * gd;
                    y[i][d] += update[i][d];
                }
        }
        return y;
    }

    /** p_j|i over each point's neighbours, with the Gaussian's precision found by binary search for the perplexity. */
    static double[][] conditional(Neighbours.Graph g, double perplexity) {
        int n = g.index().length;
        double target = Math.log(perplexity);
        double[][] p = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] d = g.distance()[i];
            double[] row = new double[d.length];
            double beta = 1, lo = 0, hi = Double.POSITIVE_INFINITY, d0 = d[0] * d[0];
            for (int it = 0; it < 100; it++) {
                double sum = 0, weighted = 0;
                for (int m = 0; m < d.length; m++) {
                    double dd = d[m] * d[m] - d0; // shifted for stability; cancels in the normalisation
                    row[m] = Math.exp(-dd * beta);
                    sum += row[m];
                    weighted += dd * row[m];
                }
                double entropy = Math.log(sum) + beta * weighted / sum;
                for (int m = 0; m < d.length; m++) row[m] /= sum;
                if (Math.abs(entropy - target) < 1e-5) break;
                if (entropy > target) {
                    lo = beta;
                    beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (lo + hi) / 2;
                } else {
                    hi = beta;
                    beta = (lo + hi) / 2;
                }
            }
            p[i] = row;
        }
        return p;
    }
}
