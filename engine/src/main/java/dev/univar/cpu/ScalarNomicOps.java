package dev.univar.cpu;

import dev.univar.tensor.Tensor;

import java.util.Arrays;

/**
 * The scalar references of the NomicBERT operations: {@link Rotary}, {@link SwiGlu} and {@link FlashAttention} with
 * the same signatures and semantics, written as plain loops, one thread, arithmetic in double. Meant to be obviously
 * correct rather than fast; the kernels are tested against these, and these against finite differences and the
 * official model's outputs.
 */
public final class ScalarNomicOps {

    private ScalarNomicOps() {
    }

    // ---- rotary

    /** {@link Rotary#rotate}: in place on {@code x[batch * seq, heads * headDim]}, by −θ when {@code inverse}. */
    public static void rotate(Tensor x, Tensor cos, Tensor sin, int batch, int seq, int heads, int headDim,
                              int rotaryDim, boolean inverse) {
        NomicChecks.rotary(x, 1, cos, sin, batch, seq, heads, headDim, rotaryDim);
        rotate(x, heads * headDim, heads, cos, sin, batch, seq, headDim, rotaryDim, inverse);
    }

    /** {@link Rotary#rotateQkv}: in place on the q and k blocks of {@code qkv[batch * seq, 3 * heads * headDim]}. */
    public static void rotateQkv(Tensor qkv, Tensor cos, Tensor sin, int batch, int seq, int heads, int headDim,
                                 int rotaryDim, boolean inverse) {
        NomicChecks.rotary(qkv, 3, cos, sin, batch, seq, heads, headDim, rotaryDim);
        rotate(qkv, 3 * heads * headDim, 2 * heads, cos, sin, batch, seq, headDim, rotaryDim, inverse);
    }

    /** The first {@code units} heads of each row ({@code ld} floats apart). */
    private static void rotate(Tensor x, int ld, int units, Tensor cos, Tensor sin, int batch, int seq, int headDim,
                               int rotaryDim, boolean inverse) {
        int half = rotaryDim / 2;
        double sign = inverse ? -1 : 1;
        for (long r = 0; r < (long) batch * seq; r++) {
            long p = r % seq;
            for (int u = 0; u < units; u++) {
                long base = r * ld + (long) u * headDim;
                for (int j = 0; j < half; j++) {
                    double c = cos.get(p * half + j), s = sign * sin.get(p * half + j);
                    double a = x.get(base + j), b = x.get(base + half + j);
                    x.set(base + j, (float) (a * c - b * s));
                    x.set(base + half + j, (float) (b * c + a * s));
                }
            }
        }
    }

    // ---- SwiGLU

    /** {@link SwiGlu#forward(Tensor, Tensor, Tensor, int, int)}: {@code y = a ⊙ SiLU(g)}, all {@code [rows, width]}. */
    public static void swiglu(Tensor a, Tensor g, Tensor y, int rows, int width) {
        NomicChecks.swiglu(a, g, y, rows, width);
        for (long i = 0, n = (long) rows * width; i < n; i++) y.set(i, (float) (a.get(i) * silu(g.get(i))));
    }

    /** {@link SwiGlu#forward(Tensor, Tensor, int, int)}: a and g side by side in {@code ag[rows, 2 * width]}, a first. */
    public static void swiglu(Tensor ag, Tensor y, int rows, int width) {
        NomicChecks.swigluFused(ag, y, rows, width);
        for (long r = 0; r < rows; r++)
            for (int c = 0; c < width; c++) {
                long in = r * 2 * width + c;
                y.set(r * width + c, (float) (ag.get(in) * silu(ag.get(in + width))));
            }
    }

    /** {@link SwiGlu#backward(Tensor, Tensor, Tensor, Tensor, Tensor, int, int)}. */
    public static void swigluBackward(Tensor a, Tensor g, Tensor dY, Tensor dA, Tensor dG, int rows, int width) {
        NomicChecks.swigluBackward(a, g, dY, dA, dG, rows, width);
        for (long i = 0, n = (long) rows * width; i < n; i++) {
            double av = a.get(i), gv = g.get(i), dy = dY.get(i);
            dA.set(i, (float) (dy * silu(gv)));
            dG.set(i, (float) (dy * av * siluDerivative(gv)));
        }
    }

