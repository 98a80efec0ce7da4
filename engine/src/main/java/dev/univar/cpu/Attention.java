package dev.univar.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 * <p>Padded keys get zero weight, so they are simply left out: only the real keys of a sequence are packed, K and
 * V as rows (V padded to whole vectors). Queries then go VL at a time, one per vector lane, Qᵀ packed
 * {@code [headDim][VL]} (scaled by 1/sqrt(headDim)):
 * <ul>
 *   <li>{@link #scoresT}: {@code Sᵀ = K · Qᵀ}, {@link #J} keys per step (each Qᵀ vector loaded once feeds J FMAs);</li>
 *   <li>{@link #softmaxT}: down each lane, so max, exponentials and sums are plain lane-wise vector operations
 *       over the real keys: no horizontal reductions and no masks (the row-wise softmax that had them was a
 *       third of the attention's time);</li>
 *   <li>{@link #weightedValues}: {@code P · V}, R rows at a time, register-blocked like the GEMM.</li>
 * </ul>
 * The kernels write only to {@code float[]} scratch (C2 keeps the 16 accumulators in registers then; see
 * {@link Gemm#kernel}). q, k and v may be column ranges of wider rows (a fused QKV projection's output). All
 * buffers are per-thread and kept between calls. {@link #scores} and {@link #weightedValues} (row-major
 * probabilities) serve the training backward.
 *
 * <p>Thread-safe: {@link #run} is synchronized.
 */
final class Attention {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Rows per block of {@link #weightedValues} and {@link #scores} (also used by the training backward). */
    static final int R = 8;
    /** Keys per step of {@link #scoresT}. */
    static final int J = 16;
    /** Multiply-adds below which one thread does the whole call. */
    private static final long PARALLEL_MIN_MACS = 1 << 21;

    private final ThreadPool pool;
    private final Scratch[] scratch;

    private static final class Scratch {
        float[] values = new float[0], scores = new float[0], query = new float[0],
                acc = new float[0], inv = new float[Math.max(R, VL)], keyRows = new float[0], queryRows = new float[0];
        int[] keys = new int[0];

        void ensure(int seq, int headDim) {
            int dimPad = roundUp(headDim, VL);
            if (keys.length < seq) keys = new int[seq];
            if (values.length < seq * dimPad) values = new float[seq * dimPad];
            if (acc.length < R * dimPad) acc = new float[R * dimPad];
            int keysPadJ = roundUp(seq, J);
            if (keyRows.length < keysPadJ * headDim) keyRows = new float[keysPadJ * headDim];
            // + R: weightedValues reads R query lanes per key, past the last key's VL when a vector is narrower than R.
            if (scores.length < keysPadJ * VL + R) scores = new float[keysPadJ * VL + R];
            if (query.length < headDim * VL) {
                query = new float[headDim * VL];
                queryRows = new float[headDim * VL];
            }
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
        // Real keys as rows (K for the scores, V for the weighted sum), K zero-padded to whole steps of J keys.
        int keysJ = roundUp(nk, J);
        float[] kr = s.keyRows, vs = s.values, qT = s.query, sT = s.scores, acc = s.acc, inv = s.inv;
        // Row copies as whole vectors plus a scalar tail: a MemorySegment.copy call per short row cost about as much
        // as the attention's arithmetic.
        int whole = headDim / VL * VL;
        for (int idx = 0; idx < nk; idx++) {
            long row = (seqBase + s.keys[idx]) * inRow;
            rowToArray(k, row + kOff, kr, idx * headDim, headDim, whole);
            rowToArray(v, row + vOff, vs, idx * dimPad, headDim, whole);
            for (int d = headDim; d < dimPad; d++) vs[idx * dimPad + d] = 0f;
        }
        Arrays.fill(kr, nk * headDim, keysJ * headDim, 0f);

        // VL queries at a time, one per lane: scores, softmax and its sums are then lane-wise (no reductions, no
        // masks), and only the real keys are visited.
        float scale = (float) (1 / Math.sqrt(headDim));
        for (int i0 = 0; i0 < seq; i0 += VL) {
            int rows = Math.min(VL, seq - i0);
            float[] qr = s.queryRows;
            for (int r = 0; r < rows; r++) rowToArray(q, (seqBase + i0 + r) * inRow + qOff, qr, r * headDim, headDim, whole);
            for (int r = 0; r < VL; r++) {
                if (r < rows) for (int d = 0; d < headDim; d++) qT[d * VL + r] = qr[r * headDim + d] * scale;
                else for (int d = 0; d < headDim; d++) qT[d * VL + r] = 0f;
            }
            scoresT(kr, qT, sT, headDim, keysJ);
            softmaxT(sT, nk, inv);
            for (int r0 = 0; r0 < rows; r0 += R) {
                weightedValues(vs, sT, r0, 1, VL, acc, nk, dimPad); // sT is key-major: VL rows per key
                for (int r = 0; r < Math.min(R, rows - r0); r++) {
                    long o = (seqBase + i0 + r0 + r) * outRow + headOff;
                    float ir = inv[r0 + r];
                    for (int d = 0; d < headDim; d += VL) {
                        VectorMask<Float> m = S.indexInRange(d, headDim);
                        FloatVector.fromArray(S, acc, r * dimPad + d).mul(ir).intoMemorySegment(out, o + (long) d * Float.BYTES, ORDER, m);
                    }
                }
            }
            if (probs != null) writeProbs(sT, inv, s.keys, nk, seq, rows, probs, probsBase + i0 * probsRowBytes);
        }
    }

    /** {@code n} floats of {@code src} from byte offset {@code from} into {@code dst[at, at + n)}; {@code whole} = n rounded down to VL. */
    private static void rowToArray(MemorySegment src, long from, float[] dst, int at, int n, int whole) {
        for (int d = 0; d < whole; d += VL) FloatVector.fromMemorySegment(S, src, from + (long) d * Float.BYTES, ORDER).intoArray(dst, at + d);
        for (int d = whole; d < n; d++) dst[at + d] = src.get(ValueLayout.JAVA_FLOAT, from + (long) d * Float.BYTES);
    }

    /**
     * Probabilities as the output used them, {@code exp * (1 / sum)}, of the block's rows (lanes of {@code sT}) into
     * consecutive rows of {@code probs} from byte offset {@code at}, each real key's at its column, padded keys 0.
     */
    private static void writeProbs(float[] sT, float[] inv, int[] keys, int nk, int seq, int rows, MemorySegment probs,
                                   long at) {
        long rowBytes = (long) seq * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            long pOff = at + r * rowBytes;
            if (nk < seq) probs.asSlice(pOff, rowBytes).fill((byte) 0);
            for (int idx = 0; idx < nk; idx++)
                probs.set(ValueLayout.JAVA_FLOAT, pOff + (long) keys[idx] * Float.BYTES, sT[idx * VL + r] * inv[r]);
        }
    }

    /**
     * {@code sT[j][r] = sum_d kr[j][d] * qT[d][r]} for keys j in [0, keys) (a multiple of {@link #J}) and the VL query
     * lanes r: J accumulators, each qT vector loaded once feeds J FMAs.
     */
    static void scoresT(float[] kr, float[] qT, float[] sT, int headDim, int keys) {
        for (int j = 0; j < keys; j += J) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S),
                    c4 = FloatVector.zero(S), c5 = FloatVector.zero(S), c6 = FloatVector.zero(S), c7 = FloatVector.zero(S),
                    c8 = FloatVector.zero(S), c9 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S),
                    c12 = FloatVector.zero(S), c13 = FloatVector.zero(S), c14 = FloatVector.zero(S), c15 = FloatVector.zero(S);
            int k0 = j * headDim;
            for (int d = 0; d < headDim; d++) {
                FloatVector qv = FloatVector.fromArray(S, qT, d * VL);
                int o = k0 + d;
                c0 = qv.fma(FloatVector.broadcast(S, kr[o]), c0);
                c1 = qv.fma(FloatVector.broadcast(S, kr[o + headDim]), c1);
                c2 = qv.fma(FloatVector.broadcast(S, kr[o + 2 * headDim]), c2);
                c3 = qv.fma(FloatVector.broadcast(S, kr[o + 3 * headDim]), c3);
                c4 = qv.fma(FloatVector.broadcast(S, kr[o + 4 * headDim]), c4);
                c5 = qv.fma(FloatVector.broadcast(S, kr[o + 5 * headDim]), c5);
                c6 = qv.fma(FloatVector.broadcast(S, kr[o + 6 * headDim]), c6);
                c7 = qv.fma(FloatVector.broadcast(S, kr[o + 7 * headDim]), c7);
                c8 = qv.fma(FloatVector.broadcast(S, kr[o + 8 * headDim]), c8);
                c9 = qv.fma(FloatVector.broadcast(S, kr[o + 9 * headDim]), c9);
                c10 = qv.fma(FloatVector.broadcast(S, kr[o + 10 * headDim]), c10);
                c11 = qv.fma(FloatVector.broadcast(S, kr[o + 11 * headDim]), c11);
                c12 = qv.fma(FloatVector.broadcast(S, kr[o + 12 * headDim]), c12);
                c13 = qv.fma(FloatVector.broadcast(S, kr[o + 13 * headDim]), c13);
                c14 = qv.fma(FloatVector.broadcast(S, kr[o + 14 * headDim]), c14);
                c15 = qv.fma(FloatVector.broadcast(S, kr[o + 15 * headDim]), c15);
            }
            int o = j * VL;
            c0.intoArray(sT, o);
            c1.intoArray(sT, o + VL);
            c2.intoArray(sT, o + 2 * VL);
            c3.intoArray(sT, o + 3 * VL);
            c4.intoArray(sT, o + 4 * VL);
            c5.intoArray(sT, o + 5 * VL);
            c6.intoArray(sT, o + 6 * VL);
            c7.intoArray(sT, o + 7 * VL);
            c8.intoArray(sT, o + 8 * VL);
            c9.intoArray(sT, o + 9 * VL);
            c10.intoArray(sT, o + 10 * VL);
            c11.intoArray(sT, o + 11 * VL);
            c12.intoArray(sT, o + 12 * VL);
            c13.intoArray(sT, o + 13 * VL);
            c14.intoArray(sT, o + 14 * VL);
            c15.intoArray(sT, o + 15 * VL);
        }
    }

    /** e^x is below float's smallest normal from here down; x is clamped to it (a weight of 1e-38 against the max's 1). */
    private static final float EXP_MIN = -87.3f;

    /**
     * Softmax down the columns of {@code sT[0, nk)[VL]}: each lane's keys less the lane's max, exponentiated in place;
     * {@code inv[r] = 1 / sum}. e^x is written out here (as in {@link VecMath#exp}, whose comments explain the steps;
     * x <= 0, clamped at {@link #EXP_MIN}); the Vector API's {@code EXP} goes through a library call, and
     * {@code VecMath.exp} itself, with its wider range, made this attention 5-15% slower.
     */
    static void softmaxT(float[] sT, int nk, float[] inv) {
        FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < nk; j++) max = max.max(FloatVector.fromArray(S, sT, j * VL));
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < nk; j++) {
            FloatVector x = FloatVector.fromArray(S, sT, j * VL).sub(max);
            FloatVector xc = x.max(FloatVector.broadcast(S, EXP_MIN));
            FloatVector t = xc.fma(FloatVector.broadcast(S, VecMath.LOG2E), FloatVector.broadcast(S, VecMath.ROUNDER));
            FloatVector n = t.sub(FloatVector.broadcast(S, VecMath.ROUNDER));
            FloatVector f = n.fma(FloatVector.broadcast(S, -VecMath.LN2_HI), xc);
            f = n.fma(FloatVector.broadcast(S, -VecMath.LN2_LO), f);
            FloatVector p = f.fma(FloatVector.broadcast(S, VecMath.E7), FloatVector.broadcast(S, VecMath.E6));
            p = p.fma(f, FloatVector.broadcast(S, VecMath.E5));
            p = p.fma(f, FloatVector.broadcast(S, VecMath.E4));
            p = p.fma(f, FloatVector.broadcast(S, VecMath.E3));
            p = p.fma(f, FloatVector.broadcast(S, VecMath.E2));
            p = p.fma(f, FloatVector.broadcast(S, 1f));
            p = p.fma(f, FloatVector.broadcast(S, 1f));
            FloatVector scale = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23)
                    .add(IntVector.broadcast(IS, 127 << 23)).reinterpretAsFloats();
            FloatVector e = p.mul(scale);
            sum = sum.add(e);
            e.intoArray(sT, j * VL);
        }
        FloatVector.broadcast(S, 1f).div(sum).intoArray(inv, 0);
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
     * {@code acc[r][0, dimPad) = sum_{idx < nk} p[pOff + r * rowStride + idx * keyStride] * vs[idx]} for R rows
     * ({@code vs} rows are {@code dimPad} floats): row-major probabilities ({@code rowStride} = keys, {@code keyStride}
     * = 1) or key-major ones (1 and the rows per key).
     */
    static void weightedValues(float[] vs, float[] p, int pOff, int rowStride, int keyStride, float[] acc, int nk, int dimPad) {
        int d = 0;
        for (; d + 2 * VL <= dimPad; d += 2 * VL) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S), c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int idx = 0; idx < nk; idx++) {
                int o = idx * dimPad + d, po = pOff + idx * keyStride;
                FloatVector v0 = FloatVector.fromArray(S, vs, o), v1 = FloatVector.fromArray(S, vs, o + VL);
                FloatVector x0 = FloatVector.broadcast(S, p[po]);
                c00 = v0.fma(x0, c00);
                c01 = v1.fma(x0, c01);
                FloatVector x1 = FloatVector.broadcast(S, p[po + 1 * rowStride]);
                c10 = v0.fma(x1, c10);
                c11 = v1.fma(x1, c11);
                FloatVector x2 = FloatVector.broadcast(S, p[po + 2 * rowStride]);
                c20 = v0.fma(x2, c20);
                c21 = v1.fma(x2, c21);
                FloatVector x3 = FloatVector.broadcast(S, p[po + 3 * rowStride]);
                c30 = v0.fma(x3, c30);
                c31 = v1.fma(x3, c31);
                FloatVector x4 = FloatVector.broadcast(S, p[po + 4 * rowStride]);
                c40 = v0.fma(x4, c40);
                c41 = v1.fma(x4, c41);
                FloatVector x5 = FloatVector.broadcast(S, p[po + 5 * rowStride]);
                c50 = v0.fma(x5, c50);
                c51 = v1.fma(x5, c51);
                FloatVector x6 = FloatVector.broadcast(S, p[po + 6 * rowStride]);
                c60 = v0.fma(x6, c60);
                c61 = v1.fma(x6, c61);
                FloatVector x7 = FloatVector.broadcast(S, p[po + 7 * rowStride]);
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
                int po = pOff + idx * keyStride;
                FloatVector v0 = FloatVector.fromArray(S, vs, idx * dimPad + d);
                c00 = v0.fma(FloatVector.broadcast(S, p[po]), c00);
                c10 = v0.fma(FloatVector.broadcast(S, p[po + 1 * rowStride]), c10);
                c20 = v0.fma(FloatVector.broadcast(S, p[po + 2 * rowStride]), c20);
                c30 = v0.fma(FloatVector.broadcast(S, p[po + 3 * rowStride]), c30);
                c40 = v0.fma(FloatVector.broadcast(S, p[po + 4 * rowStride]), c40);
                c50 = v0.fma(FloatVector.broadcast(S, p[po + 5 * rowStride]), c50);
                c60 = v0.fma(FloatVector.broadcast(S, p[po + 6 * rowStride]), c60);
                c70 = v0.fma(FloatVector.broadcast(S, p[po + 7 * rowStride]), c70);
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
