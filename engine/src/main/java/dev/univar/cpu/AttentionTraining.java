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
 * Attention for training: the forward that also saves the probabilities, and the backward. One (batch, head)
 * pair at a time, pairs spread over the threads, per-thread buffers kept between calls.
 *
 * <p>As in {@link Attention}, only the real keys of a sequence are packed (a padded key has probability 0, so
 * it contributes nothing and receives no gradient). The forward does the same arithmetic in the same order as
 * {@link Attention}, so its output matches the inference kernel's.
 */
final class AttentionTraining {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final long PARALLEL_MIN_MACS = 1 << 16;

    private final ThreadPool pool;
    private final Scratch[] scratch;

    private static final class Scratch {
        int[] keys = new int[0];
        float[] kT = new float[0], vT = new float[0], kRows = new float[0], vRows = new float[0];
        float[] dk = new float[0], dv = new float[0];
        float[] p = new float[0], dp = new float[0], qv = new float[0], dov = new float[0], row = new float[0];

        void ensure(int seq, int headDim) {
            int keysPad = Attention.roundUp(seq, VL), dimPad = Attention.roundUp(headDim, VL);
            if (keys.length < seq) keys = new int[seq];
            if (kT.length < headDim * keysPad) {
                kT = new float[headDim * keysPad];
                vT = new float[headDim * keysPad];
            }
            if (kRows.length < seq * dimPad) {
                kRows = new float[seq * dimPad];
                vRows = new float[seq * dimPad];
                dk = new float[seq * dimPad];
                dv = new float[seq * dimPad];
            }
            if (p.length < keysPad) {
                p = new float[keysPad];
                dp = new float[keysPad];
            }
            if (qv.length < dimPad) {
                qv = new float[dimPad];
                dov = new float[dimPad];
                row = new float[dimPad];
            }
        }
    }

    AttentionTraining(ThreadPool pool) {
        this.pool = pool;
        scratch = new Scratch[pool.threads()];
        for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
    }

    @FunctionalInterface
    private interface HeadBody {
        void run(int b, int h, Scratch s);
    }

    private void forEachHead(int batch, int seq, int heads, int headDim, long macsPerPair, HeadBody body) {
        int pairs = batch * heads;
        if (pairs == 0 || seq == 0) return;
        int parts = (long) pairs * macsPerPair < PARALLEL_MIN_MACS ? 1 : Math.min(pool.threads(), pairs);
        AtomicInteger next = new AtomicInteger();
        pool.run(parts, part -> {
            Scratch s = scratch[part];
            s.ensure(seq, headDim);
            for (int t = next.getAndIncrement(); t < pairs; t = next.getAndIncrement()) body.run(t / heads, t % heads, s);
        });
    }

    synchronized void forward(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment out,
                              MemorySegment probs, int batch, int seq, int heads, int headDim) {
        forEachHead(batch, seq, heads, headDim, 2L * seq * seq * headDim,
                (b, h, s) -> forwardHead(q, k, v, mask, out, probs, b, h, seq, heads, headDim, s));
    }

    synchronized void backward(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment probs,
                               MemorySegment dOut, MemorySegment dQ, MemorySegment dK, MemorySegment dV,
                               int batch, int seq, int heads, int headDim) {
        forEachHead(batch, seq, heads, headDim, 4L * seq * seq * headDim,
                (b, h, s) -> backwardHead(q, k, v, mask, probs, dOut, dQ, dK, dV, b, h, seq, heads, headDim, s));
    }

