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
 * The backward of attention (the training forward is {@link Attention}'s, which can also save the
 * probabilities). One (batch, head) pair at a time, pairs spread over the threads, per-thread buffers kept
 * between calls.
 *
 * <p>As in {@link Attention}, only the real keys of a sequence are packed (a padded key has probability 0, so
 * it contributes nothing and receives no gradient). The backward uses {@link Attention}'s register-blocked
 * micro-kernels for its four products.
 */
final class AttentionTraining {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final long PARALLEL_MIN_MACS = 1 << 16;
    private static final int R = Attention.R;

    private final ThreadPool pool;
    private final Scratch[] scratch;

    private static final class Scratch {
        int[] keys = new int[0];
        float[] vT = new float[0], kRows = new float[0];
        float[] qRows = new float[0], doRows = new float[0], dST = new float[0], pT = new float[0];
        float[] blockA = new float[0], blockB = new float[0], blockC = new float[0], qBlock = new float[0];
        float[] acc = new float[0], row = new float[0];

        void ensure(int seq, int headDim) {
            int keysPad = Attention.roundUp(seq, VL), dimPad = Attention.roundUp(headDim, VL);
            if (keys.length < seq) keys = new int[seq];
            if (vT.length < headDim * keysPad) vT = new float[headDim * keysPad];
            if (kRows.length < seq * dimPad) {
                kRows = new float[seq * dimPad];
                qRows = new float[seq * dimPad];
                doRows = new float[seq * dimPad];
            }
            int transposed = Attention.roundUp(seq, R) * keysPad;
            if (dST.length < transposed) {
                dST = new float[transposed];
                pT = new float[transposed];
            }
            if (blockA.length < R * keysPad) {
                blockA = new float[R * keysPad];
                blockB = new float[R * keysPad];
                blockC = new float[R * keysPad];
            }
            if (qBlock.length < R * headDim) qBlock = new float[R * headDim];
            if (acc.length < R * dimPad) acc = new float[R * dimPad];
            if (row.length < dimPad) row = new float[dimPad];
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

    /**
     * Backward of one (batch, head) pair, GEMM-style like {@link Attention}'s forward. Per block of R query rows:
     * {@code dP = dO · Vᵀ} ({@link Attention#scores}), {@code dS = P (dP - rowsum(P dP)) * scale},
     * {@code dQ = dS · K} ({@link Attention#weightedValues}); dS and P are also kept transposed (key-major), so that
     * afterwards, per block of R keys, {@code dK = dSᵀ · Q} and {@code dV = Pᵀ · dO} run through the same
     * register-blocked kernel instead of rank-one updates. Query rows whose dO is 0 (padding) give dS = 0, so
     * nothing needs a special case and nothing divides.
     */
    private static void backwardHead(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask,
                                     MemorySegment probs, MemorySegment dOut, MemorySegment dQ, MemorySegment dK,
                                     MemorySegment dV, int b, int h, int seq, int heads, int headDim, Scratch s) {
        long rowBytes = (long) heads * headDim * Float.BYTES, headOff = (long) h * headDim * Float.BYTES, seqBase = (long) b * seq;
        long probsBase = ((long) b * heads + h) * seq * seq * Float.BYTES, probsRowBytes = (long) seq * Float.BYTES;
        long headBytes = (long) headDim * Float.BYTES;
        int dimPad = Attention.roundUp(headDim, VL);
        int nk = realKeys(mask, b, seq, s);
        if (nk == 0) { // no key got any weight: no gradient anywhere
            for (int i = 0; i < seq; i++) {
                long off = (seqBase + i) * rowBytes + headOff;
                dQ.asSlice(off, headBytes).fill((byte) 0);
                dK.asSlice(off, headBytes).fill((byte) 0);
                dV.asSlice(off, headBytes).fill((byte) 0);
            }
            return;
        }
        int keysPad = Attention.roundUp(nk, VL), seqPad = Attention.roundUp(seq, VL);
        int keyRows = Attention.roundUp(nk, R);
        float[] vT = s.vT, kRows = s.kRows, qRows = s.qRows, doRows = s.doRows, dST = s.dST, pT = s.pT;
        float[] dp = s.blockA, ds = s.blockB, pb = s.blockC, dob = s.qBlock, acc = s.acc;
        packTransposed(v, s.keys, nk, keysPad, seqBase, rowBytes, headOff, headDim, vT, s.row);
        packRows(k, s.keys, nk, seqBase, rowBytes, headOff, headDim, dimPad, kRows);
        for (int i = 0; i < seq; i++) {
            long off = (seqBase + i) * rowBytes + headOff;
            MemorySegment.copy(q, ValueLayout.JAVA_FLOAT, off, qRows, i * dimPad, headDim);
            Arrays.fill(qRows, i * dimPad + headDim, (i + 1) * dimPad, 0f);
            MemorySegment.copy(dOut, ValueLayout.JAVA_FLOAT, off, doRows, i * dimPad, headDim);
            Arrays.fill(doRows, i * dimPad + headDim, (i + 1) * dimPad, 0f);
        }
        // Transposed dS and P: rows past nk (up to a whole block of R keys) and columns past seq stay 0.
        Arrays.fill(dST, 0, keyRows * seqPad, 0f);
        Arrays.fill(pT, 0, keyRows * seqPad, 0f);
        float scale = (float) (1 / Math.sqrt(headDim));

        for (int i0 = 0; i0 < seq; i0 += R) {
            int rows = Math.min(R, seq - i0);
            for (int r = 0; r < R; r++) {
                if (r < rows) System.arraycopy(doRows, (i0 + r) * dimPad, dob, r * headDim, headDim);
                else Arrays.fill(dob, r * headDim, (r + 1) * headDim, 0f);
            }
            Attention.scores(vT, dob, dp, headDim, keysPad); // dP[r][idx] = dO_r · v_idx
            for (int r = 0; r < R; r++) {
                int base = r * keysPad;
                if (r >= rows) {
                    Arrays.fill(ds, base, base + keysPad, 0f);
                    continue;
                }
                long pOff = probsBase + (long) (i0 + r) * probsRowBytes;
                if (nk == seq) MemorySegment.copy(probs, ValueLayout.JAVA_FLOAT, pOff, pb, base, seq);
                else for (int idx = 0; idx < nk; idx++)
                    pb[base + idx] = probs.get(ValueLayout.JAVA_FLOAT, pOff + (long) s.keys[idx] * Float.BYTES);
                Arrays.fill(pb, base + nk, base + keysPad, 0f);
                FloatVector dotV = FloatVector.zero(S);
                for (int j = 0; j < keysPad; j += VL)
                    dotV = FloatVector.fromArray(S, pb, base + j).fma(FloatVector.fromArray(S, dp, base + j), dotV);
                float dot = dotV.reduceLanes(VectorOperators.ADD);
                for (int j = 0; j < keysPad; j += VL) {
                    FloatVector pj = FloatVector.fromArray(S, pb, base + j);
                    FloatVector.fromArray(S, dp, base + j).sub(dot).mul(pj).mul(scale).intoArray(ds, base + j);
                }
                int col = i0 + r;
                for (int idx = 0; idx < nk; idx++) {
                    dST[idx * seqPad + col] = ds[base + idx];
                    pT[idx * seqPad + col] = pb[base + idx];
                }
            }
            Attention.weightedValues(kRows, ds, 0, keysPad, 1, acc, nk, dimPad); // dQ rows = dS · K
            for (int r = 0; r < rows; r++)
                MemorySegment.copy(acc, r * dimPad, dQ, ValueLayout.JAVA_FLOAT, (seqBase + i0 + r) * rowBytes + headOff, headDim);
        }

        // Padded keys get zero; real keys dSᵀ · Q and Pᵀ · dO, R keys at a time.
        if (nk < seq) {
            for (int j = 0; j < seq; j++) {
                long off = (seqBase + j) * rowBytes + headOff;
                dK.asSlice(off, headBytes).fill((byte) 0);
                dV.asSlice(off, headBytes).fill((byte) 0);
            }
        }
        for (int k0 = 0; k0 < nk; k0 += R) {
            int count = Math.min(R, nk - k0);
            Attention.weightedValues(qRows, dST, k0 * seqPad, seqPad, 1, acc, seq, dimPad);
            for (int r = 0; r < count; r++)
                MemorySegment.copy(acc, r * dimPad, dK, ValueLayout.JAVA_FLOAT, (seqBase + s.keys[k0 + r]) * rowBytes + headOff, headDim);
            Attention.weightedValues(doRows, pT, k0 * seqPad, seqPad, 1, acc, seq, dimPad);
            for (int r = 0; r < count; r++)
                MemorySegment.copy(acc, r * dimPad, dV, ValueLayout.JAVA_FLOAT, (seqBase + s.keys[k0 + r]) * rowBytes + headOff, headDim);
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
}
