package dev.univar.values;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * UMAP (McInnes, Healy and Melville 2018), the layout the UniVaR paper draws its value maps with. The standard
 * algorithm in three steps:
 * <ol>
 * <li>a fuzzy simplicial set: each point's k nearest neighbours get membership {@code exp(-(d - ρ) / σ)}, ρ the
 * distance to the nearest neighbour and σ found by binary search so memberships sum to log₂ k; the directed
 * graph is symmetrised by the fuzzy union {@code a + b - a·b};</li>
 * <li>an initial layout: the top two principal components, scaled to [-10, 10] (PCA rather than spectral
 * initialisation, which UMAP also offers);</li>
 * <li>SGD on the fuzzy cross-entropy: each edge is sampled in proportion to its weight and pulls its ends
 * together, with negative samples pushing random points apart; the learning rate decays linearly.</li>
 * </ol>
 * Single-threaded SGD with a seeded generator, so the layout is a function of the input and the seed.
 */
public final class Umap {
    /** {@code epochs} 0 picks UMAP's default (500 for up to 10,000 points, else 200). */
    public record Options(int neighbours, int epochs, int negativeSamples, long seed) {
        public static Options defaults(long seed) {
            return new Options(15, 0, 5, seed);
        }
    }

    // The curve 1 / (1 + a·d^(2b)) fitted to min_dist = 0.1, spread = 1 (UMAP's defaults), as umap-learn computes it.
    static final double A = 1.576943460405378, B = 0.8950608781227859;

    private Umap() {
    }

    public static double[][] fit(float[][] x, Options o) {
        int n = x.length;
        if (n < 3) throw new IllegalArgumentException("UMAP needs at least 3 points, got " + n);
        int k = Math.min(o.neighbours(), n - 1);
        List<int[]> edges = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        fuzzyGraph(Neighbours.of(x, k), n, edges, weights);
        double[][] y = Pca.project(x, 2);
        double max = 1e-12;
        for (double[] p : y) max = Math.max(max, Math.max(Math.abs(p[0]), Math.abs(p[1])));
        for (double[] p : y) {
            p[0] *= 10 / max;
            p[1] *= 10 / max;
        }
        int epochs = o.epochs() > 0 ? o.epochs() : n <= 10_000 ? 500 : 200;
        optimise(y, edges, weights, epochs, o.negativeSamples(), new SplittableRandom(o.seed()));
        return y;
    }

    /** Symmetrised fuzzy simplicial set as a list of directed edges (both directions of every pair). */
    static void fuzzyGraph(Neighbours.Graph g, int n, List<int[]> edges, List<Double> weights) {
        int k = g.index()[0].length;
        double target = Math.log(k) / Math.log(2);
        Map<Long, Double> directed = new HashMap<>();
        double meanDist = 0;
        for (double[] d : g.distance()) for (double v : d) meanDist += v;
        meanDist /= (double) n * k;
        for (int i = 0; i < n; i++) {
            double[] d = g.distance()[i];
            double rho = 0;
            for (double v : d) if (v > 0) { rho = v; break; }
            double lo = 0, hi = Double.POSITIVE_INFINITY, sigma = 1;
            for (int it = 0; it < 64; it++) {
                double sum = 0;
                for (double v : d) sum += Math.exp(-Math.max(0, v - rho) / sigma);
                if (Math.abs(sum - target) < 1e-5) break;
                if (sum > target) {
                    hi = sigma;
                    sigma = (lo + hi) / 2;
                } else {
                    lo = sigma;
                    sigma = hi == Double.POSITIVE_INFINITY ? sigma * 2 : (lo + hi) / 2;
                }
            }
            sigma = Math.max(sigma, 1e-3 * meanDist); // as umap-learn: no point's scale collapses to zero
            for (int m = 0; m < k; m++) {
                double w = Math.exp(-Math.max(0, d[m] - rho) / sigma);
                directed.put((long) i * n + g.index()[i][m], w);
            }
        }
        // Fuzzy union, in a fixed order (sorted pair keys) so edge order, and so the SGD, is deterministic.
        Map<Long, Double> sym = new java.util.TreeMap<>();
        for (var e : directed.entrySet()) {
            long key = e.getKey();
            int i = (int) (key / n), j = (int) (key % n);
            double a = e.getValue(), b = directed.getOrDefault((long) j * n + i, 0.0);
            sym.put(key, a + b - a * b);
            sym.put((long) j * n + i, a + b - a * b);
        }
        for (var e : sym.entrySet()) {
            edges.add(new int[]{(int) (e.getKey() / n), (int) (e.getKey() % n)});
            weights.add(e.getValue());
        }
    }

    static void optimise(double[][] y, List<int[]> edges, List<Double> weights, int epochs, int negRate, SplittableRandom r) {
        int n = y.length;
        double wMax = 0;
        for (double w : weights) wMax = Math.max(wMax, w);
        // Edges too weak to be sampled even once in the whole run are dropped, as umap-learn does.
        List<int[]> e = new ArrayList<>();
        List<Double> eps = new ArrayList<>();
        for (int i = 0; i < edges.size(); i++) {
            if (weights.get(i) < wMax / epochs) continue;
            e.add(edges.get(i));
            eps.add(wMax / weights.get(i));
        }
        int m = e.size();
        double[] epochsPerSample = new double[m], nextSample = new double[m], epochsPerNeg = new double[m], nextNeg = new double[m];
        for (int i = 0; i < m; i++) {
            epochsPerSample[i] = eps.get(i);
            nextSample[i] = eps.get(i);
            epochsPerNeg[i] = eps.get(i) / negRate;
            nextNeg[i] = epochsPerNeg[i];
        }
        for (int epoch = 0; epoch < epochs; epoch++) {
            double alpha = 1.0 - (double) epoch / epochs;
            for (int i = 0; i < m; i++) {
                if (nextSample[i] > epoch) continue;
                double[] a = y[e.get(i)[0]], b = y[e.get(i)[1]];
                double dx = a[0] - b[0], dy = a[1] - b[1], d2 = dx * dx + dy * dy;
                if (d2 > 0) {
                    double coeff = -2 * A * B * Math.pow(d2, B - 1) / (A * Math.pow(d2, B) + 1);
                    double gx = clip(coeff * dx) * alpha, gy = clip(coeff * dy) * alpha;
                    a[0] += gx;
                    a[1] += gy;
                    b[0] -= gx;
                    b[1] -= gy;
                }
                nextSample[i] += epochsPerSample[i];
                int negatives = (int) ((epoch - nextNeg[i]) / epochsPerNeg[i]);
                for (int p = 0; p < negatives; p++) {
                    int c = r.nextInt(n);
                    if (y[c] == a) continue;
                    double[] t = y[c];
                    dx = a[0] - t[0];
                    dy = a[1] - t[1];
                    d2 = dx * dx + dy * dy;
                    double coeff = d2 > 0 ? 2 * B / ((0.001 + d2) * (A * Math.pow(d2, B) + 1)) : 0;
                    a[0] += (coeff > 0 ? clip(coeff * dx) : 4) * alpha;
                    a[1] += (coeff > 0 ? clip(coeff * dy) : 4) * alpha;
                }
                nextNeg[i] += negatives * epochsPerNeg[i];
            }
        }
    }

    private static double clip(double v) {
        return Math.max(-4, Math.min(4, v));
    }
}
