package dev.univar.values;

import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * Brute-force cosine k-nearest-neighbour classification of L2-normalised embeddings: the similarity matrix is one
 * GEMM on the engine's backend. Each query's labels are ranked by votes among its {@code k} nearest training
 * points, ties broken by the summed similarity of those neighbours; labels without a vote follow, ordered by their
 * best similarity to the query, so every label has a rank (for accuracy@k).
 */
public final class Knn {
    private Knn() {
    }

    /**
     * What the {@code k} nearest training points say about each query, per label: {@code votes[q][c]} is how many
     * of them carry label {@code c}, {@code similarity[q][c]} their summed cosine similarity to the query, and
     * {@code best[q][c]} the query's best similarity to any training point of label {@code c}. All three add up
     * (best: takes the maximum) over a group of queries, which is how several answers are combined.
     */
    public record Votes(double[][] votes, double[][] similarity, double[][] best, int k) {
    }

    /** {@code [queries][numLabels]}: label indices, best first. Queries are processed in blocks to bound memory. */
    public static int[][] rank(Backend backend, float[][] train, int[] trainLabels, int numLabels, float[][] queries, int k) {
        Votes v = votes(backend, train, trainLabels, numLabels, queries, k);
        int[][] out = new int[queries.length][];
        for (int i = 0; i < out.length; i++) out[i] = order(v.votes()[i], v.similarity()[i], v.best()[i]);
        return out;
    }

    /** The votes of each query's {@code k} nearest training points (fewer when there are fewer points). */
    public static Votes votes(Backend backend, float[][] train, int[] trainLabels, int numLabels, float[][] queries, int k) {
        if (train.length == 0) throw new IllegalArgumentException("k-NN needs training points");
        int dim = train[0].length, nt = train.length, kk = Math.min(k, nt);
        double[][] votes = new double[queries.length][], sims = new double[queries.length][], best = new double[queries.length][];
        int block = Math.max(1, Math.min(queries.length, (int) Math.max(1, (64L << 20) / (4L * nt))));
        try (Arena arena = Arena.ofShared()) {
            Tensor t = Tensor.allocate(arena, nt, dim);
            for (int i = 0; i < nt; i++) t.data().asSlice((long) i * dim * 4, (long) dim * 4).copyFrom(java.lang.foreign.MemorySegment.ofArray(train[i]));
            Tensor q = Tensor.allocate(arena, block, dim), s = Tensor.allocate(arena, block, nt);
            float[] row = new float[nt];
            for (int from = 0; from < queries.length; from += block) {
                int nq = Math.min(block, queries.length - from);
                for (int i = 0; i < nq; i++) q.data().asSlice((long) i * dim * 4, (long) dim * 4).copyFrom(java.lang.foreign.MemorySegment.ofArray(queries[from + i]));
                backend.matmul(q, t, true, null, s, nq, nt, dim);
                for (int i = 0; i < nq; i++) {
                    java.lang.foreign.MemorySegment.copy(s.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) i * nt * 4, row, 0, nt);
                    int at = from + i;
                    votes[at] = new double[numLabels];
                    sims[at] = new double[numLabels];
                    best[at] = new double[numLabels];
                    voteOne(row, trainLabels, kk, votes[at], sims[at], best[at]);
                }
            }
        }
        return new Votes(votes, sims, best, kk);
    }

    private static void voteOne(float[] sim, int[] labels, int k, double[] votes, double[] simSum, double[] best) {
        // The k largest similarities: a full sort of the indices (ties by index, so the result is deterministic).
        Integer[] idx = new Integer[sim.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> Float.compare(sim[b], sim[a]) != 0 ? Float.compare(sim[b], sim[a]) : Integer.compare(a, b));
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (int j = 0; j < k; j++) {
            votes[labels[idx[j]]]++;
            simSum[labels[idx[j]]] += sim[idx[j]];
        }
        for (int i = 0; i < sim.length; i++) best[labels[i]] = Math.max(best[labels[i]], sim[i]);
    }

    /**
     * Labels ranked by votes; ties broken by the summed similarity of the voting neighbours, then (labels without
     * a vote) by the best similarity, then by label index.
     */
    public static int[] order(double[] votes, double[] simSum, double[] best) {
        int numLabels = votes.length;
        Integer[] order = new Integer[numLabels];
        for (int c = 0; c < numLabels; c++) order[c] = c;
        Arrays.sort(order, (a, b) -> {
            if (votes[a] != votes[b]) return Double.compare(votes[b], votes[a]);
            if (votes[a] > 0 && simSum[a] != simSum[b]) return Double.compare(simSum[b], simSum[a]);
            if (best[a] != best[b]) return Double.compare(best[b], best[a]);
            return Integer.compare(a, b);
        });
        int[] r = new int[numLabels];
        for (int c = 0; c < numLabels; c++) r[c] = order[c];
        return r;
    }
}
