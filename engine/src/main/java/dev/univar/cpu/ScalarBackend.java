package dev.univar.cpu;

import dev.univar.tensor.Activation;
import dev.univar.tensor.Backend;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

/**
 * The reference implementation of {@link Backend}: plain loops, one thread, sums in double. It is meant to
 * be obviously correct rather than fast; every other backend is tested against it.
 */
public class ScalarBackend implements Backend {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transB, Tensor bias, Tensor out, int m, int n, int k) {
        BackendChecks.product(a, b, bias, out, m, n, k);
        float[] av = read(a, (long) m * k), bv = read(b, (long) k * n);
        float[] result = new float[m * n];
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0);
            for (int p = 0; p < k; p++) {
                double x = av[i * k + p];
                if (transB) for (int j = 0; j < n; j++) row[j] += x * bv[j * k + p];
                else for (int j = 0; j < n; j++) row[j] += x * bv[p * n + j];
            }
            for (int j = 0; j < n; j++) result[i * n + j] = (float) (row[j] + (bias == null ? 0 : bias.get(j)));
        }
        out.copyFrom(result);
    }

    @Override
    public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean accumulate, Tensor out,
                     int m, int n, int k) {
        BackendChecks.product(a, b, bias, out, m, n, k);
        float[] av = read(a, (long) m * k), bv = read(b, (long) k * n);
        float[] result = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = accumulate ? out.get((long) i * n + j) : 0;
                s += bias == null ? 0 : bias.get(j);
                double dot = 0;
                for (int p = 0; p < k; p++)
                    dot += (double) (transA ? av[p * m + i] : av[i * k + p]) * (transB ? bv[j * k + p] : bv[p * n + j]);
                result[i * n + j] = (float) (s + dot);
            }
        }
        out.copyFrom(result);
    }

    /** The reference's packed form: a plain copy of {@code b} (so later changes to b are not seen), GC-managed. */
    private record Packed(ScalarBackend owner, Tensor b, boolean transB, int n, int k) implements PackedMatrix {
    }

    @Override
    public PackedMatrix pack(Tensor b, boolean transB, int n, int k) {
        BackendChecks.pack(b, n, k);
        Tensor copy = Tensor.of(Arena.ofAuto(), read(b, (long) k * n), k * n);
        return new Packed(this, copy, transB, n, k);
    }

    @Override
    public void linear(Tensor a, PackedMatrix b, Tensor bias, Activation act, Tensor out, int m) {
        if (!(b instanceof Packed p) || p.owner != this) throw new IllegalArgumentException("matrix was not packed by this backend");
        matmul(a, p.b, p.transB, bias, out, m, p.n, p.k);
        if (act == Activation.GELU) gelu(out, out, (long) m * p.n);
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, int rows, int dim) {
        BackendChecks.layerNorm(x, residual, gamma, beta, out, rows, dim);
        double[] y = new double[dim];
        for (int r = 0; r < rows; r++) {
            long base = (long) r * dim;
            normalizeRow(x, residual, base, dim, eps, y);
            for (int i = 0; i < dim; i++) out.set(base + i, (float) (y[i] * gamma.get(i) + beta.get(i)));
        }
    }

    /**
     * Layer norm's statistics in double: fills {@code y} with row {@code base} of {@code x + residual}, centred
     * and scaled to unit variance, and returns {@code 1/sqrt(var + eps)} (biased variance, as PyTorch).
     */
    static double normalizeRow(Tensor x, Tensor residual, long base, int dim, float eps, double[] y) {
        double mean = 0;
        for (int i = 0; i < dim; i++) {
            y[i] = x.get(base + i) + (residual == null ? 0.0 : residual.get(base + i));
            mean += y[i];
        }
        mean /= dim;
        double var = 0;
        for (int i = 0; i < dim; i++) var += (y[i] - mean) * (y[i] - mean);
        var /= dim;
        double inv = 1 / Math.sqrt(var + eps);
        for (int i = 0; i < dim; i++) y[i] = (y[i] - mean) * inv;
        return inv;
    }

    @Override
    public void gelu(Tensor x, Tensor out, long n) {
        BackendChecks.gelu(x, out, n);
        for (long i = 0; i < n; i++) out.set(i, (float) gelu(x.get(i)));
    }

    /**
     * Exact GELU in double. {@code 1 + erf(s)} is taken as {@code erfc(-s)}: for very negative x the sum would
     * cancel to 0, erfc keeps the (tiny) value right in relative terms.
     */
    public static double gelu(double x) {
        return x * 0.5 * Erf.erfc(-x / Math.sqrt(2));
    }

    @Override
    public void maskedSoftmax(Tensor x, Tensor mask, int batch, int rowsPerBatch, int cols) {
        BackendChecks.maskedSoftmax(x, mask, batch, rowsPerBatch, cols);
        double[] row = new double[cols];
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rowsPerBatch; r++) {
                long base = ((long) b * rowsPerBatch + r) * cols;
                for (int c = 0; c < cols; c++) row[c] = x.get(base + c);
                softmaxInPlace(row, mask, (long) b * cols, cols);
                for (int c = 0; c < cols; c++) x.set(base + c, (float) row[c]);
            }
        }
    }

    /** Softmax over {@code row[0, cols)} where columns with mask 0 get 0; all-masked gives all 0. */
    static void softmaxInPlace(double[] row, Tensor mask, long maskBase, int cols) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) if (mask.get(maskBase + c) != 0) max = Math.max(max, row[c]);
        double sum = 0;
        for (int c = 0; c < cols; c++) {
            row[c] = mask.get(maskBase + c) != 0 ? Math.exp(row[c] - max) : 0;
            sum += row[c];
        }
        for (int c = 0; c < cols; c++) row[c] = sum > 0 ? row[c] / sum : 0;
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        BackendChecks.attention(q, k, v, mask, out, batch, seq, heads, headDim);
        int width = heads * headDim;
        attention(q, 0, k, 0, v, 0, width, mask, out, batch, seq, heads, headDim);
    }

    @Override
    public void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        BackendChecks.attention(qkv, mask, out, batch, seq, heads, headDim);
        int width = heads * headDim;
        attention(qkv, 0, qkv, width, qkv, 2 * width, 3 * width, mask, out, batch, seq, heads, headDim);
    }

    /** q, k, v start at columns qCol, kCol, vCol of rows {@code ld} floats apart; out rows are heads * headDim. */
    private static void attention(Tensor q, int qCol, Tensor k, int kCol, Tensor v, int vCol, int ld, Tensor mask,
                                  Tensor out, int batch, int seq, int heads, int headDim) {
        int width = heads * headDim;
        double scale = 1 / Math.sqrt(headDim);
        double[] p = new double[seq];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    long qBase = ((long) b * seq + i) * ld + qCol + (long) h * headDim;
                    for (int j = 0; j < seq; j++) {
                        long kBase = ((long) b * seq + j) * ld + kCol + (long) h * headDim;
                        double s = 0;
                        for (int d = 0; d < headDim; d++) s += (double) q.get(qBase + d) * k.get(kBase + d);
                        p[j] = s * scale;
                    }
                    softmaxInPlace(p, mask, (long) b * seq, seq);
                    long oBase = ((long) b * seq + i) * width + (long) h * headDim;
                    for (int d = 0; d < headDim; d++) {
                        double s = 0;
                        for (int j = 0; j < seq; j++) s += p[j] * v.get(((long) b * seq + j) * ld + vCol + (long) h * headDim + d);
                        out.set(oBase + d, (float) s);
                    }
                }
            }
        }
    }

    @Override
    public void embeddings(int[] ids, int[] typeIds, Tensor word, Tensor position, Tensor tokenType, Tensor out,
                           int batch, int seq, int hidden) {
        BackendChecks.embeddings(ids, typeIds, word, position, tokenType, out, batch, seq, hidden);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int tok = b * seq + t;
                int type = typeIds == null ? 0 : typeIds[tok];
                for (int i = 0; i < hidden; i++) {
                    float s = word.get((long) ids[tok] * hidden + i);
                    if (position != null) s += position.get((long) t * hidden + i);
                    out.set((long) tok * hidden + i, s + tokenType.get((long) type * hidden + i));
                }
            }
        }
    }

    @Override
    public void meanPool(Tensor x, Tensor mask, Tensor out, int batch, int seq, int dim) {
        BackendChecks.meanPool(x, mask, out, batch, seq, dim);
        for (int b = 0; b < batch; b++) {
            double count = 0;
            for (int t = 0; t < seq; t++) count += mask.get((long) b * seq + t);
            double denominator = Math.max(count, 1e-9);
            for (int i = 0; i < dim; i++) {
                double s = 0;
                for (int t = 0; t < seq; t++) s += mask.get((long) b * seq + t) * x.get(((long) b * seq + t) * dim + i);
                out.set((long) b * dim + i, (float) (s / denominator));
            }
        }
    }

    @Override
    public void l2Normalize(Tensor x, int rows, int dim) {
        BackendChecks.l2Normalize(x, rows, dim);
        for (int r = 0; r < rows; r++) {
            long base = (long) r * dim;
            double s = 0;
            for (int i = 0; i < dim; i++) s += (double) x.get(base + i) * x.get(base + i);
            double norm = Math.max(Math.sqrt(s), 1e-12);
            for (int i = 0; i < dim; i++) x.set(base + i, (float) (x.get(base + i) / norm));
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out, long n) {
        BackendChecks.add(a, b, out, n);
        for (long i = 0; i < n; i++) out.set(i, a.get(i) + b.get(i));
    }

    /** The first {@code count} floats of {@code t} as an array (the tensor may be larger than the operand). */
    private static float[] read(Tensor t, long count) {
        return t.data().asSlice(0, count * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }
}
