package dev.univar.values;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well embeddings separate their labels (LLMs), measured across questions: answers to the same question are
 * alike whoever wrote them, so every comparison here leaves the text's own question out. For each label: the mean
 * cosine similarity of its texts to its own other texts and to other labels' texts (pairs on different questions
 * only), and leave-one-question-out nearest-centroid identification (centroids built without the text's question,
 * as the paper's question-level split). Embeddings are expected L2-normalised, so a dot product is the cosine.
 */
public record SimilaritySummary(List<Row> rows, double accuracy, double chance) {

    public record Row(String label, int count, double within, double between, double accuracy) {
    }

    /**
     * @param labels    the label (LLM) of each text
     * @param questions the question each text answers (texts of one question are never compared)
     */
    public static SimilaritySummary of(List<String> labels, List<String> questions, float[][] embeddings) {
        int n = embeddings.length, dim = n == 0 ? 0 : embeddings[0].length;
        Map<String, Integer> labelIndex = new LinkedHashMap<>();
        Map<String, Integer> questionIndex = new HashMap<>();
        int[] label = new int[n], question = new int[n];
        for (int i = 0; i < n; i++) {
            label[i] = labelIndex.computeIfAbsent(labels.get(i), k -> labelIndex.size());
            question[i] = questionIndex.computeIfAbsent(questions.get(i), k -> questionIndex.size());
        }
        int nl = labelIndex.size(), nq = questionIndex.size();
        // Per label: the sum of all its embeddings, and the sums per (label, question), so a centroid without
        // one question is a subtraction.
        double[][] sum = new double[nl][dim];
        Map<Long, double[]> sumByQuestion = new HashMap<>();
        int[] count = new int[nl];
        Map<Long, Integer> countByQuestion = new HashMap<>();
        for (int i = 0; i < n; i++) {
            long key = (long) label[i] * nq + question[i];
            double[] s = sumByQuestion.computeIfAbsent(key, k -> new double[dim]);
            for (int d = 0; d < dim; d++) {
                sum[label[i]][d] += embeddings[i][d];
                s[d] += embeddings[i][d];
            }
            count[label[i]]++;
            countByQuestion.merge(key, 1, Integer::sum);
        }
        double[] within = new double[nl], between = new double[nl];
        long[] nWithin = new long[nl], nBetween = new long[nl];
        int[] correct = new int[nl];
        int correctAll = 0, evaluated = 0;
        double[] centroid = new double[dim];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (question[j] == question[i]) continue;
                double s = dot(embeddings[i], embeddings[j]);
                if (label[j] == label[i]) { within[label[i]] += s; nWithin[label[i]]++; }
                else { between[label[i]] += s; nBetween[label[i]]++; }
            }
            int best = -1;
            double bestCos = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < nl; c++) {
                long key = (long) c * nq + question[i];
                double[] q = sumByQuestion.get(key);
                if (count[c] - countByQuestion.getOrDefault(key, 0) == 0) continue;
                for (int d = 0; d < dim; d++) centroid[d] = sum[c][d] - (q == null ? 0 : q[d]);
                double cos = dot(embeddings[i], centroid) / Math.max(1e-12, Math.sqrt(dot(centroid, centroid)));
                if (cos > bestCos) { bestCos = cos; best = c; }
            }
            if (best >= 0) {
                evaluated++;
                if (best == label[i]) { correct[label[i]]++; correctAll++; }
            }
        }
        List<Row> rows = new ArrayList<>();
        for (var e : labelIndex.entrySet()) {
            int c = e.getValue();
            rows.add(new Row(e.getKey(), count[c], nWithin[c] == 0 ? Double.NaN : within[c] / nWithin[c],
                    nBetween[c] == 0 ? Double.NaN : between[c] / nBetween[c], (double) correct[c] / count[c]));
        }
        return new SimilaritySummary(rows, evaluated == 0 ? 0 : (double) correctAll / evaluated, nl == 0 ? 0 : 1.0 / nl);
    }

    /** A plain-text table for the terminal. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(5, rows.stream().mapToInt(r -> r.label().length()).max().orElse(5));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s  %6s  %11s  %11s  %10s%n", "LLM", "texts", "cos same", "cos other", "identified"));
        for (Row r : rows)
            sb.append(String.format(Locale.ROOT, "%-" + w + "s  %6d  %11.4f  %11.4f  %9.1f%%%n", r.label(), r.count(),
                    r.within(), r.between(), 100 * r.accuracy()));
        sb.append(String.format(Locale.ROOT, "cos same / cos other: mean cosine to the same LLM's / other LLMs' answers to other questions%n"));
        sb.append(String.format(Locale.ROOT, "identified: nearest LLM centroid, the answer's question left out: %.1f%% (chance %.1f%%)%n",
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
}
