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

    /** {@code [queries][numLabels]}: label indices, best first. Queries are processed in blocks to bound memory. */
    public static int[][] rank(Backend backend, float[][] train, int[] trainLabels, int numLabels, float[][] queries, int k) {
        if (train.length == 0) throw new IllegalArgumentException("k-NN needs training points");
        int dim = train[0].length, nt = train.length, kk = Math.min(k, nt);
        int[][] out = new int[queries.length][];
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
                    out[from + i] = rankOne(row, trainLabels, numLabels, kk);
                }
            }
        }
        return out;
    }

    static int[] rankOne(float[] sim, int[] labels, int numLabels, int k) {
        // The k largest similarities by partial selection on indices.
        Integer[] idx = new Integer[sim.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> Float.compare(sim[b], sim[a]) != 0 ? Float.compare(sim[b], sim[a]) : Integer.compare(a, b));
        double[] votes = new double[numLabels], simSum = new double[numLabels], best = new double[numLabels];
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (int j = 0; j < k; j++) {
            votes[labels[idx[j]]]++;
            simSum[labels[idx[j]]] += sim[idx[j]];
        }
        for (int i = 0; i < sim.length; i++) best[labels[i]] = Math.max(best[labels[i]], sim[i]);
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
