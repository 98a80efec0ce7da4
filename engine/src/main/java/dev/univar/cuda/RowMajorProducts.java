package dev.univar.cuda;

/**
 * univar's row-major products written as cuBLAS's column-major GEMMs, on device addresses (bytes; strides and leading
 * dimensions count floats). Kept apart from {@link CudaBackend} so that the mapping (operand order, transposes,
 * leading dimensions, strides, per-head offsets) is tested on the CPU against the scalar reference with a plain Java
 * column-major GEMM standing in for cuBLAS ({@code RowMajorProductsTest}).
 *
 * <p>The mapping: cuBLAS reads a matrix with leading dimension {@code ld} as column-major, element (i, j) at
 * {@code i + j·ld}, so a row-major {@code [r, c]} matrix with row stride {@code ld} is, to cuBLAS, its transpose
 * {@code [c, r]} with that same {@code ld}. The row-major {@code out[m,n] = op(a) · op(b)} is computed as the
 * column-major {@code outᵀ[n,m] = op(b)ᵀ · op(a)ᵀ}: b first, a second, {@code m} and {@code n} swapped, every
 * operand's row stride as its leading dimension, and an operand transposed for cuBLAS exactly when it is transposed
 * in the row-major product. E.g. {@code b} stored {@code [k,n]} is seen as {@code [n,k]} = {@code op(b)ᵀ} already
 * (no transpose, ld n); stored {@code [n,k]} ({@code transB}, a PyTorch Linear weight) it is seen as {@code [k,n]}
 * and must be transposed (ld k).
 */
final class RowMajorProducts {

    /** The two cuBLAS calls used, in cuBLAS's own column-major terms and argument order. */
    interface ColumnMajorGemm {
        void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                  float beta, long c, int ldc);

