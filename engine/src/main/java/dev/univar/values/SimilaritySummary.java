package dev.univar.values;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well embeddings separate their labels (LLMs): for each label, the mean cosine similarity of its texts to
 * one another and to other labels' texts, and leave-one-out nearest-centroid identification accuracy.
 * Embeddings are expected L2-normalised, so a dot product is the cosine.
 */
public record SimilaritySummary(List<Row> rows, double[][] centroidCosine, double accuracy, double chance) {

    public record Row(String label, int count, double within, double between, double accuracy) {
    }

    public static SimilaritySummary of(List<String> labels, float[][] embeddings) {
        Map<String, List<Integer>> byLabel = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) byLabel.computeIfAbsent(labels.get(i), k -> new ArrayList<>()).add(i);
        List<String> keys = new ArrayList<>(byLabel.keySet());
        int dim = embeddings.length == 0 ? 0 : embeddings[0].length, nk = keys.size();
        double[][] sums = new double[nk][dim];
        for (int c = 0; c < nk; c++)
            for (int i : byLabel.get(keys.get(c)))
                for (int d = 0; d < dim; d++) sums[c][d] += embeddings[i][d];

        List<Row> rows = new ArrayList<>();
        int correctAll = 0;
        for (int c = 0; c < nk; c++) {
            List<Integer> members = byLabel.get(keys.get(c));
            double within = 0, between = 0;
            long nWithin = 0, nBetween = 0;
            int correct = 0;
            for (int i : members) {
                for (int j = 0; j < embeddings.length; j++) {
                    if (j == i) continue;
                    double s = dot(embeddings[i], embeddings[j]);
                    if (labels.get(j).equals(keys.get(c))) { within += s; nWithin++; } else { between += s; nBetween++; }
                }
                if (nearestCentroid(embeddings[i], c, sums, byLabel, keys) == c) correct++;
            }
            correctAll += correct;
            rows.add(new Row(keys.get(c), members.size(), nWithin == 0 ? Double.NaN : within / nWithin,
                    nBetween == 0 ? Double.NaN : between / nBetween, (double) correct / members.size()));
        }
        double[][] centroidCos = new double[nk][nk];
        for (int a = 0; a < nk; a++)
            for (int b = 0; b < nk; b++)
                centroidCos[a][b] = dot(sums[a], sums[b]) / Math.max(1e-12, norm(sums[a]) * norm(sums[b]));
        return new SimilaritySummary(rows, centroidCos, labels.isEmpty() ? 0 : (double) correctAll / labels.size(),
                nk == 0 ? 0 : 1.0 / nk);
    }

    /** Nearest centroid by cosine, the text's own label's centroid computed without the text itself. */
    private static int nearestCentroid(float[] e, int own, double[][] sums, Map<String, List<Integer>> byLabel,
                                       List<String> keys) {
        int best = -1;
        double bestCos = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < sums.length; c++) {
            double[] centroid = sums[c];
            if (c == own) {
                if (byLabel.get(keys.get(c)).size() < 2) continue;
                centroid = centroid.clone();
                for (int d = 0; d < e.length; d++) centroid[d] -= e[d];
            }
            double cos = dot(e, centroid) / Math.max(1e-12, norm(centroid));
            if (cos > bestCos) { bestCos = cos; best = c; }
        }
        return best;
    }

    /** A plain-text table for the terminal. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(5, rows.stream().mapToInt(r -> r.label().length()).max().orElse(5));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s  %6s  %12s  %12s  %10s%n", "LLM", "texts", "cos within", "cos others", "identified"));
        for (Row r : rows)
            sb.append(String.format(Locale.ROOT, "%-" + w + "s  %6d  %12.4f  %12.4f  %9.1f%%%n", r.label(), r.count(), r.within(),
                    r.between(), 100 * r.accuracy()));
        sb.append(String.format(Locale.ROOT, "nearest-centroid identification (leave one out): %.1f%% (chance %.1f%%)%n",
                100 * accuracy, 100 * chance));
        return sb.toString();
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    private static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }
}
