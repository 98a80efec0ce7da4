package dev.univar.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Multi-head attention, one (batch, head) pair at a time, pairs spread over the threads.
 *
 * <p>Padded keys get zero weight, so they are simply left out: only the real keys of a sequence are packed,
 * K transposed ({@code [headDim][keys]}) and V row-major padded to whole vectors. Queries then go
 * {@link #R} rows at a time through two register-blocked micro-kernels, GEMM-style: scores
 * {@code Q_blk · Kᵀ} (each K vector loaded once feeds R FMAs) and {@code P_blk · V}, with the softmax between
 * them on the block's rows. The kernels write only to {@code float[]} scratch (C2 keeps the 16 accumulators in
 * registers then; see {@link Gemm#kernel}). q, k and v may be column ranges of wider rows (a fused QKV
 * projection's output). All buffers are per-thread and kept between calls.
 *
 * <p>Thread-safe: {@link #run} is synchronized.
 */
final class Attention {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Query rows per block. */
    static final int R = 8;
    /** Multiply-adds below which one thread does the whole call. */
    private static final long PARALLEL_MIN_MACS = 1 << 21;

    private final ThreadPool pool;
    private final Scratch[] scratch;

    private static final class Scratch {
        float[] keysT = new float[0], values = new float[0], scores = new float[0], query = new float[0],
                acc = new float[0], inv = new float[R];
        int[] keys = new int[0];

        void ensure(int seq, int headDim) {
            int keysPad = roundUp(seq, VL), dimPad = roundUp(headDim, VL);
            if (keys.length < seq) keys = new int[seq];
            if (keysT.length < headDim * keysPad) keysT = new float[headDim * keysPad];
            if (values.length < seq * dimPad) values = new float[seq * dimPad];
            if (scores.length < R * keysPad) scores = new float[R * keysPad];
            if (query.length < R * headDim) query = new float[R * headDim];
            if (acc.length < R * dimPad) acc = new float[R * dimPad];
        }
    }

    Attention(ThreadPool pool) {
        this.pool = pool;
        scratch = new Scratch[pool.threads()];
        for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
    }

    /**
     * q, k and v of token t, head h start at float {@code t * ld + xCol + h * headDim} of their segments; out is
     * {@code [batch * seq, heads * headDim]}.
     */
    synchronized void run(MemorySegment q, int qCol, MemorySegment k, int kCol, MemorySegment v, int vCol, int ld,
                          MemorySegment mask, MemorySegment out, int batch, int seq, int heads, int headDim) {
        run(q, qCol, k, kCol, v, vCol, ld, mask, out, null, batch, seq, heads, headDim);
    }

    /**
     * {@link #run} that also writes the attention probabilities into {@code probs[batch, heads, seq, seq]} (query
     * row, then key column; padded keys 0, a sequence without any real key all 0), for the training forward;
     * {@code probs} null writes none. The output is the same either way.
     */
    synchronized void run(MemorySegment q, int qCol, MemorySegment k, int kCol, MemorySegment v, int vCol, int ld,
                          MemorySegment mask, MemorySegment out, MemorySegment probs, int batch, int seq, int heads,
                          int headDim) {
        int pairs = batch * heads;
        if (pairs == 0 || seq == 0 || (headDim == 0 && probs == null)) return; // with no head dims, probs are still uniform
        long macs = (long) pairs * seq * seq * headDim * 2;
        int parts = macs < PARALLEL_MIN_MACS ? 1 : Math.min(pool.threads(), pairs);
        AtomicInteger next = new AtomicInteger();
        pool.run(parts, part -> {
            Scratch s = scratch[part];
            s.ensure(seq, headDim);
            for (int t = next.getAndIncrement(); t < pairs; t = next.getAndIncrement())
                head(q, qCol, k, kCol, v, vCol, ld, mask, out, probs, t / heads, t % heads, seq, heads, headDim, s);
        });
    }

    private static void head(MemorySegment q, int qCol, MemorySegment k, int kCol, MemorySegment v, int vCol, int ld,
                             MemorySegment mask, MemorySegment out, MemorySegment probs, int b, int h, int seq,
                             int heads, int headDim, Scratch s) {
        long inRow = (long) ld * Float.BYTES, outRow = (long) heads * headDim * Float.BYTES;
        long headOff = (long) h * headDim * Float.BYTES, seqBase = (long) b * seq;
        long qOff = headOff + (long) qCol * Float.BYTES, kOff = headOff + (long) kCol * Float.BYTES,
                vOff = headOff + (long) vCol * Float.BYTES;
        int dimPad = roundUp(headDim, VL);

        int nk = 0;
        for (int j = 0; j < seq; j++) if (mask.getAtIndex(ValueLayout.JAVA_FLOAT, seqBase + j) != 0) s.keys[nk++] = j;
        long probsBase = ((long) b * heads + h) * seq * seq * Float.BYTES, probsRowBytes = (long) seq * Float.BYTES;
        if (nk == 0) { // no real key: every weight is 0, so is the output
            for (int i = 0; i < seq; i++)
                out.asSlice((seqBase + i) * outRow + headOff, (long) headDim * Float.BYTES).fill((byte) 0);
            if (probs != null) probs.asSlice(probsBase, seq * probsRowBytes).fill((byte) 0);
            return;
        }
        int keysPad = roundUp(nk, VL);
        float[] kt = s.keysT, vs = s.values, sc = s.scores, qb = s.query, acc = s.acc, inv = s.inv;
        for (int idx = 0; idx < keysPad; idx++) {
            if (idx < nk) {
                long row = (seqBase + s.keys[idx]) * inRow;
                MemorySegment.copy(k, ValueLayout.JAVA_FLOAT, row + kOff, vs, idx * dimPad, headDim); // staging
                for (int d = 0; d < headDim; d++) kt[d * keysPad + idx] = vs[idx * dimPad + d];
                MemorySegment.copy(v, ValueLayout.JAVA_FLOAT, row + vOff, vs, idx * dimPad, headDim);
                Arrays.fill(vs, idx * dimPad + headDim, (idx + 1) * dimPad, 0f);
            } else {
                for (int d = 0; d < headDim; d++) kt[d * keysPad + idx] = 0f;
            }
        }

        float scale = (float) (1 / Math.sqrt(headDim));
        for (int i0 = 0; i0 < seq; i0 += R) {
            int rows = Math.min(R, seq - i0);
            for (int r = 0; r < R; r++) {
                if (r < rows) {
                    MemorySegment.copy(q, ValueLayout.JAVA_FLOAT, (seqBase + i0 + r) * inRow + qOff, qb, r * headDim, headDim);
                    for (int d = 0; d < headDim; d++) qb[r * headDim + d] *= scale;
                } else {
                    Arrays.fill(qb, r * headDim, (r + 1) * headDim, 0f);
                }
            }
            scores(kt, qb, sc, headDim, keysPad);
            for (int r = 0; r < rows; r++) inv[r] = softmax(sc, r * keysPad, nk, keysPad);
            for (int r = rows; r < R; r++) Arrays.fill(sc, r * keysPad, (r + 1) * keysPad, 0f);
            weightedValues(vs, sc, 0, acc, nk, keysPad, dimPad);
            for (int r = 0; r < rows; r++) {
                long o = (seqBase + i0 + r) * outRow + headOff;
                for (int d = 0; d < headDim; d += VL) {
                    VectorMask<Float> m = S.indexInRange(d, headDim);
                    FloatVector.fromArray(S, acc, r * dimPad + d).mul(inv[r]).intoMemorySegment(out, o + (long) d * Float.BYTES, ORDER, m);
                }
            }
            if (probs != null) writeProbs(sc, inv, s.keys, nk, keysPad, seq, rows, probs, probsBase + i0 * probsRowBytes);
        }
    }

    /**
     * Probabilities as the output used them, {@code exp * (1 / sum)}, of the block's rows into consecutive rows of
     * {@code probs} from byte offset {@code at}, each real key's at its column, padded keys 0.
     */
    private static void writeProbs(float[] sc, float[] inv, int[] keys, int nk, int keysPad, int seq, int rows,
                                   MemorySegment probs, long at) {
        long rowBytes = (long) seq * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            int base = r * keysPad;
            FloatVector iv = FloatVector.broadcast(S, inv[r]);
            for (int j = 0; j < keysPad; j += VL) FloatVector.fromArray(S, sc, base + j).mul(iv).intoArray(sc, base + j);
            long pOff = at + r * rowBytes;
            if (nk == seq) {
                MemorySegment.copy(sc, base, probs, ValueLayout.JAVA_FLOAT, pOff, seq);
            } else {
                probs.asSlice(pOff, rowBytes).fill((byte) 0);
                for (int idx = 0; idx < nk; idx++) probs.set(ValueLayout.JAVA_FLOAT, pOff + (long) keys[idx] * Float.BYTES, sc[base + idx]);
            }
        }
    }

    /**
     * Exponentials of the row {@code sc[base, base + keysPad)} less its max over the first nk, in place (lanes past nk
     * become 0); returns 1 / their sum.
     */
    static float softmax(float[] sc, int base, int nk, int keysPad) {
        FloatVector maxV = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < keysPad; j += VL)
            maxV = maxV.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, sc, base + j), S.indexInRange(j, nk));
        float max = maxV.reduceLanes(VectorOperators.MAX);
        FloatVector sumV = FloatVector.zero(S);
        for (int j = 0; j < keysPad; j += VL) {
            FloatVector e = FloatVector.fromArray(S, sc, base + j).sub(max).lanewise(VectorOperators.EXP);
            e = FloatVector.zero(S).blend(e, S.indexInRange(j, nk));
            sumV = sumV.add(e);
            e.intoArray(sc, base + j);
        }
        return 1 / sumV.reduceLanes(VectorOperators.ADD);
    }

    /** {@code sc[r][j] = sum_d qb[r][d] * kt[d][j]} for R rows and j in [0, keysPad) (a multiple of VL). */
    static void scores(float[] kt, float[] qb, float[] sc, int headDim, int keysPad) {
        int j = 0;
        for (; j + 2 * VL <= keysPad; j += 2 * VL) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S), c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++) {
                int o = d * keysPad + j, qo = d;
                FloatVector b0 = FloatVector.fromArray(S, kt, o), b1 = FloatVector.fromArray(S, kt, o + VL);
                FloatVector x0 = FloatVector.broadcast(S, qb[qo + 0 * headDim]);
                c00 = b0.fma(x0, c00);
                c01 = b1.fma(x0, c01);
                FloatVector x1 = FloatVector.broadcast(S, qb[qo + 1 * headDim]);
                c10 = b0.fma(x1, c10);
                c11 = b1.fma(x1, c11);
                FloatVector x2 = FloatVector.broadcast(S, qb[qo + 2 * headDim]);
                c20 = b0.fma(x2, c20);
                c21 = b1.fma(x2, c21);
                FloatVector x3 = FloatVector.broadcast(S, qb[qo + 3 * headDim]);
                c30 = b0.fma(x3, c30);
                c31 = b1.fma(x3, c31);
                FloatVector x4 = FloatVector.broadcast(S, qb[qo + 4 * headDim]);
                c40 = b0.fma(x4, c40);
                c41 = b1.fma(x4, c41);
                FloatVector x5 = FloatVector.broadcast(S, qb[qo + 5 * headDim]);
                c50 = b0.fma(x5, c50);
                c51 = b1.fma(x5, c51);
                FloatVector x6 = FloatVector.broadcast(S, qb[qo + 6 * headDim]);
                c60 = b0.fma(x6, c60);
                c61 = b1.fma(x6, c61);
                FloatVector x7 = FloatVector.broadcast(S, qb[qo + 7 * headDim]);
                c70 = b0.fma(x7, c70);
                c71 = b1.fma(x7, c71);
            }
            c00.intoArray(sc, 0 * keysPad + j);
            c01.intoArray(sc, 0 * keysPad + j + VL);
            c10.intoArray(sc, 1 * keysPad + j);
            c11.intoArray(sc, 1 * keysPad + j + VL);
            c20.intoArray(sc, 2 * keysPad + j);
            c21.intoArray(sc, 2 * keysPad + j + VL);
            c30.intoArray(sc, 3 * keysPad + j);
            c31.intoArray(sc, 3 * keysPad + j + VL);
            c40.intoArray(sc, 4 * keysPad + j);
            c41.intoArray(sc, 4 * keysPad + j + VL);
            c50.intoArray(sc, 5 * keysPad + j);
            c51.intoArray(sc, 5 * keysPad + j + VL);
            c60.intoArray(sc, 6 * keysPad + j);
            c61.intoArray(sc, 6 * keysPad + j + VL);
            c70.intoArray(sc, 7 * keysPad + j);
            c71.intoArray(sc, 7 * keysPad + j + VL);
        }
        for (; j < keysPad; j += VL) {
            FloatVector c00 = FloatVector.zero(S), c10 = FloatVector.zero(S), c20 = FloatVector.zero(S), c30 = FloatVector.zero(S), c40 = FloatVector.zero(S), c50 = FloatVector.zero(S), c60 = FloatVector.zero(S), c70 = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++) {
                int qo = d;
                FloatVector b0 = FloatVector.fromArray(S, kt, d * keysPad + j);
                c00 = b0.fma(FloatVector.broadcast(S, qb[qo + 0 * headDim]), c00);
                c10 = b0.fma(FloatVector.broadcast(S, qb[qo + 1 * headDim]), c10);
                c20 = b0.fma(FloatVector.broadcast(S, qb[qo + 2 * headDim]), c20);
                c30 = b0.fma(FloatVector.broadcast(S, qb[qo + 3 * headDim]), c30);
                c40 = b0.fma(FloatVector.broadcast(S, qb[qo + 4 * headDim]), c40);
                c50 = b0.fma(FloatVector.broadcast(S, qb[qo + 5 * headDim]), c50);
                c60 = b0.fma(FloatVector.broadcast(S, qb[qo + 6 * headDim]), c60);
                c70 = b0.fma(FloatVector.broadcast(S, qb[qo + 7 * headDim]), c70);
            }
            c00.intoArray(sc, 0 * keysPad + j);
            c10.intoArray(sc, 1 * keysPad + j);
            c20.intoArray(sc, 2 * keysPad + j);
            c30.intoArray(sc, 3 * keysPad + j);
            c40.intoArray(sc, 4 * keysPad + j);
            c50.intoArray(sc, 5 * keysPad + j);
            c60.intoArray(sc, 6 * keysPad + j);
            c70.intoArray(sc, 7 * keysPad + j);
        }
    }

    /**
     * {@code acc[r][0, dimPad) = sum_{idx < nk} p[pOff + r * keysPad + idx] * vs[idx]} for R rows ({@code vs} rows
     * are {@code dimPad} floats).
     */
    static void weightedValues(float[] vs, float[] p, int pOff, float[] acc, int nk, int keysPad, int dimPad) {
        int d = 0;
        for (; d + 2 * VL <= dimPad; d += 2 * VL) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S), c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int idx = 0; idx < nk; idx++) {
                int o = idx * dimPad + d;
                FloatVector v0 = FloatVector.fromArray(S, vs, o), v1 = FloatVector.fromArray(S, vs, o + VL);
                FloatVector x0 = FloatVector.broadcast(S, p[pOff + 0 * keysPad + idx]);
                c00 = v0.fma(x0, c00);
                c01 = v1.fma(x0, c01);
                FloatVector x1 = FloatVector.broadcast(S, p[pOff + 1 * keysPad + idx]);
                c10 = v0.fma(x1, c10);
                c11 = v1.fma(x1, c11);
                FloatVector x2 = FloatVector.broadcast(S, p[pOff + 2 * keysPad + idx]);
                c20 = v0.fma(x2, c20);
                c21 = v1.fma(x2, c21);
                FloatVector x3 = FloatVector.broadcast(S, p[pOff + 3 * keysPad + idx]);
                c30 = v0.fma(x3, c30);
                c31 = v1.fma(x3, c31);
                FloatVector x4 = FloatVector.broadcast(S, p[pOff + 4 * keysPad + idx]);
                c40 = v0.fma(x4, c40);
                c41 = v1.fma(x4, c41);
                FloatVector x5 = FloatVector.broadcast(S, p[pOff + 5 * keysPad + idx]);
                c50 = v0.fma(x5, c50);
                c51 = v1.fma(x5, c51);
                FloatVector x6 = FloatVector.broadcast(S, p[pOff + 6 * keysPad + idx]);
                c60 = v0.fma(x6, c60);
                c61 = v1.fma(x6, c61);
                FloatVector x7 = FloatVector.broadcast(S, p[pOff + 7 * keysPad + idx]);
                c70 = v0.fma(x7, c70);
                c71 = v1.fma(x7, c71);
            }
            c00.intoArray(acc, 0 * dimPad + d);
            c01.intoArray(acc, 0 * dimPad + d + VL);
            c10.intoArray(acc, 1 * dimPad + d);
            c11.intoArray(acc, 1 * dimPad + d + VL);
            c20.intoArray(acc, 2 * dimPad + d);
            c21.intoArray(acc, 2 * dimPad + d + VL);
            c30.intoArray(acc, 3 * dimPad + d);
            c31.intoArray(acc, 3 * dimPad + d + VL);
            c40.intoArray(acc, 4 * dimPad + d);
            c41.intoArray(acc, 4 * dimPad + d + VL);
            c50.intoArray(acc, 5 * dimPad + d);
            c51.intoArray(acc, 5 * dimPad + d + VL);
            c60.intoArray(acc, 6 * dimPad + d);
            c61.intoArray(acc, 6 * dimPad + d + VL);
            c70.intoArray(acc, 7 * dimPad + d);
            c71.intoArray(acc, 7 * dimPad + d + VL);
        }
        for (; d < dimPad; d += VL) {
            FloatVector c00 = FloatVector.zero(S), c10 = FloatVector.zero(S), c20 = FloatVector.zero(S), c30 = FloatVector.zero(S), c40 = FloatVector.zero(S), c50 = FloatVector.zero(S), c60 = FloatVector.zero(S), c70 = FloatVector.zero(S);
            for (int idx = 0; idx < nk; idx++) {
                FloatVector v0 = FloatVector.fromArray(S, vs, idx * dimPad + d);
                c00 = v0.fma(FloatVector.broadcast(S, p[pOff + 0 * keysPad + idx]), c00);
                c10 = v0.fma(FloatVector.broadcast(S, p[pOff + 1 * keysPad + idx]), c10);
                c20 = v0.fma(FloatVector.broadcast(S, p[pOff + 2 * keysPad + idx]), c20);
                c30 = v0.fma(FloatVector.broadcast(S, p[pOff + 3 * keysPad + idx]), c30);
                c40 = v0.fma(FloatVector.broadcast(S, p[pOff + 4 * keysPad + idx]), c40);
                c50 = v0.fma(FloatVector.broadcast(S, p[pOff + 5 * keysPad + idx]), c50);
                c60 = v0.fma(FloatVector.broadcast(S, p[pOff + 6 * keysPad + idx]), c60);
                c70 = v0.fma(FloatVector.broadcast(S, p[pOff + 7 * keysPad + idx]), c70);
            }
            c00.intoArray(acc, 0 * dimPad + d);
            c10.intoArray(acc, 1 * dimPad + d);
            c20.intoArray(acc, 2 * dimPad + d);
            c30.intoArray(acc, 3 * dimPad + d);
            c40.intoArray(acc, 4 * dimPad + d);
            c50.intoArray(acc, 5 * dimPad + d);
            c60.intoArray(acc, 6 * dimPad + d);
            c70.intoArray(acc, 7 * dimPad + d);
        }
    }

    static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
