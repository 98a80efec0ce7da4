package dev.univar.cpu;

import dev.univar.tensor.Activation;
import dev.univar.tensor.Backend;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Vector API backend: kernels straight over the tensors' segments, a persistent thread pool for the
 * large ones. Row-wise operations split rows across threads once there is enough work to pay for the hand-off;
 * small calls stay on the caller's thread.
 */
public class CpuBackend implements Backend {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Elements of elementwise work below which the pool is not worth waking. */
    private static final long PARALLEL_MIN_ELEMENTS = 1 << 15;

    private final ThreadPool pool;
    private final Gemm gemm;
    private final Attention attention;
    /** Zeros standing in for an absent residual in {@link #layerNormRow}; grown on demand. */
    private MemorySegment zeros = MemorySegment.NULL;

    public CpuBackend(int threads) {
        pool = new ThreadPool(threads);
        gemm = new Gemm(pool);
        attention = new Attention(pool);
    }

    /** One thread per available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return pool.threads();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public void close() {
        pool.close();
    }

    /** The backend's thread pool, for subclasses' own kernels (one pool per backend: idle workers spin a while). */
    ThreadPool pool() {
        return pool;
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transB, Tensor bias, Tensor out, int m, int n, int k) {
        BackendChecks.product(a, b, bias, out, m, n, k);
        gemm.multiply(a.data(), b.data(), transB, bias == null ? null : bias.data(), out.data(), m, n, k);
    }

