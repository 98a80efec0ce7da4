package dev.univar.cpu;

import dev.univar.tensor.Tensor;

/**
 * The argument checks of each {@link dev.univar.tensor.Backend} operation, shared by the scalar reference, the
 * Vector API backend and the CUDA backend so all reject the same calls with the same messages.
 */
public final class BackendChecks {
    private BackendChecks() {
    }

    /** matmul and gemm: {@code a} holds m·k, {@code b} k·n, {@code out} m·n, {@code bias} n floats. */
    public static void product(Tensor a, Tensor b, Tensor bias, Tensor out, int m, int n, int k) {
        Args.nonNegative(m, n, k);
        Args.fits("a", a, (long) m * k);
        Args.fits("b", b, (long) k * n);
        Args.fits("out", out, (long) m * n);
        if (bias != null) Args.fits("bias", bias, n);
    }

    /** linear: {@code a} holds m·k, {@code out} m·n, {@code bias} n floats (the packed matrix is its backend's to check). */
    public static void linear(Tensor a, Tensor bias, Tensor out, int m, int n, int k) {
        Args.nonNegative(m, n, k);
        Args.fits("a", a, (long) m * k);
        Args.fits("out", out, (long) m * n);
        if (bias != null) Args.fits("bias", bias, n);
    }

    public static void pack(Tensor b, int n, int k) {
        Args.nonNegative(n, k);
        Args.fits("b", b, (long) k * n);
    }

    public static void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, Tensor out, int rows, int dim) {
        Args.nonNegative(rows, dim);
        long size = (long) rows * dim;
        Args.fits("x", x, size);
        if (residual != null) Args.fits("residual", residual, size);
        Args.fits("gamma", gamma, dim);
        Args.fits("beta", beta, dim);
        Args.fits("out", out, size);
    }

    public static void gelu(Tensor x, Tensor out, long n) {
        Args.nonNegative(n);
        Args.fits("x", x, n);
        Args.fits("out", out, n);
    }

    public static void maskedSoftmax(Tensor x, Tensor mask, int batch, int rowsPerBatch, int cols) {
        Args.nonNegative(batch, rowsPerBatch, cols);
        Args.fits("x", x, (long) batch * rowsPerBatch * cols);
        Args.fits("mask", mask, (long) batch * cols);
    }

    public static void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        Args.nonNegative(batch, seq, heads, headDim);
        long size = (long) batch * seq * heads * headDim;
        Args.fits("q", q, size);
        Args.fits("k", k, size);
        Args.fits("v", v, size);
        Args.fits("out", out, size);
        Args.fits("mask", mask, (long) batch * seq);
    }

    public static void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        Args.nonNegative(batch, seq, heads, headDim);
        long tokens = (long) batch * seq, width = (long) heads * headDim;
        Args.fits("qkv", qkv, tokens * 3 * width);
        Args.fits("out", out, tokens * width);
        Args.fits("mask", mask, tokens);
    }

    public static void embeddings(int[] ids, int[] typeIds, Tensor word, Tensor position, Tensor tokenType, Tensor out,
                           int batch, int seq, int hidden) {
        Args.nonNegative(batch, seq, hidden);
        long tokens = (long) batch * seq;
        Args.ids("ids", ids, tokens, (int) (word.size() / Math.max(1, hidden)));
        if (typeIds != null) Args.ids("typeIds", typeIds, tokens, (int) (tokenType.size() / Math.max(1, hidden)));
        if (position != null) Args.fits("position", position, (long) seq * hidden);
        Args.fits("tokenType", tokenType, hidden);
        Args.fits("out", out, tokens * hidden);
    }

    public static void meanPool(Tensor x, Tensor mask, Tensor out, int batch, int seq, int dim) {
        Args.nonNegative(batch, seq, dim);
        Args.fits("x", x, (long) batch * seq * dim);
        Args.fits("mask", mask, (long) batch * seq);
        Args.fits("out", out, (long) batch * dim);
    }

    public static void l2Normalize(Tensor x, int rows, int dim) {
        Args.nonNegative(rows, dim);
        Args.fits("x", x, (long) rows * dim);
    }

    public static void add(Tensor a, Tensor b, Tensor out, long n) {
        Args.nonNegative(n);
        Args.fits("a", a, n);
        Args.fits("b", b, n);
        Args.fits("out", out, n);
    }
}