    /** Indices of the real keys of sequence {@code b} into {@code s.keys}; returns their count. */
    private static int realKeys(MemorySegment mask, int b, int seq, Scratch s) {
        int nk = 0;
        long base = (long) b * seq;
        for (int j = 0; j < seq; j++) if (mask.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) != 0) s.keys[nk++] = j;
        return nk;
    }

    private static void forwardHead(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask,
                                    MemorySegment out, MemorySegment probs, int b, int h, int seq, int heads,
                                    int headDim, Scratch s) {
        long width = (long) heads * headDim;
        long rowBytes = width * Float.BYTES, headOff = (long) h * headDim * Float.BYTES, seqBase = (long) b * seq;
        long probsBase = ((long) b * heads + h) * seq * seq * Float.BYTES, probsRowBytes = (long) seq * Float.BYTES;
        int dimPad = Attention.roundUp(headDim, VL);
        int nk = realKeys(mask, b, seq, s);
        if (nk == 0) { // no real key: every weight is 0, so is the output
            probs.asSlice(probsBase, seq * probsRowBytes).fill((byte) 0);
            for (int i = 0; i < seq; i++) out.asSlice((seqBase + i) * rowBytes + headOff, (long) headDim * Float.BYTES).fill((byte) 0);
            return;
        }
        int keysPad = Attention.roundUp(nk, VL);
        float[] kt = s.kT, vs = s.vRows, row = s.row, sc = s.p, qv = s.qv;
        packTransposed(k, s.keys, nk, keysPad, seqBase, rowBytes, headOff, headDim, kt, row);
        packRows(v, s.keys, nk, seqBase, rowBytes, headOff, headDim, dimPad, vs);

        float scale = (float) (1 / Math.sqrt(headDim));
        for (int i = 0; i < seq; i++) {
            long qOff = (seqBase + i) * rowBytes + headOff;
            MemorySegment.copy(q, ValueLayout.JAVA_FLOAT, qOff, qv, 0, headDim);
            broadcastRows(kt, qv, sc, headDim, keysPad, scale);

            FloatVector maxV = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < keysPad; j += VL)
                maxV = maxV.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, sc, j), S.indexInRange(j, nk));
            float max = maxV.reduceLanes(VectorOperators.MAX);
            FloatVector sumV = FloatVector.zero(S);
            for (int j = 0; j < keysPad; j += VL) {
                FloatVector e = FloatVector.fromArray(S, sc, j).sub(max).lanewise(VectorOperators.EXP);
                e = FloatVector.zero(S).blend(e, S.indexInRange(j, nk));
                sumV = sumV.add(e);
                e.intoArray(sc, j);
            }
            float inv = 1 / sumV.reduceLanes(VectorOperators.ADD);

            weightedRows(vs, sc, row, nk, dimPad);
            for (int d = 0; d < headDim; d += VL) {
                VectorMask<Float> m = S.indexInRange(d, headDim);
                FloatVector.fromArray(S, row, d).mul(inv).intoMemorySegment(out, qOff + (long) d * Float.BYTES, ORDER, m);
            }
            // Probabilities as the output used them: exp * (1 / sum).
            for (int j = 0; j < keysPad; j += VL) FloatVector.fromArray(S, sc, j).mul(inv).intoArray(sc, j);
            long pOff = probsBase + i * probsRowBytes;
            if (nk == seq) {
                MemorySegment.copy(sc, 0, probs, ValueLayout.JAVA_FLOAT, pOff, seq);
            } else {
                probs.asSlice(pOff, probsRowBytes).fill((byte) 0);
                for (int idx = 0; idx < nk; idx++)
                    probs.set(ValueLayout.JAVA_FLOAT, pOff + (long) s.keys[idx] * Float.BYTES, sc[idx]);
            }
        }
    }

    private static void backwardHead(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask,
                                     MemorySegment probs, MemorySegment dOut, MemorySegment dQ, MemorySegment dK,
                                     MemorySegment dV, int b, int h, int seq, int heads, int headDim, Scratch s) {
        long width = (long) heads * headDim;
        long rowBytes = width * Float.BYTES, headOff = (long) h * headDim * Float.BYTES, seqBase = (long) b * seq;
        long probsBase = ((long) b * heads + h) * seq * seq * Float.BYTES, probsRowBytes = (long) seq * Float.BYTES;
        long headBytes = (long) headDim * Float.BYTES;
        int dimPad = Attention.roundUp(headDim, VL);
        int nk = realKeys(mask, b, seq, s);
        int keysPad = Attention.roundUp(Math.max(nk, 1), VL);
        float[] kRows = s.kRows, vT = s.vT, dk = s.dk, dv = s.dv, p = s.p, dp = s.dp, qv = s.qv, dov = s.dov, row = s.row;
        if (nk > 0) {
            packRows(k, s.keys, nk, seqBase, rowBytes, headOff, headDim, dimPad, kRows);
            packTransposed(v, s.keys, nk, keysPad, seqBase, rowBytes, headOff, headDim, vT, row);
        }
        Arrays.fill(dk, 0, nk * dimPad, 0f);
        Arrays.fill(dv, 0, nk * dimPad, 0f);
        Arrays.fill(qv, 0f);
        Arrays.fill(dov, 0f);
        float scale = (float) (1 / Math.sqrt(headDim));

        for (int i = 0; i < seq; i++) {
            long off = (seqBase + i) * rowBytes + headOff;
            MemorySegment.copy(dOut, ValueLayout.JAVA_FLOAT, off, dov, 0, headDim);
            boolean zeroRow = true;
            for (int d = 0; d < headDim && zeroRow; d++) zeroRow = dov[d] == 0;
            if (nk == 0 || zeroRow) { // no gradient flows through this query (a padded row, typically)
                dQ.asSlice(off, headBytes).fill((byte) 0);
                continue;
            }
            MemorySegment.copy(q, ValueLayout.JAVA_FLOAT, off, qv, 0, headDim);
            long pOff = probsBase + i * probsRowBytes;
            if (nk == seq) MemorySegment.copy(probs, ValueLayout.JAVA_FLOAT, pOff, p, 0, seq);
            else for (int idx = 0; idx < nk; idx++)
                p[idx] = probs.get(ValueLayout.JAVA_FLOAT, pOff + (long) s.keys[idx] * Float.BYTES);
            Arrays.fill(p, nk, keysPad, 0f);

            // dP[j] = dOut_i · v_j for all real keys at once.
            broadcastRows(vT, dov, dp, headDim, keysPad, 1f);
            // Softmax backward, scaled: dS[j] = P[j] (dP[j] - P · dP) * scale (kept in dp).
            FloatVector dotV = FloatVector.zero(S);
            for (int j = 0; j < keysPad; j += VL)
                dotV = FloatVector.fromArray(S, p, j).fma(FloatVector.fromArray(S, dp, j), dotV);
            float dot = dotV.reduceLanes(VectorOperators.ADD);
            for (int j = 0; j < keysPad; j += VL) {
                FloatVector pj = FloatVector.fromArray(S, p, j);
                FloatVector.fromArray(S, dp, j).sub(dot).mul(pj).mul(scale).intoArray(dp, j);
            }
            // dQ_i = sum_j dS[j] k_j.
            weightedRows(kRows, dp, row, nk, dimPad);
            MemorySegment.copy(row, 0, dQ, ValueLayout.JAVA_FLOAT, off, headDim);
            // dK_j += dS[j] q_i and dV_j += P[j] dOut_i: rank-one updates over the real keys.
            rankOne(dk, dp, qv, dv, p, dov, nk, dimPad);
        }
        // Padded keys get zero; real keys their sums.
        for (int j = 0; j < seq; j++) {
            long off = (seqBase + j) * rowBytes + headOff;
            dK.asSlice(off, headBytes).fill((byte) 0);
            dV.asSlice(off, headBytes).fill((byte) 0);
        }
        for (int idx = 0; idx < nk; idx++) {
            long off = (seqBase + s.keys[idx]) * rowBytes + headOff;
            MemorySegment.copy(dk, idx * dimPad, dK, ValueLayout.JAVA_FLOAT, off, headDim);
            MemorySegment.copy(dv, idx * dimPad, dV, ValueLayout.JAVA_FLOAT, off, headDim);
        }
    }

    /** Head columns of the rows {@code keys[0, nk)} of {@code src}, transposed: {@code dst[d * keysPad + idx]}, zero past nk. */
    private static void packTransposed(MemorySegment src, int[] keys, int nk, int keysPad, long seqBase, long rowBytes,
                                       long headOff, int headDim, float[] dst, float[] row) {
        for (int idx = 0; idx < keysPad; idx++) {
            if (idx < nk) {
                MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, (seqBase + keys[idx]) * rowBytes + headOff, row, 0, headDim);
                for (int d = 0; d < headDim; d++) dst[d * keysPad + idx] = row[d];
            } else {
                for (int d = 0; d < headDim; d++) dst[d * keysPad + idx] = 0f;
            }
        }
    }

    /** Head columns of the rows {@code keys[0, nk)} of {@code src} as rows of {@code dimPad} floats, zero-padded. */
    private static void packRows(MemorySegment src, int[] keys, int nk, long seqBase, long rowBytes, long headOff,
                                 int headDim, int dimPad, float[] dst) {
        for (int idx = 0; idx < nk; idx++) {
            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, (seqBase + keys[idx]) * rowBytes + headOff, dst, idx * dimPad, headDim);
            Arrays.fill(dst, idx * dimPad + headDim, (idx + 1) * dimPad, 0f);
        }
    }

    /**
     * {@code out[j] = scale * sum_d x[d] * t[d][j]} for j in [0, keysPad): a vector times a transposed matrix as
     * broadcast FMAs, four vectors of columns at a time (the same order as {@link Attention}'s scores).
     */
    private static void broadcastRows(float[] t, float[] x, float[] out, int headDim, int keysPad, float scale) {
        int j = 0;
        for (; j + 4 * VL <= keysPad; j += 4 * VL) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector xv = FloatVector.broadcast(S, x[d]);
                int o = d * keysPad + j;
                a0 = FloatVector.fromArray(S, t, o).fma(xv, a0);
                a1 = FloatVector.fromArray(S, t, o + VL).fma(xv, a1);
                a2 = FloatVector.fromArray(S, t, o + 2 * VL).fma(xv, a2);
                a3 = FloatVector.fromArray(S, t, o + 3 * VL).fma(xv, a3);
            }
            a0.mul(scale).intoArray(out, j);
            a1.mul(scale).intoArray(out, j + VL);
            a2.mul(scale).intoArray(out, j + 2 * VL);
            a3.mul(scale).intoArray(out, j + 3 * VL);
        }
        for (; j < keysPad; j += VL) {
            FloatVector a0 = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++)
                a0 = FloatVector.fromArray(S, t, d * keysPad + j).fma(FloatVector.broadcast(S, x[d]), a0);
            a0.mul(scale).intoArray(out, j);
        }
    }

    /** {@code row[0, dimPad) = sum_{idx < nk} w[idx] * rows[idx]}, as {@link Attention}'s weighted values. */
    private static void weightedRows(float[] rows, float[] w, float[] row, int nk, int dimPad) {
        for (int d = 0; d < dimPad; d += VL) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int idx = 0;
            for (; idx + 4 <= nk; idx += 4) {
                int o = idx * dimPad + d;
                a0 = FloatVector.fromArray(S, rows, o).fma(FloatVector.broadcast(S, w[idx]), a0);
                a1 = FloatVector.fromArray(S, rows, o + dimPad).fma(FloatVector.broadcast(S, w[idx + 1]), a1);
                a2 = FloatVector.fromArray(S, rows, o + 2 * dimPad).fma(FloatVector.broadcast(S, w[idx + 2]), a2);
                a3 = FloatVector.fromArray(S, rows, o + 3 * dimPad).fma(FloatVector.broadcast(S, w[idx + 3]), a3);
            }
            for (; idx < nk; idx++)
                a0 = FloatVector.fromArray(S, rows, idx * dimPad + d).fma(FloatVector.broadcast(S, w[idx]), a0);
            a0.add(a1).add(a2.add(a3)).intoArray(row, d);
        }
    }

    /** {@code a[idx] += wa[idx] * x} and {@code b[idx] += wb[idx] * y} for every row idx < nk. */
    private static void rankOne(float[] a, float[] wa, float[] x, float[] b, float[] wb, float[] y, int nk, int dimPad) {
        for (int d = 0; d < dimPad; d += VL) {
            FloatVector xv = FloatVector.fromArray(S, x, d), yv = FloatVector.fromArray(S, y, d);
            for (int idx = 0; idx < nk; idx++) {
                int o = idx * dimPad + d;
                xv.fma(FloatVector.broadcast(S, wa[idx]), FloatVector.fromArray(S, a, o)).intoArray(a, o);
                yv.fma(FloatVector.broadcast(S, wb[idx]), FloatVector.fromArray(S, b, o)).intoArray(b, o);
            }
        }
    }
}