    @Override
    public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean accumulate, Tensor out,
                     int m, int n, int k) {
        BackendChecks.product(a, b, bias, out, m, n, k);
        gemm.multiply(a.data(), transA, b.data(), transB, bias == null ? null : bias.data(), accumulate, out.data(), m, n, k);
    }

    @Override
    public PackedMatrix pack(Tensor b, boolean transB, int n, int k) {
        BackendChecks.pack(b, n, k);
        return gemm.pack(b.data(), transB, n, k);
    }

    @Override
    public void linear(Tensor a, PackedMatrix b, Tensor bias, Activation act, Tensor out, int m) {
        if (!(b instanceof Gemm.Packed p) || p.owner != gemm)
            throw new IllegalArgumentException("matrix was not packed by this backend");
        Args.nonNegative(m);
        Args.fits("a", a, (long) m * p.k);
        Args.fits("out", out, (long) m * p.n);
        if (bias != null) Args.fits("bias", bias, p.n);
        gemm.multiplyPacked(a.data(), p, bias == null ? null : bias.data(), out.data(), m, act == Activation.GELU);
    }

    /** How many parts to split {@code rows} rows of {@code rowElements} each into. */
    private int parts(long rows, long rowElements) {
        if (rows * rowElements < PARALLEL_MIN_ELEMENTS) return 1;
        return (int) Math.min(pool.threads(), rows);
    }

    /** Runs {@code body(from, to)} over [0, count) split into contiguous, nearly equal ranges. */
    private void split(long count, long elementsPerItem, RangeBody body) {
        int parts = parts(count, elementsPerItem);
        pool.run(parts, p -> body.run(count * p / parts, count * (p + 1) / parts));
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(long from, long to);
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, int rows, int dim) {
        BackendChecks.layerNorm(x, residual, gamma, beta, out, rows, dim);
        layerNormRows(x, residual, gamma, beta, eps, out, null, null, rows, dim);
    }

    /**
     * {@link #layerNorm} that also saves, per row, {@code xhat = (y - mean) * rstd} and {@code rstd} (the training
     * forward): the same kernel, so its output equals the inference layer norm's.
     */
    void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor xhat, Tensor rstd,
                   int rows, int dim) {
        layerNormRows(x, residual, gamma, beta, eps, out, xhat, rstd, rows, dim);
    }

    private void layerNormRows(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor xhat,
                               Tensor rstd, int rows, int dim) {
        // The kernel has one straight path: no residual is a row of zeros (x + 0 is x), no xhat is written into out
        // (the output then overwrites it), so no vector depends on a branch (see layerNormRow).
        boolean hasRes = residual != null;
        MemorySegment xs = x.data(), rs = hasRes ? residual.data() : zeros(dim), os = out.data();
        MemorySegment gs = gamma.data(), bs = beta.data(), hs = xhat == null ? os : xhat.data();
        MemorySegment ss = rstd == null ? null : rstd.data();
        long rowBytes = (long) dim * Float.BYTES, resStride = hasRes ? rowBytes : 0;
        split(rows, dim, (from, to) -> {
            for (long r = from; r < to; r++) {
                float inv = layerNormRow(xs, r * rowBytes, rs, r * resStride, gs, bs, eps, os, hs, dim);
                if (ss != null) ss.setAtIndex(ValueLayout.JAVA_FLOAT, r, inv);
            }
        });
    }

    /** At least {@code n} zero floats, read-only to every caller. */
    private synchronized MemorySegment zeros(int n) {
        if (zeros.byteSize() < (long) n * Float.BYTES) zeros = Arena.ofAuto().allocate(Math.max(1L, n) * Float.BYTES, 64);
        return zeros;
    }

    /**
     * One row from byte offset {@code base} of x (and {@code resBase} of the residual, added to x), three passes:
     * mean, then the variance around it (two-pass, as the reference: no cancellation), then {@code xhat} and the
     * output at {@code base}; returns 1 / the standard deviation. Each output element is written only after its
     * inputs were last read, and xhat before the output, so {@code out} may alias {@code x}, the residual or xhat.
     *
     * <p>Each pass is its own small method with one straight path, and only scalars cross between them:
     * <ul>
     *   <li>No vector is assigned under a condition, passed to a helper or chosen by a ternary. Vectors under
     *       conditions were boxed by C2 in some JVMs: a forward then allocated about 1 GB and ran 20-40% slower.</li>
     *   <li>As one method of three loops, or with masked vector steps, C1's profiling compile ran out of registers
     *       ("COMPILE SKIPPED: out of virtual registers") when the JIT first met it through a loop back-edge, and the
     *       method then stayed at tier 2 for good, never reaching C2: unintrinsified, ~140 MB allocated per 4 x 64
     *       forward, 4x slower (a 1 x 16 forward 6.5 ms instead of 1.8). Which compile came first depended on the
     *       batch shapes the process began with.</li>
     * </ul>
     */
    private static float layerNormRow(MemorySegment x, long base, MemorySegment res, long resBase, MemorySegment gamma,
                                      MemorySegment beta, float eps, MemorySegment out, MemorySegment xhat, int dim) {
        float mean = rowSum(x, base, res, resBase, dim) / dim;
        float var = rowSquaredDeviation(x, base, res, resBase, mean, dim) / dim;
        float inv = (float) (1 / Math.sqrt((double) var + eps));
        normalizeRow(x, base, res, resBase, gamma, beta, mean, inv, out, xhat, dim);
        return inv;
    }

    // The three passes below: whole vectors, then the ragged end (dim not a multiple of VL) as scalars. Masked
    // vector steps there made C1's profiling compile of these methods run out of registers as well.

    /** {@code sum_i x[i] + res[i]} of one row. */
    private static float rowSum(MemorySegment x, long base, MemorySegment res, long resBase, int dim) {
        int whole = dim / VL * VL;
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < whole; i += VL) {
            long p = (long) i * Float.BYTES;
            acc = acc.add(FloatVector.fromMemorySegment(S, x, base + p, ORDER).add(FloatVector.fromMemorySegment(S, res, resBase + p, ORDER)));
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = whole; i < dim; i++) {
            long p = (long) i * Float.BYTES;
            sum += x.get(ValueLayout.JAVA_FLOAT, base + p) + res.get(ValueLayout.JAVA_FLOAT, resBase + p);
        }
        return sum;
    }

    /** {@code sum_i (x[i] + res[i] - mean)^2} of one row. */
    private static float rowSquaredDeviation(MemorySegment x, long base, MemorySegment res, long resBase, float mean, int dim) {
        int whole = dim / VL * VL;
        FloatVector mv = FloatVector.broadcast(S, mean);
        FloatVector sq = FloatVector.zero(S);
        for (int i = 0; i < whole; i += VL) {
            long p = (long) i * Float.BYTES;
            FloatVector d = FloatVector.fromMemorySegment(S, x, base + p, ORDER).add(FloatVector.fromMemorySegment(S, res, resBase + p, ORDER)).sub(mv);
            sq = d.fma(d, sq);
        }
        float sum = sq.reduceLanes(VectorOperators.ADD);
        for (int i = whole; i < dim; i++) {
            long p = (long) i * Float.BYTES;
            float d = x.get(ValueLayout.JAVA_FLOAT, base + p) + res.get(ValueLayout.JAVA_FLOAT, resBase + p) - mean;
            sum = Math.fma(d, d, sum);
        }
        return sum;
    }

    /** {@code xhat = (x + res - mean) * inv}, then {@code out = xhat * gamma + beta}, element by element. */
    private static void normalizeRow(MemorySegment x, long base, MemorySegment res, long resBase, MemorySegment gamma,
                                     MemorySegment beta, float mean, float inv, MemorySegment out, MemorySegment xhat, int dim) {
        standardizeRow(x, base, res, resBase, mean, inv, xhat, dim);
        scaleShiftRow(xhat, base, gamma, beta, out, dim);
    }

    /** {@code xhat = (x + res - mean) * inv}. */
    private static void standardizeRow(MemorySegment x, long base, MemorySegment res, long resBase, float mean, float inv,
                                       MemorySegment xhat, int dim) {
        int whole = dim / VL * VL;
        FloatVector mv = FloatVector.broadcast(S, mean), iv = FloatVector.broadcast(S, inv);
        for (int i = 0; i < whole; i += VL) {
            long p = (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, base + p, ORDER).add(FloatVector.fromMemorySegment(S, res, resBase + p, ORDER))
                    .sub(mv).mul(iv).intoMemorySegment(xhat, base + p, ORDER);
        }
        for (int i = whole; i < dim; i++) {
            long p = (long) i * Float.BYTES;
            float v = x.get(ValueLayout.JAVA_FLOAT, base + p) + res.get(ValueLayout.JAVA_FLOAT, resBase + p);
            xhat.set(ValueLayout.JAVA_FLOAT, base + p, (v - mean) * inv);
        }
    }

    /** {@code out = xhat * gamma + beta} (out may be xhat). */
    private static void scaleShiftRow(MemorySegment xhat, long base, MemorySegment gamma, MemorySegment beta,
                                      MemorySegment out, int dim) {
        int whole = dim / VL * VL;
        for (int i = 0; i < whole; i += VL) {
            long p = (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(S, xhat, base + p, ORDER)
                    .fma(FloatVector.fromMemorySegment(S, gamma, p, ORDER), FloatVector.fromMemorySegment(S, beta, p, ORDER))
                    .intoMemorySegment(out, base + p, ORDER);
        }
        for (int i = whole; i < dim; i++) {
            long p = (long) i * Float.BYTES;
            out.set(ValueLayout.JAVA_FLOAT, base + p, Math.fma(xhat.get(ValueLayout.JAVA_FLOAT, base + p),
                    gamma.get(ValueLayout.JAVA_FLOAT, p), beta.get(ValueLayout.JAVA_FLOAT, p)));
        }
    }

    @Override
    public void gelu(Tensor x, Tensor out, long n) {
        BackendChecks.gelu(x, out, n);
        MemorySegment xs = x.data(), os = out.data();
        long vectors = (n + VL - 1) / VL;
        split(vectors, VL, (from, to) -> VecMath.gelu(xs, os, from * VL, Math.min(n, to * VL)));
    }

    @Override
    public void maskedSoftmax(Tensor x, Tensor mask, int batch, int rowsPerBatch, int cols) {
        BackendChecks.maskedSoftmax(x, mask, batch, rowsPerBatch, cols);
        MemorySegment xs = x.data(), ms = mask.data();
        long rows = (long) batch * rowsPerBatch;
        split(rows, cols, (from, to) -> {
            for (long r = from; r < to; r++) {
                long b = r / rowsPerBatch;
                softmaxRow(xs, r * cols * Float.BYTES, ms, b * cols * Float.BYTES, cols);
            }
        });
    }

    /**
     * Masked softmax of one row in place: masked columns become 0, and an all-masked row all 0. The mask
     * lanes are computed inline rather than in a helper: a VectorMask returned from a call C2 does not inline
     * is boxed on the heap.
     */
    private static void softmaxRow(MemorySegment x, long base, MemorySegment mask, long maskBase, int cols) {
        FloatVector maxV = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < cols; i += VL) {
            VectorMask<Float> inRange = S.indexInRange(i, cols);
            VectorMask<Float> valid = FloatVector.fromMemorySegment(S, mask, maskBase + (long) i * Float.BYTES, ORDER, inRange)
                    .compare(VectorOperators.NE, 0f, inRange);
            FloatVector v = FloatVector.fromMemorySegment(S, x, base + (long) i * Float.BYTES, ORDER, valid);
            maxV = maxV.lanewise(VectorOperators.MAX, v, valid);
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        if (max == Float.NEGATIVE_INFINITY) { // nothing unmasked (or all scores -inf): zero weight everywhere
            for (int i = 0; i < cols; i += VL) {
                VectorMask<Float> m = S.indexInRange(i, cols);
                FloatVector.zero(S).intoMemorySegment(x, base + (long) i * Float.BYTES, ORDER, m);
            }
            return;
        }
        FloatVector sumV = FloatVector.zero(S);
        for (int i = 0; i < cols; i += VL) {
            VectorMask<Float> inRange = S.indexInRange(i, cols);
            VectorMask<Float> valid = FloatVector.fromMemorySegment(S, mask, maskBase + (long) i * Float.BYTES, ORDER, inRange)
                    .compare(VectorOperators.NE, 0f, inRange);
            long off = base + (long) i * Float.BYTES;
            FloatVector e = FloatVector.zero(S).blend(
                    VecMath.exp(FloatVector.fromMemorySegment(S, x, off, ORDER, valid).sub(max)), valid);
            sumV = sumV.add(e);
            e.intoMemorySegment(x, off, ORDER, inRange);
        }
        float inv = 1 / sumV.reduceLanes(VectorOperators.ADD);
        for (int i = 0; i < cols; i += VL) {
            VectorMask<Float> inRange = S.indexInRange(i, cols);
            long off = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, off, ORDER, inRange).mul(inv).intoMemorySegment(x, off, ORDER, inRange);
        }
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        BackendChecks.attention(q, k, v, mask, out, batch, seq, heads, headDim);
        int width = heads * headDim;
        attention.run(q.data(), 0, k.data(), 0, v.data(), 0, width, mask.data(), out.data(), batch, seq, heads, headDim);
    }

    /** {@link #attention(Tensor, Tensor, Tensor, Tensor, Tensor, int, int, int, int)} that also saves the probabilities (training). */
    void attentionWithProbs(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor probs, int batch, int seq,
                            int heads, int headDim) {
        attention.run(q.data(), 0, k.data(), 0, v.data(), 0, heads * headDim, mask.data(), out.data(), probs.data(),
                batch, seq, heads, headDim);
    }

    @Override
    public void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        BackendChecks.attention(qkv, mask, out, batch, seq, heads, headDim);
        int width = heads * headDim;
        MemorySegment s = qkv.data();
        attention.run(s, 0, s, width, s, 2 * width, 3 * width, mask.data(), out.data(), batch, seq, heads, headDim);
    }

    @Override
    public void embeddings(int[] ids, int[] typeIds, Tensor word, Tensor position, Tensor tokenType, Tensor out,
                           int batch, int seq, int hidden) {
        BackendChecks.embeddings(ids, typeIds, word, position, tokenType, out, batch, seq, hidden);
        long tokens = (long) batch * seq;
        if (position == null) {
            embeddingsWithoutPositions(ids, typeIds, word, tokenType, out, tokens, hidden);
            return;
        }
        MemorySegment ws = word.data(), ps = position.data(), ts = tokenType.data(), os = out.data();
        long rowBytes = (long) hidden * Float.BYTES;
        split(tokens, hidden, (from, to) -> {
            for (long tok = from; tok < to; tok++) {
                int t = (int) (tok % seq);
                int type = typeIds == null ? 0 : typeIds[(int) tok];
                long w = ids[(int) tok] * rowBytes, p = t * rowBytes, ty = type * rowBytes, o = tok * rowBytes;
                for (int i = 0; i < hidden; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, hidden);
                    long d = (long) i * Float.BYTES;
                    FloatVector.fromMemorySegment(S, ws, w + d, ORDER, m)
                            .add(FloatVector.fromMemorySegment(S, ps, p + d, ORDER, m))
                            .add(FloatVector.fromMemorySegment(S, ts, ty + d, ORDER, m))
                            .intoMemorySegment(os, o + d, ORDER, m);
                }
            }
        });
    }

    /** {@link #embeddings} without a position table: its own loop, so neither loop tests for the table per vector. */
    private void embeddingsWithoutPositions(int[] ids, int[] typeIds, Tensor word, Tensor tokenType, Tensor out,
                                            long tokens, int hidden) {
        MemorySegment ws = word.data(), ts = tokenType.data(), os = out.data();
        long rowBytes = (long) hidden * Float.BYTES;
        split(tokens, hidden, (from, to) -> {
            for (long tok = from; tok < to; tok++) {
                int type = typeIds == null ? 0 : typeIds[(int) tok];
                long w = ids[(int) tok] * rowBytes, ty = type * rowBytes, o = tok * rowBytes;
                for (int i = 0; i < hidden; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, hidden);
                    long d = (long) i * Float.BYTES;
                    FloatVector.fromMemorySegment(S, ws, w + d, ORDER, m)
                            .add(FloatVector.fromMemorySegment(S, ts, ty + d, ORDER, m))
                            .intoMemorySegment(os, o + d, ORDER, m);
                }
            }
        });
    }

    @Override
    public void meanPool(Tensor x, Tensor mask, Tensor out, int batch, int seq, int dim) {
        BackendChecks.meanPool(x, mask, out, batch, seq, dim);
        MemorySegment xs = x.data(), ms = mask.data(), os = out.data();
        long rowBytes = (long) dim * Float.BYTES;
        split(batch, (long) seq * dim, (from, to) -> {
            for (long b = from; b < to; b++) {
                float count = 0;
                for (int t = 0; t < seq; t++) count += ms.getAtIndex(ValueLayout.JAVA_FLOAT, b * seq + t);
                float inv = 1 / Math.max(count, 1e-9f);
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    long d = (long) i * Float.BYTES;
                    FloatVector acc = FloatVector.zero(S);
                    for (int t = 0; t < seq; t++) {
                        float w = ms.getAtIndex(ValueLayout.JAVA_FLOAT, b * seq + t);
                        if (w == 0) continue; // padding contributes nothing: skip the load
                        acc = FloatVector.fromMemorySegment(S, xs, (b * seq + t) * rowBytes + d, ORDER, m).fma(FloatVector.broadcast(S, w), acc);
                    }
                    acc.mul(inv).intoMemorySegment(os, b * rowBytes + d, ORDER, m);
                }
            }
        });
    }

    @Override
    public void l2Normalize(Tensor x, int rows, int dim) {
        BackendChecks.l2Normalize(x, rows, dim);
        MemorySegment xs = x.data();
        long rowBytes = (long) dim * Float.BYTES;
        split(rows, dim, (from, to) -> {
            for (long r = from; r < to; r++) {
                long base = r * rowBytes;
                FloatVector sq = FloatVector.zero(S);
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    FloatVector v = FloatVector.fromMemorySegment(S, xs, base + (long) i * Float.BYTES, ORDER, m);
                    sq = v.fma(v, sq);
                }
                float norm = (float) Math.max(Math.sqrt(sq.reduceLanes(VectorOperators.ADD)), 1e-12);
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    long off = base + (long) i * Float.BYTES;
                    FloatVector.fromMemorySegment(S, xs, off, ORDER, m).div(norm).intoMemorySegment(xs, off, ORDER, m);
                }
            }
        });
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out, long n) {
        BackendChecks.add(a, b, out, n);
        MemorySegment as = a.data(), bs = b.data(), os = out.data();
        // Whole vectors unmasked, the tail in scalar code: masks built from long indices are not intrinsified
        // (they made an element-wise loop like this one some 30 times slower).
        long vectors = n / VL;
        split(vectors, VL, (from, to) -> {
            for (long v = from; v < to; v++) {
                long off = v * VL * Float.BYTES;
                FloatVector.fromMemorySegment(S, as, off, ORDER)
                        .add(FloatVector.fromMemorySegment(S, bs, off, ORDER))
                        .intoMemorySegment(os, off, ORDER);
            }
        });
        for (long i = vectors * VL; i < n; i++)
            os.setAtIndex(ValueLayout.JAVA_FLOAT, i, as.getAtIndex(ValueLayout.JAVA_FLOAT, i) + bs.getAtIndex(ValueLayout.JAVA_FLOAT, i));
    }
}
