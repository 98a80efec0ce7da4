package dev.univar.values;

import java.util.Arrays;

/**
 * Per-answer evidence about which label wrote each of a set of answers, kept in a form that adds up over a group
 * of answers from one source, so that several answers decide together instead of being concatenated into one text
 * (which the encoder would truncate):
 * <ul>
 *   <li>probe: log-probabilities; a group's are summed, and the probabilities are the softmax of the sums (the
 *   posterior of independent answers under equal priors);</li>
 *   <li>k-NN: the k nearest reference answers' votes and summed similarities; a group's are summed, and its score
 *   is the share of the group's n·k votes, ties broken by summed similarity, then by the best single similarity;
 *   how sure it is: the first label's voters' summed similarity over n·k (a vote share that shrinks when the
 *   neighbours are far, which is what an LLM missing from the reference looks like);</li>
 *   <li>centroid: cosine similarity to each label's centroid; a group's score is its mean cosine distance.</li>
 * </ul>
 */
public final class Evidence {
    private final Identifier.Method method;
    private final double[][] main;   // probe: log-probabilities; k-NN: votes; centroid: cosine similarity
    private final double[][] second; // k-NN: summed similarity of the voters
    private final double[][] best;   // k-NN: best similarity to any reference answer of the label
    private final int k;

    private Evidence(Identifier.Method method, double[][] main, double[][] second, double[][] best, int k) {
        this.method = method;
        this.main = main;
        this.second = second;
        this.best = best;
        this.k = k;
    }

    public static Evidence probe(double[][] logProbabilities) {
        return new Evidence(Identifier.Method.PROBE, logProbabilities, null, null, 0);
    }

    public static Evidence knn(double[][] votes, double[][] similarity, double[][] best, int k) {
        return new Evidence(Identifier.Method.KNN, votes, similarity, best, k);
    }

    public static Evidence centroid(double[][] similarity) {
        return new Evidence(Identifier.Method.CENTROID, similarity, null, null, 0);
    }

    /** How many answers this evidence is about. */
    public int size() {
        return main.length;
    }

    public Identifier.Method method() {
        return method;
    }

    /** The ranking one answer alone gives. */
    public Ranking single(int row) {
        return combine(new int[]{row});
    }

    /** The ranking of the labels for the answers {@code rows} taken together. */
    public Ranking combine(int[] rows) {
        if (rows.length == 0) throw new IllegalArgumentException("a group needs at least one answer");
        int n = main[rows[0]].length;
        double[] sum = new double[n];
        for (int r : rows) for (int c = 0; c < n; c++) sum[c] += main[r][c];
        return switch (method) {
            case PROBE -> {
                double max = Arrays.stream(sum).max().orElse(0), z = 0;
                double[] p = new double[n];
                for (int c = 0; c < n; c++) z += p[c] = Math.exp(sum[c] - max);
                for (int c = 0; c < n; c++) p[c] /= z;
                int[] order = descending(sum);
                yield new Ranking(method, rows.length, order, p, p[order[0]]);
            }
            case KNN -> {
                double[] sim = new double[n], top = new double[n];
                Arrays.fill(top, Double.NEGATIVE_INFINITY);
                for (int r : rows)
                    for (int c = 0; c < n; c++) {
                        sim[c] += second[r][c];
                        top[c] = Math.max(top[c], best[r][c]);
                    }
                double[] share = new double[n];
                for (int c = 0; c < n; c++) share[c] = sum[c] / ((double) k * rows.length);
                int[] order = Knn.order(sum, sim, top);
                yield new Ranking(method, rows.length, order, share, sim[order[0]] / ((double) k * rows.length));
            }
            case CENTROID -> {
                double[] distance = new double[n];
                for (int c = 0; c < n; c++) distance[c] = 1 - sum[c] / rows.length;
                int[] order = descending(sum);
                yield new Ranking(method, rows.length, order, distance, -distance[order[0]]);
            }
        };
    }

    /** Indices by decreasing value, ties by index. */
    private static int[] descending(double[] v) {
        return java.util.stream.IntStream.range(0, v.length).boxed()
                .sorted((a, b) -> v[a] != v[b] ? Double.compare(v[b], v[a]) : Integer.compare(a, b))
                .mapToInt(Integer::intValue).toArray();
    }

    /**
     * One group's labels, best first ({@code order}), and each label's score ({@code score[label]}, in the method's
     * unit: probability, vote share, or cosine distance).
     *
     * @param confidence how sure the ranking is of its first label, higher meaning surer, as the unknown-LLM
     *                   threshold reads it ({@link Identifier.Method#confidence}): the first label's probability,
     *                   its voters' summed similarity over n·k, or its negated distance
     */
    public record Ranking(Identifier.Method method, int answers, int[] order, double[] score, double confidence) {
        public int top() {
            return order[0];
        }

        /** The best label's score. */
        public double topScore() {
            return score[order[0]];
        }

        /** Where {@code label} is in the ranking, 0 for the first. */
        public int rankOf(int label) {
            for (int i = 0; i < order.length; i++) if (order[i] == label) return i;
            throw new IllegalArgumentException("no label " + label);
        }
    }
}