        void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                                int batchCount);
    }

    private final ColumnMajorGemm blas;

    RowMajorProducts(ColumnMajorGemm blas) {
        this.blas = blas;
    }

    /**
     * Row-major {@code out[m,n] = (accumulate ? out : 0) + op(a) · op(b)}: {@code op(a)} is {@code a[m,k]} or, with
     * {@code transA}, {@code a[k,m]} transposed; {@code op(b)} is {@code b[k,n]} or, with {@code transB},
     * {@code b[n,k]} transposed. Needs {@code m, n, k >= 1} (cuBLAS wants leading dimensions of at least 1; the
     * backend handles empty products itself).
     */
    void gemm(long a, boolean transA, long b, boolean transB, boolean accumulate, long out, int m, int n, int k) {
        blas.gemm(transB, transA, n, m, k, 1f, b, transB ? k : n, a, transA ? m : k, accumulate ? 1f : 0f, out, n);
    }

    /**
     * Backward of {@code out[m,n] = x[m,k] · w[n,k]ᵀ} (a PyTorch Linear): {@code dX[m,k] = dOut[m,n] · w[n,k]}
     * (skipped when {@code dX} is 0) and {@code dW[n,k] += dOut[m,n]ᵀ · x[m,k]}. Needs {@code m, n, k >= 1}.
     */
    void linearBackward(long dOut, long x, long w, long dX, long dW, int m, int n, int k) {
        if (dX != 0) gemm(dOut, false, w, false, false, dX, m, k, n);
        gemm(dOut, true, x, false, true, dW, n, k, m);
    }

    /**
     * Attention scores {@code S[b, h] = scale · Q_bh K_bhᵀ} into {@code scores[batch, heads, seq, seq]}. Head h of
     * sequence b is the {@code [seq, headDim]} block at row {@code b·seq}, column {@code h·headDim} of q and k, whose
     * rows are {@code ld} floats apart (the width, or 3× for a fused QKV tensor). cuBLAS gets (K_bh, T, ld),
     * (Q_bh, N, ld) and the output with ld seq, in strided batches ({@link #forEachBlock}).
     */
    void attentionScores(long q, long k, int ld, long scores, int batch, int seq, int heads, int headDim, float scale) {
        forEachBlock(batch, seq, heads, headDim, ld, (in, act, s, inStride, actStride, sStride, count) ->
                blas.gemmStridedBatched(true, false, seq, seq, headDim, scale, k + in, ld, inStride, q + in, ld,
                        inStride, 0f, scores + s, seq, sStride, count));
    }

    /**
     * {@code out_bh = P_bh V_bh} for probabilities {@code probs[batch, heads, seq, seq]}; out rows are
     * {@code heads·headDim} floats (head h at column {@code h·headDim}), v rows {@code ld}. cuBLAS gets (V_bh, N, ld),
     * (P_bh, N, seq) and the output block with ld width.
     */
    void attentionContext(long probs, long v, int ld, long out, int batch, int seq, int heads, int headDim) {
        int width = heads * headDim;
        forEachBlock(batch, seq, heads, headDim, ld, (in, act, s, inStride, actStride, sStride, count) ->
                blas.gemmStridedBatched(false, false, headDim, seq, seq, 1f, v + in, ld, inStride, probs + s, seq,
                        sStride, 0f, out + act, width, actStride, count));
    }

    /**
     * The first half of attention's backward, per head: {@code dV = Pᵀ dO} and {@code dP = dO V_hᵀ} (into
     * {@code dScores[batch, heads, seq, seq]}). All activations have rows of {@code heads·headDim} floats.
     */
    void attentionBackwardValues(long probs, long dOut, long v, long dV, long dScores, int batch, int seq, int heads,
                                 int headDim) {
        int width = heads * headDim;
        forEachBlock(batch, seq, heads, headDim, width, (in, act, s, inStride, actStride, sStride, count) -> {
            // dV = Pᵀ dO: a = P transposed (stored [seq_q, seq_k], ld seq), b = dO (ld width).
            blas.gemmStridedBatched(false, true, headDim, seq, seq, 1f, dOut + act, width, actStride, probs + s, seq,
                    sStride, 0f, dV + act, width, actStride, count);
            // dP = dO V_hᵀ: a = dO (ld width), b = V_h transposed (ld width).
            blas.gemmStridedBatched(true, false, seq, seq, headDim, 1f, v + act, width, actStride, dOut + act, width,
                    actStride, 0f, dScores + s, seq, sStride, count);
        });
    }

    /**
     * The second half, from the score gradients {@code dS} (the softmax backward, scale included): {@code dQ = dS K_h}
     * and {@code dK = dSᵀ Q_h}.
     */
    void attentionBackwardQueriesKeys(long dScores, long q, long k, long dQ, long dK, int batch, int seq, int heads,
                                      int headDim) {
        int width = heads * headDim;
        forEachBlock(batch, seq, heads, headDim, width, (in, act, s, inStride, actStride, sStride, count) -> {
            // dQ = dS K_h: a = dS (ld seq), b = K_h (ld width).
            blas.gemmStridedBatched(false, false, headDim, seq, seq, 1f, k + act, width, actStride, dScores + s, seq,
                    sStride, 0f, dQ + act, width, actStride, count);
            // dK = dSᵀ Q_h: a = dS transposed (ld seq), b = Q_h (ld width).
            blas.gemmStridedBatched(false, true, headDim, seq, seq, 1f, q + act, width, actStride, dScores + s, seq,
                    sStride, 0f, dK + act, width, actStride, count);
        });
    }

    /** One strided batch of per-(sequence, head) products; offsets in bytes, strides in floats. */
    @FunctionalInterface
    interface Block {
        /**
         * @param in        byte offset of the first block in a tensor with rows {@code ld} floats apart (q, k, v)
         * @param act       byte offset of the first block in a tensor with rows {@code heads·headDim} floats apart
         * @param scores    byte offset of the first {@code [seq, seq]} block of a {@code [batch, heads, seq, seq]} tensor
         * @param inStride  floats between consecutive blocks of {@code in}; likewise the other two
         * @param count     blocks in this batch
         */
        void run(long in, long act, long scores, long inStride, long actStride, long scoresStride, int count);
    }

    /**
     * Covers every (sequence b, head h) pair with as few strided batches as the layout allows: the (b, h) block starts
     * {@code b·seq·ld + h·headDim} floats in, {@code (b·heads + h)·seq²} in the scores, which is affine in b for a
     * fixed h and in h for a fixed b. So either one batch per head over the sequences (strides {@code seq·ld} and
     * {@code heads·seq²}) or one batch per sequence over the heads (strides {@code headDim} and {@code seq²}),
     * whichever is fewer calls: for a single text that is 1 cuBLAS call per product instead of {@code heads}.
     * Blocks of one batch never overlap (interleaved output columns are disjoint), as cuBLAS requires of C.
     */
    static void forEachBlock(int batch, int seq, int heads, int headDim, int ld, Block call) {
        long width = (long) heads * headDim, square = (long) seq * seq;
        if (heads <= batch) {
            for (int h = 0; h < heads; h++)
                call.run(column(h, headDim), column(h, headDim), block(h, seq), (long) seq * ld, (long) seq * width,
                        heads * square, batch);
        } else {
            for (int b = 0; b < batch; b++) {
                long rows = (long) b * seq; // the sequence's first token
                call.run(rows * ld * Float.BYTES, rows * width * Float.BYTES, (long) b * heads * square * Float.BYTES,
                        headDim, headDim, square, heads);
            }
        }
    }

    /** Byte offset of head h's first column. */
    private static long column(int h, int headDim) {
        return (long) h * headDim * Float.BYTES;
    }

    /** Byte offset of head h's {@code [seq, seq]} block within one sequence's scores. */
    private static long block(int h, int seq) {
        return (long) h * seq * seq * Float.BYTES;
    }
}
