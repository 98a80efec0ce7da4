package dev.univar.values;

import java.util.ArrayList;
import java.util.List;

/**
 * Agglomerative clustering with average linkage (UPGMA) on a distance matrix, for ordering keys so that similar
 * ones sit together in a heatmap. The order is the dendrogram's leaf order: a merged cluster lists the leaves of
 * the sub-cluster holding the smaller original index first. O(n³), fine for tens of keys.
 */
public final class AverageLinkage {
    /** One merge: the two clusters' leaves, and the average distance between them. */
    public record Merge(List<Integer> left, List<Integer> right, double distance) {
    }

    public record Result(List<Integer> order, List<Merge> merges) {
    }

    private AverageLinkage() {
    }

    public static Result cluster(double[][] d) {
        int n = d.length;
        List<List<Integer>> clusters = new ArrayList<>();
        for (int i = 0; i < n; i++) clusters.add(new ArrayList<>(List.of(i)));
        List<Merge> merges = new ArrayList<>();
        while (clusters.size() > 1) {
            int bi = 0, bj = 1;
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < clusters.size(); i++)
                for (int j = i + 1; j < clusters.size(); j++) {
                    double v = average(d, clusters.get(i), clusters.get(j));
                    if (v < best) {
                        best = v;
                        bi = i;
                        bj = j;
                    }
                }
            List<Integer> a = clusters.get(bi), b = clusters.get(bj);
            if (min(b) < min(a)) {
                List<Integer> t = a;
                a = b;
                b = t;
            }
            merges.add(new Merge(List.copyOf(a), List.copyOf(b), best));
            List<Integer> merged = new ArrayList<>(a);
            merged.addAll(b);
            clusters.remove(bj);
            clusters.set(bi, merged);
        }
        return new Result(n == 0 ? List.of() : List.copyOf(clusters.get(0)), merges);
    }

    private static double average(double[][] d, List<Integer> a, List<Integer> b) {
        double s = 0;
        for (int i : a) for (int j : b) s += d[i][j];
        return s / (a.size() * (double) b.size());
    }

    private static int min(List<Integer> c) {
        return c.stream().mapToInt(Integer::intValue).min().orElse(Integer.MAX_VALUE);
    }
}