    /** {@link SwiGlu#backward(Tensor, Tensor, Tensor, int, int)}: into {@code dAG[rows, 2 * width]}, dA first. */
    public static void swigluBackward(Tensor ag, Tensor dY, Tensor dAG, int rows, int width) {
        NomicChecks.swigluFusedBackward(ag, dY, dAG, rows, width);
        for (long r = 0; r < rows; r++)
            for (int c = 0; c < width; c++) {
                long in = r * 2 * width + c;
                double av = ag.get(in), gv = ag.get(in + width), dy = dY.get(r * width + c);
                dAG.set(in, (float) (dy * silu(gv)));
                dAG.set(in + width, (float) (dy * av * siluDerivative(gv)));
            }
    }

    /** {@code g σ(g)}. */
    public static double silu(double g) {
        return g * sigmoid(g);
    }

    /** {@code σ(g) (1 + g (1 − σ(g)))}. */
    public static double siluDerivative(double g) {
        double s = sigmoid(g);
        return s * (1 + g * (1 - s));
    }

    private static double sigmoid(double g) {
        return 1 / (1 + Math.exp(-g));
    }

    // ---- attention

    /**
     * {@link FlashAttention#forward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, int, int, int)}: multi-head
     * attention as {@link ScalarBackend#attention(Tensor, Tensor, Tensor, Tensor, Tensor, int, int, int, int)}, which
     * also writes {@code lse[(b * heads + h) * seq + i]}, the log of the row's softmax denominator over the real
     * keys, {@code log sum_j exp(q_i · k_j / sqrt(headDim))} (−∞ where no key is real, whose output is 0).
     * {@code lse} may be null.
     */
    public static void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, int batch, int seq,
                                 int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attention(q, k, v, w, mask, out, lse, batch, seq, heads, headDim);
        forward(q, 0, k, 0, v, 0, w, mask, out, lse, batch, seq, heads, headDim);
    }

    /** The same with q, k, v side by side in {@code qkv[batch * seq, 3 * heads * headDim]}. */
    public static void attention(Tensor qkv, Tensor mask, Tensor out, Tensor lse, int batch, int seq, int heads,
                                 int headDim) {
        int w = heads * headDim;
        NomicChecks.attention(qkv, qkv, qkv, 3 * w, mask, out, lse, batch, seq, heads, headDim);
        forward(qkv, 0, qkv, w, qkv, 2 * w, 3 * w, mask, out, lse, batch, seq, heads, headDim);
    }

    /**
     * The backward of {@link #attention}: from {@code dOut}, writes {@code dQ}, {@code dK}, {@code dV} (shaped like
     * q, k, v). {@code out} and {@code lse} are what the forward saved; this reference does not need them (it
     * recomputes the probabilities in double from q and k) but takes them to keep the kernel's signature. Padded
     * keys get zero gradient; a sequence without real keys gets zero gradient everywhere.
     */
    public static void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, Tensor dOut,
                                         Tensor dQ, Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attentionBackward(q, k, v, w, mask, out, lse, dOut, dQ, dK, dV, batch, seq, heads, headDim);
        backward(q, 0, k, 0, v, 0, w, mask, dOut, dQ, dK, dV, batch, seq, heads, headDim);
    }

    /** The fused backward: the gradient of q, k and v side by side in {@code dQkv}, like {@code qkv}. */
    public static void attentionBackward(Tensor qkv, Tensor mask, Tensor out, Tensor lse, Tensor dOut, Tensor dQkv,
                                         int batch, int seq, int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attentionBackward(qkv, qkv, qkv, 3 * w, mask, out, lse, dOut, dQkv, dQkv, dQkv, batch, seq, heads, headDim);
        backward(qkv, 0, qkv, w, qkv, 2 * w, 3 * w, mask, dOut, dQkv, dQkv, dQkv, batch, seq, heads, headDim);
    }

    /** q, k, v (and their gradients) start at columns qc, kc, vc of rows ld floats apart; out rows are heads * headDim. */
    private static void forward(Tensor q, int qc, Tensor k, int kc, Tensor v, int vc, int ld, Tensor mask, Tensor out,
                                Tensor lse, int batch, int seq, int heads, int headDim) {
        int w = heads * headDim;
        double[] p = new double[seq];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < seq; i++) {
                    double logSum = probabilities(q, qc, k, kc, ld, mask, b, h, i, seq, headDim, p);
                    if (lse != null) lse.set(((long) b * heads + h) * seq + i, (float) logSum);
                    for (int d = 0; d < headDim; d++) {
                        double s = 0;
                        for (int j = 0; j < seq; j++) s += p[j] * v.get(((long) b * seq + j) * ld + vc + (long) h * headDim + d);
                        out.set(((long) b * seq + i) * w + (long) h * headDim + d, (float) s);
                    }
                }
    }

    /**
     * The probabilities of query row i of (b, h) into {@code p} (0 for padded keys, all 0 when no key is real), in
     * double; returns the log of the softmax denominator (−∞ when no key is real).
     */
    private static double probabilities(Tensor q, int qc, Tensor k, int kc, int ld, Tensor mask, int b, int h, int i,
                                        int seq, int headDim, double[] p) {
        double scale = 1 / Math.sqrt(headDim), max = Double.NEGATIVE_INFINITY;
        long qBase = ((long) b * seq + i) * ld + qc + (long) h * headDim;
        for (int j = 0; j < seq; j++) {
            long kBase = ((long) b * seq + j) * ld + kc + (long) h * headDim;
            double s = 0;
            for (int d = 0; d < headDim; d++) s += (double) q.get(qBase + d) * k.get(kBase + d);
            p[j] = s * scale;
            if (mask.get((long) b * seq + j) != 0) max = Math.max(max, p[j]);
        }
        double sum = 0;
        for (int j = 0; j < seq; j++) {
            p[j] = mask.get((long) b * seq + j) != 0 ? Math.exp(p[j] - max) : 0;
            sum += p[j];
        }
        if (sum == 0) {
            Arrays.fill(p, 0);
            return Double.NEGATIVE_INFINITY;
        }
        for (int j = 0; j < seq; j++) p[j] /= sum;
        return max + Math.log(sum);
    }

    private static void backward(Tensor q, int qc, Tensor k, int kc, Tensor v, int vc, int ld, Tensor mask, Tensor dOut,
                                 Tensor dQ, Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        int w = heads * headDim;
        double scale = 1 / Math.sqrt(headDim);
        double[] p = new double[seq], dp = new double[seq], dq = new double[headDim];
        double[][] dk = new double[seq][headDim], dv = new double[seq][headDim];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++) {
                for (double[] row : dk) Arrays.fill(row, 0);
                for (double[] row : dv) Arrays.fill(row, 0);
                long col = (long) h * headDim;
                for (int i = 0; i < seq; i++) {
                    probabilities(q, qc, k, kc, ld, mask, b, h, i, seq, headDim, p);
                    long oBase = ((long) b * seq + i) * w + col, qBase = ((long) b * seq + i) * ld + qc + col;
                    // dP[j] = dOut_i · v_j, dV_j += P[j] dOut_i; softmax backward dS[j] = P[j] (dP[j] − Σ P dP).
                    double dot = 0;
                    for (int j = 0; j < seq; j++) {
                        long vBase = ((long) b * seq + j) * ld + vc + col;
                        double s = 0;
                        for (int d = 0; d < headDim; d++) {
                            s += (double) dOut.get(oBase + d) * v.get(vBase + d);
                            dv[j][d] += p[j] * dOut.get(oBase + d);
                        }
                        dp[j] = s;
                        dot += p[j] * s;
                    }
                    Arrays.fill(dq, 0);
                    for (int j = 0; j < seq; j++) {
                        double ds = p[j] * (dp[j] - dot) * scale;
                        if (ds == 0) continue;
                        long kBase = ((long) b * seq + j) * ld + kc + col;
                        for (int d = 0; d < headDim; d++) {
                            dq[d] += ds * k.get(kBase + d);
                            dk[j][d] += ds * q.get(qBase + d);
                        }
                    }
                    for (int d = 0; d < headDim; d++) dQ.set(qBase + d, (float) dq[d]);
                }
                for (int j = 0; j < seq; j++) {
                    for (int d = 0; d < headDim; d++) {
                        dK.set(((long) b * seq + j) * ld + kc + col + d, (float) dk[j][d]);
                        dV.set(((long) b * seq + j) * ld + vc + col + d, (float) dv[j][d]);
                    }
                }
            }
    }
}
