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
 * K transposed ({@code [headDim][keys]}, so a row of scores is a sum of broadcast-times-vector FMAs, no
 * horizontal sums) and V row-major padded to whole vectors. Each query row then needs no masking at all.
 * All buffers are per-thread and kept between calls.
 */
final class Attention {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Multiply-adds below which one thread does the whole call. */
    private static final long PARALLEL_MIN_MACS = 1 << 16;

    private final ThreadPool pool;
    private final Scratch[] scratch;

    private static final class Scratch {
        float[] keysT = new float[0], values = new float[0], scores = new float[0], query = new float[0], row = new float[0];
        int[] keys = new int[0];

        void ensure(int seq, int headDim) {
            int keysPad = roundUp(seq, VL), dimPad = roundUp(headDim, VL);
            if (keys.length < seq) keys = new int[seq];
            if (keysT.length < headDim * keysPad) keysT = new float[headDim * keysPad];
            if (values.length < seq * dimPad) values = new float[seq * dimPad];
            if (scores.length < keysPad) scores = new float[keysPad];
            if (query.length < headDim) query = new float[headDim];
            if (row.length < dimPad) row = new float[dimPad];
        }
    }

    Attention(ThreadPool pool) {
        this.pool = pool;
        scratch = new Scratch[pool.threads()];
        for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
    }

    synchronized void run(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment out,
                          int batch, int seq, int heads, int headDim) {
        int pairs = batch * heads;
        if (pairs == 0 || seq == 0 || headDim == 0) return;
        long macs = (long) pairs * seq * seq * headDim * 2;
        int parts = macs < PARALLEL_MIN_MACS ? 1 : Math.min(pool.threads(), pairs);
        AtomicInteger next = new AtomicInteger();
        pool.run(parts, part -> {
            Scratch s = scratch[part];
            s.ensure(seq, headDim);
            for (int t = next.getAndIncrement(); t < pairs; t = next.getAndIncrement())
                head(q, k, v, mask, out, t / heads, t % heads, seq, heads, headDim, s);
        });
    }

    private static void head(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment out,
                             int b, int h, int seq, int heads, int headDim, Scratch s) {
        long width = (long) heads * headDim;
        long rowBytes = width * Float.BYTES, headOff = (long) h * headDim * Float.BYTES, seqBase = (long) b * seq;
        int dimPad = roundUp(headDim, VL);

        int nk = 0;
        for (int j = 0; j < seq; j++) if (mask.getAtIndex(ValueLayout.JAVA_FLOAT, seqBase + j) != 0) s.keys[nk++] = j;
        if (nk == 0) { // no real key: every weight is 0, so is the output
            for (int i = 0; i < seq; i++) {
                long off = (seqBase + i) * rowBytes + headOff;
                out.asSlice(off, (long) headDim * Float.BYTES).fill((byte) 0);
            }
            return;
        }
        int keysPad = roundUp(nk, VL);
        float[] kt = s.keysT, vs = s.values, row = s.row, sc = s.scores, qv = s.query;
        for (int idx = 0; idx < keysPad; idx++) {
            if (idx < nk) {
                long off = (seqBase + s.keys[idx]) * rowBytes + headOff;
                MemorySegment.copy(k, ValueLayout.JAVA_FLOAT, off, row, 0, headDim);
                for (int d = 0; d < headDim; d++) kt[d * keysPad + idx] = row[d];
                MemorySegment.copy(v, ValueLayout.JAVA_FLOAT, off, vs, idx * dimPad, headDim);
                Arrays.fill(vs, idx * dimPad + headDim, (idx + 1) * dimPad, 0f);
            } else {
                for (int d = 0; d < headDim; d++) kt[d * keysPad + idx] = 0f;
            }
        }

        float scale = (float) (1 / Math.sqrt(headDim));
        for (int i = 0; i < seq; i++) {
            long qOff = (seqBase + i) * rowBytes + headOff;
            MemorySegment.copy(q, ValueLayout.JAVA_FLOAT, qOff, qv, 0, headDim);
            scores(kt, qv, sc, headDim, keysPad, scale);

            // Softmax over the nk real keys; lanes past nk are padding and end up 0.
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

            weightedValues(vs, sc, row, nk, dimPad);
            for (int d = 0; d < headDim; d += VL) {
                VectorMask<Float> m = S.indexInRange(d, headDim);
                FloatVector.fromArray(S, row, d).mul(inv).intoMemorySegment(out, qOff + (long) d * Float.BYTES, ORDER, m);
            }
        }
    }

    /** {@code sc[j] = scale * sum_d q[d] * kt[d][j]} for j in [0, keysPad), four vectors of keys at a time. */
    private static void scores(float[] kt, float[] q, float[] sc, int headDim, int keysPad, float scale) {
        int j = 0;
        for (; j + 4 * VL <= keysPad; j += 4 * VL) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector x = FloatVector.broadcast(S, q[d]);
                int o = d * keysPad + j;
                a0 = FloatVector.fromArray(S, kt, o).fma(x, a0);
                a1 = FloatVector.fromArray(S, kt, o + VL).fma(x, a1);
                a2 = FloatVector.fromArray(S, kt, o + 2 * VL).fma(x, a2);
                a3 = FloatVector.fromArray(S, kt, o + 3 * VL).fma(x, a3);
            }
            a0.mul(scale).intoArray(sc, j);
            a1.mul(scale).intoArray(sc, j + VL);
            a2.mul(scale).intoArray(sc, j + 2 * VL);
            a3.mul(scale).intoArray(sc, j + 3 * VL);
        }
        for (; j < keysPad; j += VL) {
            FloatVector a0 = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++)
                a0 = FloatVector.fromArray(S, kt, d * keysPad + j).fma(FloatVector.broadcast(S, q[d]), a0);
            a0.mul(scale).intoArray(sc, j);
        }
    }

    /** {@code row[0, dimPad) = sum_{idx < nk} p[idx] * vs[idx]}, four keys in flight per vector of dims. */
    private static void weightedValues(float[] vs, float[] p, float[] row, int nk, int dimPad) {
        for (int d = 0; d < dimPad; d += VL) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int idx = 0;
            for (; idx + 4 <= nk; idx += 4) {
                int o = idx * dimPad + d;
                a0 = FloatVector.fromArray(S, vs, o).fma(FloatVector.broadcast(S, p[idx]), a0);
                a1 = FloatVector.fromArray(S, vs, o + dimPad).fma(FloatVector.broadcast(S, p[idx + 1]), a1);
                a2 = FloatVector.fromArray(S, vs, o + 2 * dimPad).fma(FloatVector.broadcast(S, p[idx + 2]), a2);
                a3 = FloatVector.fromArray(S, vs, o + 3 * dimPad).fma(FloatVector.broadcast(S, p[idx + 3]), a3);
            }
            for (; idx < nk; idx++)
                a0 = FloatVector.fromArray(S, vs, idx * dimPad + d).fma(FloatVector.broadcast(S, p[idx]), a0);
            a0.add(a1).add(a2.add(a3)).intoArray(row, d);
        }
    }

    static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
