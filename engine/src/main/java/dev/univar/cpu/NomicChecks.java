package dev.univar.cpu;

import dev.univar.tensor.Tensor;

/**
 * Argument checks of the NomicBERT operations ({@link Rotary}, {@link SwiGlu}, {@link FlashAttention}), shared with
 * their scalar references ({@link ScalarNomicOps}) so that both reject the same calls.
 */
final class NomicChecks {

    private NomicChecks() {
    }

    /** {@code x} holds {@code batch * seq} rows of {@code blocks * heads * headDim} columns. */
    static void rotary(Tensor x, int blocks, Tensor cos, Tensor sin, int batch, int seq, int heads, int headDim,
                       int rotaryDim) {
        Args.nonNegative(batch, seq, heads, headDim, rotaryDim);
        if (rotaryDim % 2 != 0 || rotaryDim > headDim)
            throw new IllegalArgumentException("rotary dim " + rotaryDim + " must be even and at most the head dim " + headDim);
        Args.fits("x", x, (long) batch * seq * blocks * heads * headDim);
        long table = (long) seq * (rotaryDim / 2);
        Args.fits("cos", cos, table);
        Args.fits("sin", sin, table);
    }

    static void swiglu(Tensor a, Tensor g, Tensor y, int rows, int width) {
        Args.nonNegative(rows, width);
        long n = (long) rows * width;
        Args.fits("a", a, n);
        Args.fits("g", g, n);
        Args.fits("y", y, n);
    }

    static void swigluFused(Tensor ag, Tensor y, int rows, int width) {
        Args.nonNegative(rows, width);
        Args.fits("ag", ag, 2L * rows * width);
        Args.fits("y", y, (long) rows * width);
        if (ag == y) throw new IllegalArgumentException("y may not alias ag");
    }

    static void swigluBackward(Tensor a, Tensor g, Tensor dY, Tensor dA, Tensor dG, int rows, int width) {
        swiglu(a, g, dY, rows, width);
        long n = (long) rows * width;
        Args.fits("dA", dA, n);
        Args.fits("dG", dG, n);
        if (dA == dG) throw new IllegalArgumentException("dA and dG may not alias");
    }

    static void swigluFusedBackward(Tensor ag, Tensor dY, Tensor dAG, int rows, int width) {
        swigluFused(ag, dY, rows, width);
        Args.fits("dAG", dAG, 2L * rows * width);
        if (dAG == ag || dAG == dY) throw new IllegalArgumentException("dAG may not alias an input");
    }

    /**
     * Attention over q, k, v of {@code ld} floats per row ({@code heads * headDim}, or three times that when fused),
     * {@code out} (and {@code dOut}) {@code [batch * seq, heads * headDim]}, {@code lse} (may be null)
     * {@code [batch * heads * seq]}.
     */
    static void attention(Tensor q, Tensor k, Tensor v, int ld, Tensor mask, Tensor out, Tensor lse, int batch, int seq,
                          int heads, int headDim) {
        Args.nonNegative(batch, seq, heads, headDim);
        long tokens = (long) batch * seq;
        Args.fits("q", q, tokens * ld);
        Args.fits("k", k, tokens * ld);
        Args.fits("v", v, tokens * ld);
        Args.fits("out", out, tokens * heads * headDim);
        Args.fits("mask", mask, tokens);
        if (lse != null) Args.fits("lse", lse, tokens * heads);
    }

    /** The backward's operands besides those of {@link #attention}: dOut like out, the gradients like q, k, v. */
    static void attentionBackward(Tensor q, Tensor k, Tensor v, int ld, Tensor mask, Tensor out, Tensor lse, Tensor dOut,
                                  Tensor dQ, Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        if (lse == null) throw new NullPointerException("lse");
        attention(q, k, v, ld, mask, out, lse, batch, seq, heads, headDim);
        long tokens = (long) batch * seq;
        Args.fits("dOut", dOut, tokens * heads * headDim);
        Args.fits("dQ", dQ, tokens * ld);
        Args.fits("dK", dK, tokens * ld);
        Args.fits("dV", dV, tokens * ld);
    }
}
