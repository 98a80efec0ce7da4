package dev.univar.cpu;

import dev.univar.tensor.Tensor;

/**
 * The argument checks of each {@link dev.univar.tensor.TrainingBackend} operation, shared by the scalar reference,
 * the Vector API backend and the CUDA backend so all reject the same calls with the same messages.
 */
public final class TrainingChecks {
    private TrainingChecks() {
    }

    public static void matmulBackward(Tensor dOut, Tensor x, Tensor w, Tensor dX, Tensor dW, Tensor dBias, int m, int n, int k) {
        Args.nonNegative(m, n, k);
        Args.fits("dOut", dOut, (long) m * n);
        Args.fits("x", x, (long) m * k);
        Args.fits("w", w, (long) n * k);
        Args.fits("dW", dW, (long) n * k);
        if (dX != null) Args.fits("dX", dX, (long) m * k);
        if (dBias != null) Args.fits("dBias", dBias, n);
    }

    /**
     * The saved statistics' sizes, and no aliasing of {@code out} with the inputs: the statistics are computed from
     * the inputs after {@code out} is written. The forward operands are checked by {@code layerNorm} itself.
     */
    public static void layerNormTrain(Tensor x, Tensor residual, Tensor out, Tensor xhat, Tensor rstd, int rows, int dim) {
        Args.nonNegative(rows, dim);
        if (out.data().asOverlappingSlice(x.data()).isPresent()
                || residual != null && out.data().asOverlappingSlice(residual.data()).isPresent())
            throw new IllegalArgumentException("layerNormTrain: out may not alias its inputs");
        Args.fits("xhat", xhat, (long) rows * dim);
        Args.fits("rstd", rstd, rows);
    }

    public static void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, long n, long step) {
        Args.nonNegative(n);
        if (step < 1) throw new IllegalArgumentException("step counts from 1, got " + step);
        Args.fits("param", param, n);
        Args.fits("grad", grad, n);
        Args.fits("m", m, n);
        Args.fits("v", v, n);
    }

    public static void layerNormBackward(Tensor dOut, Tensor xhat, Tensor rstd, Tensor gamma, Tensor dY, Tensor dGamma,
                                  Tensor dBeta, int rows, int dim) {
        Args.nonNegative(rows, dim);
        long size = (long) rows * dim;
        Args.fits("dOut", dOut, size);
        Args.fits("xhat", xhat, size);
        Args.fits("rstd", rstd, rows);
        Args.fits("gamma", gamma, dim);
        Args.fits("dY", dY, size);
        Args.fits("dGamma", dGamma, dim);
        Args.fits("dBeta", dBeta, dim);
    }

    public static void geluBackward(Tensor x, Tensor dOut, Tensor dX, long n) {
        Args.nonNegative(n);
        Args.fits("x", x, n);
        Args.fits("dOut", dOut, n);
        Args.fits("dX", dX, n);
    }

    public static void attentionForwardTrain(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor probs,
                                      int batch, int seq, int heads, int headDim) {
        Args.nonNegative(batch, seq, heads, headDim);
        long size = (long) batch * seq * heads * headDim;
        Args.fits("q", q, size);
        Args.fits("k", k, size);
        Args.fits("v", v, size);
        Args.fits("out", out, size);
        Args.fits("mask", mask, (long) batch * seq);
        Args.fits("probs", probs, (long) batch * heads * seq * seq);
    }

    public static void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor probs, Tensor dOut, Tensor dQ,
                                  Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        Args.nonNegative(batch, seq, heads, headDim);
        long size = (long) batch * seq * heads * headDim;
        Args.fits("q", q, size);
        Args.fits("k", k, size);
        Args.fits("v", v, size);
        Args.fits("dOut", dOut, size);
        Args.fits("dQ", dQ, size);
        Args.fits("dK", dK, size);
        Args.fits("dV", dV, size);
        Args.fits("mask", mask, (long) batch * seq);
        Args.fits("probs", probs, (long) batch * heads * seq * seq);
    }

    public static void embeddingsBackward(int[] ids, int[] typeIds, Tensor dOut, Tensor dWord, Tensor dPosition,
                                   Tensor dTokenType, int batch, int seq, int hidden) {
        Args.nonNegative(batch, seq, hidden);
        long tokens = (long) batch * seq;
        Args.ids("ids", ids, tokens, (int) (dWord.size() / Math.max(1, hidden)));
        if (typeIds != null) Args.ids("typeIds", typeIds, tokens, (int) (dTokenType.size() / Math.max(1, hidden)));
        Args.fits("dOut", dOut, tokens * hidden);
        if (dPosition != null) Args.fits("dPosition", dPosition, (long) seq * hidden);
        Args.fits("dTokenType", dTokenType, hidden);
    }

    public static void meanPoolBackward(Tensor dOut, Tensor mask, Tensor dX, int batch, int seq, int dim) {
        Args.nonNegative(batch, seq, dim);
        Args.fits("dOut", dOut, (long) batch * dim);
        Args.fits("mask", mask, (long) batch * seq);
        Args.fits("dX", dX, (long) batch * seq * dim);
    }

    public static void l2NormalizeBackward(Tensor x, Tensor dOut, Tensor dX, int rows, int dim) {
        Args.nonNegative(rows, dim);
        Args.fits("x", x, (long) rows * dim);
        Args.fits("dOut", dOut, (long) rows * dim);
        Args.fits("dX", dX, (long) rows * dim);
    }

    /** {@code n >= 0} and {@code t} holds at least {@code n} elements (sumOfSquares, scale, zero). */
    public static void elements(Tensor t, long n) {
        Args.nonNegative(n);
        Args.fits("t", t, n);
    }
}
