package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Vector API {@link TrainingBackend}. The dense parts of the backward reuse the inference GEMM: the
 * weight gradient {@code dOutᵀ · x} is {@link CpuBackend#gemm} with a transposed A, accumulating into dW. Row-wise and element-wise operations are vectorised here and split across the inference backend's
 * thread pool: one set of workers (a second pool's idle workers spun beside the first's work on a small machine).
 *
 * <p>Vector code stays inside the method that uses it (no FloatVector crosses a call C2 might not inline,
 * which would box it), and per-thread partial sums go through arrays.
 */
public class CpuTrainingBackend extends CpuBackend implements TrainingBackend {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final long PARALLEL_MIN_ELEMENTS = 1 << 15;
    /** Floats of GELU computed at a time into a thread's scratch by {@link #geluBackward}. */
    private static final int GELU_CHUNK = 2048;

    private final ThreadPool pool;
    private final AttentionTraining attention;
    /** Per thread: row accumulators of layerNormBackward ({@code 2 * dim}), partial sums of sumOfSquares. */
    private final float[][] partial;
    private final double[] partialSums;
    private final MemorySegment[] geluScratch;
    private final Arena scratchArena = Arena.ofShared();

    public CpuTrainingBackend(int threads) {
        super(threads);
        pool = pool();
        attention = new AttentionTraining(pool);
        partial = new float[threads][0];
        partialSums = new double[threads];
        geluScratch = new MemorySegment[threads];
        for (int i = 0; i < threads; i++) geluScratch[i] = scratchArena.allocate((long) GELU_CHUNK * Float.BYTES, 64);
    }

    /** One thread per available processor. */
    public CpuTrainingBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public String name() {
        return "cpu-train";
    }

    @Override
    public void close() {
        scratchArena.close();
        super.close(); // closes the pool
    }

    private int parts(long count, long elementsPerItem) {
        if (count * elementsPerItem < PARALLEL_MIN_ELEMENTS) return 1;
        return (int) Math.min(pool.threads(), count);
    }

    /** Runs {@code body(part, from, to)} over [0, count) split into contiguous, nearly equal ranges. */
    private int split(long count, long elementsPerItem, RangeBody body) {
        int parts = parts(count, elementsPerItem);
        pool.run(parts, p -> body.run(p, count * p / parts, count * (p + 1) / parts));
        return parts;
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(int part, long from, long to);
    }

    // ---------------------------------------------------------------- dense

    @Override
    public synchronized void matmulBackward(Tensor dOut, Tensor x, Tensor w, Tensor dX, Tensor dW, Tensor dBias,
                                            int m, int n, int k) {
        TrainingChecks.matmulBackward(dOut, x, w, dX, dW, dBias, m, n, k);
        if (dX != null) matmul(dOut, w, false, null, dX, m, k, n); // [m,n] · [n,k]
        if (m == 0) return;
        // dW[n,k] += dOutᵀ · x: the GEMM reads dOut transposed while packing it (no explicit transpose).
        gemm(dOut, true, x, false, null, true, dW, n, k, m);
        if (dBias != null) columnSums(dOut.data(), dBias.data(), m, n);
    }

    /**
     * {@code sums[j] += sum_i src[i, j]}: threads take column ranges of whole vectors; each walks the rows
     * adding a strip of up to 4 vectors at a time into registers, so src is read once, row by row.
     */
    private void columnSums(MemorySegment src, MemorySegment sums, int m, int n) {
        final int strip = 4 * VL;
        long strips = (n + strip - 1) / strip;
        split(strips, (long) m * strip, (part, from, to) -> {
            for (long st = from; st < to; st++) {
                int j0 = (int) st * strip;
                VectorMask<Float> k0 = S.indexInRange(j0, n), k1 = S.indexInRange(j0 + VL, n),
                        k2 = S.indexInRange(j0 + 2 * VL, n), k3 = S.indexInRange(j0 + 3 * VL, n);
                FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
                for (int i = 0; i < m; i++) {
                    long off = ((long) i * n + j0) * Float.BYTES;
                    a0 = a0.add(FloatVector.fromMemorySegment(S, src, off, ORDER, k0));
                    a1 = a1.add(FloatVector.fromMemorySegment(S, src, off + VL * Float.BYTES, ORDER, k1));
                    a2 = a2.add(FloatVector.fromMemorySegment(S, src, off + 2L * VL * Float.BYTES, ORDER, k2));
                    a3 = a3.add(FloatVector.fromMemorySegment(S, src, off + 3L * VL * Float.BYTES, ORDER, k3));
                }
                long so = (long) j0 * Float.BYTES;
                FloatVector.fromMemorySegment(S, sums, so, ORDER, k0).add(a0).intoMemorySegment(sums, so, ORDER, k0);
                FloatVector.fromMemorySegment(S, sums, so + VL * Float.BYTES, ORDER, k1).add(a1)
                        .intoMemorySegment(sums, so + VL * Float.BYTES, ORDER, k1);
                FloatVector.fromMemorySegment(S, sums, so + 2L * VL * Float.BYTES, ORDER, k2).add(a2)
                        .intoMemorySegment(sums, so + 2L * VL * Float.BYTES, ORDER, k2);
                FloatVector.fromMemorySegment(S, sums, so + 3L * VL * Float.BYTES, ORDER, k3).add(a3)
                        .intoMemorySegment(sums, so + 3L * VL * Float.BYTES, ORDER, k3);
            }
        });
    }

    // ---------------------------------------------------------------- layer norm

    @Override
    public void layerNormTrain(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                               Tensor xhat, Tensor rstd, int rows, int dim) {
        TrainingChecks.layerNormTrain(x, residual, out, xhat, rstd, rows, dim);
        // The inference kernel itself, saving xhat and rstd on the way: a training forward equals an inference one.
        layerNorm(x, residual, gamma, beta, eps, out, xhat, rstd, rows, dim);
    }

    @Override
    public synchronized void layerNormBackward(Tensor dOut, Tensor xhat, Tensor rstd, Tensor gamma, Tensor dY,
                                               Tensor dGamma, Tensor dBeta, int rows, int dim) {
        TrainingChecks.layerNormBackward(dOut, xhat, rstd, gamma, dY, dGamma, dBeta, rows, dim);
        int dimPad = Attention.roundUp(dim, VL);
        for (int p = 0; p < partial.length; p++) {
            if (partial[p].length < 2 * dimPad) partial[p] = new float[2 * dimPad];
            java.util.Arrays.fill(partial[p], 0, 2 * dimPad, 0f);
        }
        MemorySegment ds = dOut.data(), hs = xhat.data(), ss = rstd.data(), gs = gamma.data(), ys = dY.data();
        int parts = split(rows, dim, (part, from, to) -> {
            float[] acc = partial[part]; // [0, dimPad): dGamma, [dimPad, 2 dimPad): dBeta
            for (long r = from; r < to; r++) {
                long base = r * dim * Float.BYTES;
                FloatVector sumG = FloatVector.zero(S), sumGX = FloatVector.zero(S);
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    long off = base + (long) i * Float.BYTES;
                    FloatVector d = FloatVector.fromMemorySegment(S, ds, off, ORDER, m);
                    FloatVector h = FloatVector.fromMemorySegment(S, hs, off, ORDER, m);
                    FloatVector g = d.mul(FloatVector.fromMemorySegment(S, gs, (long) i * Float.BYTES, ORDER, m));
                    sumG = sumG.add(g);
                    sumGX = g.fma(h, sumGX);
                    d.fma(h, FloatVector.fromArray(S, acc, i)).intoArray(acc, i);
                    d.add(FloatVector.fromArray(S, acc, dimPad + i)).intoArray(acc, dimPad + i);
                }
                float meanG = sumG.reduceLanes(VectorOperators.ADD) / dim;
                float meanGX = sumGX.reduceLanes(VectorOperators.ADD) / dim;
                float inv = ss.getAtIndex(ValueLayout.JAVA_FLOAT, r);
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    long off = base + (long) i * Float.BYTES;
                    FloatVector d = FloatVector.fromMemorySegment(S, ds, off, ORDER, m);
                    FloatVector h = FloatVector.fromMemorySegment(S, hs, off, ORDER, m);
                    FloatVector g = d.mul(FloatVector.fromMemorySegment(S, gs, (long) i * Float.BYTES, ORDER, m));
                    // rstd * (g - mean(g) - xhat * mean(g xhat))
                    g.sub(meanG).sub(h.mul(meanGX)).mul(inv).intoMemorySegment(ys, off, ORDER, m);
                }
            }
        });
        for (int i = 0; i < dim; i++) {
            float sg = 0, sb = 0;
            for (int p = 0; p < parts; p++) {
                sg += partial[p][i];
                sb += partial[p][dimPad + i];
            }
            dGamma.set(i, dGamma.get(i) + sg);
            dBeta.set(i, dBeta.get(i) + sb);
        }
    }

    // ---------------------------------------------------------------- GELU

    @Override
    public void geluBackward(Tensor x, Tensor dOut, Tensor dX, long n) {
        TrainingChecks.geluBackward(x, dOut, dX, n);
        MemorySegment xs = x.data(), ds = dOut.data(), os = dX.data();
        long chunks = (n + GELU_CHUNK - 1) / GELU_CHUNK;
        final float invSqrt2Pi = (float) (1 / Math.sqrt(2 * Math.PI));
        split(chunks, GELU_CHUNK, (part, from, to) -> {
            MemorySegment g = geluScratch[part];
            for (long c = from; c < to; c++) {
                long start = c * GELU_CHUNK;
                int len = (int) Math.min(GELU_CHUNK, n - start); // int: masks from long indices are not intrinsified
                // gelu'(x) = Φ(x) + x φ(x), and Φ(x) = gelu(x) / x: the vectorised GELU gives Φ with its accuracy
                // (relative, also in the negative tail) without a second erf implementation.
                VecMath.gelu(xs.asSlice(start * Float.BYTES, len * Float.BYTES), g, 0, len);
                for (int i = 0; i < len; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, len);
                    long off = (start + i) * Float.BYTES, goff = (long) i * Float.BYTES;
                    FloatVector v = FloatVector.fromMemorySegment(S, xs, off, ORDER, m);
                    FloatVector y = FloatVector.fromMemorySegment(S, g, goff, ORDER, m);
                    // Near 0, gelu(x)/x loses its digits: Φ(x) = 1/2 + x φ(0) + O(x³) there.
                    VectorMask<Float> tiny = v.abs().lt(1e-3f);
                    FloatVector cdf = y.div(v.blend(FloatVector.broadcast(S, 1f), tiny)).blend(v.fma(invSqrt2Pi, 0.5f), tiny);
                    FloatVector pdf = v.mul(v).mul(-0.5f).lanewise(VectorOperators.EXP).mul(invSqrt2Pi);
                    FloatVector d = FloatVector.fromMemorySegment(S, ds, off, ORDER, m);
                    d.mul(v.fma(pdf, cdf)).intoMemorySegment(os, off, ORDER, m);
                }
            }
        });
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void attentionForwardTrain(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor probs,
                                      int batch, int seq, int heads, int headDim) {
        TrainingChecks.attentionForwardTrain(q, k, v, mask, out, probs, batch, seq, heads, headDim);
        if (headDim == 0) return;
        // The inference kernel, saving the probabilities: a training forward computes what an inference forward does.
        attentionWithProbs(q, k, v, mask, out, probs, batch, seq, heads, headDim);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor probs, Tensor dOut, Tensor dQ,
                                  Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        TrainingChecks.attentionBackward(q, k, v, mask, probs, dOut, dQ, dK, dV, batch, seq, heads, headDim);
        if (headDim == 0) return;
        attention.backward(q.data(), k.data(), v.data(), mask.data(), probs.data(), dOut.data(), dQ.data(), dK.data(),
                dV.data(), batch, seq, heads, headDim);
    }

    // ---------------------------------------------------------------- embeddings, pooling, normalisation

    @Override
    public void embeddingsBackward(int[] ids, int[] typeIds, Tensor dOut, Tensor dWord, Tensor dPosition,
                                   Tensor dTokenType, int batch, int seq, int hidden) {
        TrainingChecks.embeddingsBackward(ids, typeIds, dOut, dWord, dPosition, dTokenType, batch, seq, hidden);
        long tokens = (long) batch * seq;
        boolean positions = dPosition != null;
        MemorySegment os = dOut.data(), ws = dWord.data(), ts = dTokenType.data();
        MemorySegment ps = positions ? dPosition.data() : MemorySegment.NULL;
        long rowBytes = (long) hidden * Float.BYTES;
        // Threads own disjoint column ranges (whole vectors), so scattering into a repeated id never races.
        long columnVectors = (hidden + VL - 1) / VL;
        split(columnVectors, tokens * VL, (part, from, to) -> {
            int c0 = (int) from * VL, c1 = (int) Math.min(hidden, to * VL);
            for (long tok = 0; tok < tokens; tok++) {
                int t = (int) (tok % seq);
                int type = typeIds == null ? 0 : typeIds[(int) tok];
                long src = tok * rowBytes, w = ids[(int) tok] * rowBytes, p = t * rowBytes, ty = type * rowBytes;
                for (int i = c0; i < c1; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, c1);
                    long d = (long) i * Float.BYTES;
                    FloatVector g = FloatVector.fromMemorySegment(S, os, src + d, ORDER, m);
                    g.add(FloatVector.fromMemorySegment(S, ws, w + d, ORDER, m)).intoMemorySegment(ws, w + d, ORDER, m);
                    if (positions) g.add(FloatVector.fromMemorySegment(S, ps, p + d, ORDER, m)).intoMemorySegment(ps, p + d, ORDER, m);
                    g.add(FloatVector.fromMemorySegment(S, ts, ty + d, ORDER, m)).intoMemorySegment(ts, ty + d, ORDER, m);
                }
            }
        });
    }

    @Override
    public void meanPoolBackward(Tensor dOut, Tensor mask, Tensor dX, int batch, int seq, int dim) {
        TrainingChecks.meanPoolBackward(dOut, mask, dX, batch, seq, dim);
        MemorySegment os = dOut.data(), ms = mask.data(), xs = dX.data();
        long rowBytes = (long) dim * Float.BYTES;
        split(batch, (long) seq * dim, (part, from, to) -> {
            for (long b = from; b < to; b++) {
                float count = 0;
                for (int t = 0; t < seq; t++) count += ms.getAtIndex(ValueLayout.JAVA_FLOAT, b * seq + t);
                float inv = 1 / Math.max(count, 1e-9f);
                for (int t = 0; t < seq; t++) {
                    float w = ms.getAtIndex(ValueLayout.JAVA_FLOAT, b * seq + t) * inv;
                    long dst = (b * seq + t) * rowBytes;
                    for (int i = 0; i < dim; i += VL) {
                        VectorMask<Float> m = S.indexInRange(i, dim);
                        long d = (long) i * Float.BYTES;
                        FloatVector.fromMemorySegment(S, os, b * rowBytes + d, ORDER, m).mul(w)
                                .intoMemorySegment(xs, dst + d, ORDER, m);
                    }
                }
            }
        });
    }

    @Override
    public void l2NormalizeBackward(Tensor x, Tensor dOut, Tensor dX, int rows, int dim) {
        TrainingChecks.l2NormalizeBackward(x, dOut, dX, rows, dim);
        MemorySegment xs = x.data(), ds = dOut.data(), os = dX.data();
        long rowBytes = (long) dim * Float.BYTES;
        split(rows, dim, (part, from, to) -> {
            for (long r = from; r < to; r++) {
                long base = r * rowBytes;
                FloatVector sq = FloatVector.zero(S), dot = FloatVector.zero(S);
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    long off = base + (long) i * Float.BYTES;
                    FloatVector v = FloatVector.fromMemorySegment(S, xs, off, ORDER, m);
                    sq = v.fma(v, sq);
                    dot = v.fma(FloatVector.fromMemorySegment(S, ds, off, ORDER, m), dot);
                }
                double norm = Math.sqrt(sq.reduceLanes(VectorOperators.ADD));
                boolean clamped = norm <= 1e-12;
                float inv = (float) (1 / Math.max(norm, 1e-12));
                // dX = (dOut - y (y · dOut)) / n with y = x / n, i.e. dOut / n - x (x · dOut) / n³.
                float c = clamped ? 0f : (float) (dot.reduceLanes(VectorOperators.ADD) / (norm * norm * norm));
                for (int i = 0; i < dim; i += VL) {
                    VectorMask<Float> m = S.indexInRange(i, dim);
                    long off = base + (long) i * Float.BYTES;
                    FloatVector v = FloatVector.fromMemorySegment(S, xs, off, ORDER, m);
                    FloatVector.fromMemorySegment(S, ds, off, ORDER, m).mul(inv).sub(v.mul(c))
                            .intoMemorySegment(os, off, ORDER, m);
                }
            }
        });
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, long n, double lr, double beta1, double beta2,
                          double eps, double weightDecay, long step) {
        TrainingChecks.adamwStep(param, grad, m, v, n, step);
        MemorySegment ps = param.data(), gs = grad.data(), ms = m.data(), vs = v.data();
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float decay = (float) (1 - lr * weightDecay), stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2)), epsF = (float) eps;
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        // Whole vectors without masks (masks from long indices are not intrinsified: ~10 ns per parameter), the last
        // n % VL elements in scalar code with the same float operations in the same order.
        long vectors = n / VL;
        split(vectors, VL, (part, from, to) -> {
            for (long vi = from; vi < to; vi++) {
                long off = vi * VL * Float.BYTES;
                FloatVector g = FloatVector.fromMemorySegment(S, gs, off, ORDER);
                FloatVector mv = FloatVector.fromMemorySegment(S, ms, off, ORDER).mul(b1).add(g.mul(c1));
                FloatVector vv = FloatVector.fromMemorySegment(S, vs, off, ORDER).mul(b2).add(g.mul(g).mul(c2));
                mv.intoMemorySegment(ms, off, ORDER);
                vv.intoMemorySegment(vs, off, ORDER);
                FloatVector denom = vv.sqrt().mul(invSqrtBc2).add(epsF);
                FloatVector p = FloatVector.fromMemorySegment(S, ps, off, ORDER).mul(decay);
                p.sub(mv.mul(stepSize).div(denom)).intoMemorySegment(ps, off, ORDER);
            }
        });
        for (long i = vectors * VL; i < n; i++) {
            float g = gs.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            float mv = ms.getAtIndex(ValueLayout.JAVA_FLOAT, i) * b1 + g * c1;
            float vv = vs.getAtIndex(ValueLayout.JAVA_FLOAT, i) * b2 + g * g * c2;
            ms.setAtIndex(ValueLayout.JAVA_FLOAT, i, mv);
            vs.setAtIndex(ValueLayout.JAVA_FLOAT, i, vv);
            float denom = (float) Math.sqrt(vv) * invSqrtBc2 + epsF;
            float p = ps.getAtIndex(ValueLayout.JAVA_FLOAT, i) * decay;
            ps.setAtIndex(ValueLayout.JAVA_FLOAT, i, p - mv * stepSize / denom);
        }
    }

    @Override
    public synchronized double sumOfSquares(Tensor t, long n) {
        TrainingChecks.elements(t, n);
        MemorySegment ts = t.data();
        final int block = 4096; // float partial sums over short blocks, double across them
        long blocks = (n + block - 1) / block;
        int parts = split(blocks, block, (part, from, to) -> {
            double s = 0;
            for (long bl = from; bl < to; bl++) {
                long begin = bl * block, end = Math.min(n, (bl + 1) * block), full = begin + (end - begin) / VL * VL;
                FloatVector acc = FloatVector.zero(S);
                for (long i = begin; i < full; i += VL) {
                    FloatVector v = FloatVector.fromMemorySegment(S, ts, i * Float.BYTES, ORDER);
                    acc = v.fma(v, acc);
                }
                float tail = 0;
                for (long i = full; i < end; i++) {
                    float x = ts.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    tail = Math.fma(x, x, tail);
                }
                s += acc.reduceLanes(VectorOperators.ADD) + tail;
            }
            partialSums[part] = s;
        });
        double total = 0;
        for (int p = 0; p < parts; p++) total += partialSums[p];
        return total;
    }

    @Override
    public void scale(Tensor t, float factor, long n) {
        TrainingChecks.elements(t, n);
        MemorySegment ts = t.data();
        long vectors = n / VL;
        split(vectors, VL, (part, from, to) -> {
            for (long vi = from; vi < to; vi++) {
                long off = vi * VL * Float.BYTES;
                FloatVector.fromMemorySegment(S, ts, off, ORDER).mul(factor).intoMemorySegment(ts, off, ORDER);
            }
        });
        for (long i = vectors * VL; i < n; i++) ts.setAtIndex(ValueLayout.JAVA_FLOAT, i, ts.getAtIndex(ValueLayout.JAVA_FLOAT, i) * factor);
    }

    @Override
    public void zero(Tensor t, long n) {
        TrainingChecks.elements(t, n);
        t.data().asSlice(0, n * Float.BYTES).fill((byte) 0);
    }
}
