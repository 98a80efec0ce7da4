package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Multi-head attention for long sequences, tiled with an online softmax (the flash-attention scheme): no buffer holds
 * the scores of a whole sequence, so memory does not grow with the square of its length. The semantics are those of
 * {@link dev.univar.tensor.Backend#attention}: scores scaled by {@code 1/sqrt(headDim)}, padded keys
 * ({@code mask[b, j] == 0}) get no weight, a sequence without real keys gives output 0; padded query rows are computed
 * like any other (they attend to the real keys, so they are finite; pooling masks them).
 *
 * <p>Forward: work is split into (batch, head, tile of {@link #QUERY_TILE} queries) tasks over the threads. A task
 * walks the keys in tiles of {@link #KEY_TILE} positions, packing the tile's real keys (K and V rows), and for each
 * group of VL queries (one query per vector lane, as in {@link Attention}) computes the tile's scores
 * ({@link Attention#scoresT}), updates the running max {@code m} and denominator {@code l} lane by lane, rescales the
 * output accumulators by {@code e^(m_old - m_new)} and adds {@code P · V} ({@link #accumulate}). At the end
 * {@code out = acc / l}, and the only statistic saved for the backward is {@code lse = m + ln l} per query row, in
 * units of the scaled scores ({@code −∞} for a sequence without real keys).
 *
 * <p>Backward ({@code P = e^(S − lse)} recomputed tile by tile, {@code D_i = dO_i · O_i},
 * {@code dS = P (dP − D) / sqrt(headDim)} with {@code dP = dO · Vᵀ}), in two passes so that no two threads write the
 * same gradient rows and the result does not depend on the thread count:
 * <ol>
 *   <li>(batch, head, key tile) tasks: {@code dK = dSᵀ · Q} and {@code dV = Pᵀ · dO} for the tile's keys, over all
 *       queries VL at a time;</li>
 *   <li>(batch, head, query tile) tasks: {@code dQ = dS · K} over all key tiles.</li>
 * </ol>
 * Scores and dP are recomputed in both, seven tile products instead of five, in exchange for neither atomics nor
 * per-thread copies of dQ.
 *
 * <p>Scratch: per thread, buffers of a few tiles ({@link #forwardScratchBytes}, {@link #trainingScratchBytes}),
 * independent of the sequence length, kept between calls. Thread-safe: the public methods are synchronized.
 */
final class FlashAttention {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Rows per call of {@link #accumulate}. */
    private static final int R = Attention.R;
    /** Keys per step of {@link Attention#scoresT}. */
    private static final int J = Attention.J;
    /** Key positions per tile: a multiple of {@link #J} (and so of {@link #R}); K and V of a tile stay in L2. */
    static final int KEY_TILE = 128;
    /** Groups of VL queries per forward task: about 64 queries, so that a packed key tile serves several groups. */
    static final int GROUPS = Math.max(1, 64 / VL);
    /** Query rows per forward (and dQ) task. */
    static final int QUERY_TILE = GROUPS * VL;
    /**
     * Rows of a group's accumulators: VL, or R where a vector is narrower than R, since {@link #accumulate} always
     * writes R rows (those past VL are never read).
     */
    private static final int GROUP_ROWS = Math.max(VL, R);
    /** Multiply-adds below which one thread does the whole call. */
    private static final long PARALLEL_MIN_MACS = 1 << 21;
    /** e^x is below float's smallest normal from here down; x is clamped to it, as in {@link Attention#softmaxT}. */
    private static final float EXP_MIN = -87.3f;

    private final ThreadPool pool;
    private final Scratch[] scratch;

    /** Per-thread buffers, grown to the largest head dimension seen; none depends on the sequence length. */
    private static final class Scratch {
        int[] keys = new int[0];
        /** K rows {@code [KEY_TILE][headDim]} for the scores; V rows likewise for dP (backward). */
        float[] keyRows = new float[0], valueRows = new float[0];
        /** Rows padded to whole vectors {@code [KEY_TILE][dimPad]}: V in the forward, K in the dQ pass. */
        float[] padded = new float[0];
        /** Per group, queries (scaled) and output gradients transposed, {@code [headDim][VL]}. */
        float[][] queryT = new float[GROUPS][0], gradT = new float[GROUPS][0];
        /** Key-major tile scores {@code [KEY_TILE][VL]} (+ R: {@link #accumulate} reads R lanes), and dP / dS. */
        float[] scores = new float[0], dScores = new float[0];
        /** Output (or dQ) accumulators, {@code [GROUPS][GROUP_ROWS][dimPad]}. */
        float[] acc = new float[0];
        /** Forward: running max and denominator per query lane; backward: lse and D per query lane. */
        float[] laneA = new float[0], laneB = new float[0];
        /** Per-row rescaling factors of one group. */
        float[] corr = new float[0];
        /** Row loads, {@code [VL][headDim]}. */
        float[] row = new float[0];
        /** Backward: dK and dV of a key tile {@code [KEY_TILE][dimPad]}; one query group's Q and dO rows {@code [GROUP_ROWS][dimPad]}. */
        float[] dKeys = new float[0], dValues = new float[0], queryRows = new float[0], gradRows = new float[0];

        void ensureForward(int headDim) {
            int dimPad = Attention.roundUp(headDim, VL);
            if (keys.length < KEY_TILE) keys = new int[KEY_TILE];
            keyRows = grow(keyRows, KEY_TILE * headDim);
            padded = grow(padded, KEY_TILE * dimPad);
            for (int g = 0; g < GROUPS; g++) queryT[g] = grow(queryT[g], headDim * VL);
            scores = grow(scores, KEY_TILE * VL + R);
            acc = grow(acc, GROUPS * GROUP_ROWS * dimPad);
            laneA = grow(laneA, GROUPS * VL);
            laneB = grow(laneB, GROUPS * VL);
            corr = grow(corr, GROUP_ROWS);
            row = grow(row, VL * headDim);
        }

        void ensureBackward(int headDim) {
            ensureForward(headDim);
            int dimPad = Attention.roundUp(headDim, VL);
            valueRows = grow(valueRows, KEY_TILE * headDim);
            for (int g = 0; g < GROUPS; g++) gradT[g] = grow(gradT[g], headDim * VL);
            dScores = grow(dScores, KEY_TILE * VL + R);
            dKeys = grow(dKeys, KEY_TILE * dimPad);
            dValues = grow(dValues, KEY_TILE * dimPad);
            queryRows = grow(queryRows, GROUP_ROWS * dimPad);
            gradRows = grow(gradRows, GROUP_ROWS * dimPad);
        }

        long bytes() {
            long floats = keyRows.length + valueRows.length + padded.length + scores.length + dScores.length + acc.length
                    + laneA.length + laneB.length + corr.length + row.length + dKeys.length + dValues.length
                    + queryRows.length + gradRows.length;
            for (int g = 0; g < GROUPS; g++) floats += queryT[g].length + gradT[g].length;
            return floats * Float.BYTES + (long) keys.length * Integer.BYTES;
        }

        private static float[] grow(float[] a, int n) {
            return a.length >= n ? a : new float[n];
        }
    }

    FlashAttention(ThreadPool pool) {
        this.pool = pool;
        scratch = new Scratch[pool.threads()];
        for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
    }

    /**
     * Bytes of scratch one thread holds after forward calls with head dimensions up to {@code headDim}, whatever the
     * sequence length: a key tile of K and V rows, a query tile's transposed queries and accumulators, one group's
     * scores, the lane statistics and the key indices of a tile.
     */
    static long forwardScratchBytes(int headDim) {
        long dimPad = Attention.roundUp(headDim, VL);
        long floats = (long) KEY_TILE * headDim + KEY_TILE * dimPad + (long) GROUPS * headDim * VL + (KEY_TILE * VL + R)
                + GROUPS * GROUP_ROWS * dimPad + 2L * GROUPS * VL + GROUP_ROWS + (long) VL * headDim;
        return floats * Float.BYTES + (long) KEY_TILE * Integer.BYTES;
    }

    /** {@link #forwardScratchBytes} plus what the backward adds: V rows, transposed dO, dS, dK/dV tiles, Q and dO rows. */
    static long trainingScratchBytes(int headDim) {
        long dimPad = Attention.roundUp(headDim, VL);
        long floats = (long) KEY_TILE * headDim + (long) GROUPS * headDim * VL + (KEY_TILE * VL + R)
                + 2L * KEY_TILE * dimPad + 2L * GROUP_ROWS * dimPad;
        return forwardScratchBytes(headDim) + floats * Float.BYTES;
    }

    /** Bytes of scratch all threads hold now. */
    synchronized long scratchBytes() {
        long n = 0;
        for (Scratch s : scratch) n += s.bytes();
        return n;
    }

    // ---- entry points

    /**
     * {@code out = softmax(q kᵀ / sqrt(headDim) + mask) v} per head; q, k, v, out {@code [batch * seq, heads * headDim]}
     * (head h in columns {@code [h * headDim, (h + 1) * headDim)}), {@code mask[batch, seq]} 1 for real tokens.
     * Writes {@code lse[(b * heads + h) * seq + i]} (the log of row i's softmax denominator, for {@link #backward})
     * unless {@code lse} is null.
     */
    synchronized void forward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, int batch, int seq,
                              int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attention(q, k, v, w, mask, out, lse, batch, seq, heads, headDim);
        forward(new Operands(q.data(), 0, k.data(), 0, v.data(), 0, w, batch, seq, heads, headDim), mask.data(),
                out.data(), lse == null ? null : lse.data());
    }

    /** {@link #forward} with q, k and v side by side in {@code qkv[batch * seq, 3 * heads * headDim]} (q, k, v). */
    synchronized void forward(Tensor qkv, Tensor mask, Tensor out, Tensor lse, int batch, int seq, int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attention(qkv, qkv, qkv, 3 * w, mask, out, lse, batch, seq, heads, headDim);
        MemorySegment d = qkv.data();
        forward(new Operands(d, 0, d, w, d, 2 * w, 3 * w, batch, seq, heads, headDim), mask.data(), out.data(),
                lse == null ? null : lse.data());
    }

    /**
     * Backward of {@link #forward}: given its inputs, its {@code out} and {@code lse}, and the gradient {@code dOut},
     * writes {@code dQ}, {@code dK}, {@code dV} (shaped like q, k, v). Padded keys get zero gradient, a sequence
     * without real keys zero gradient everywhere.
     */
    synchronized void backward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, Tensor dOut, Tensor dQ,
                               Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attentionBackward(q, k, v, w, mask, out, lse, dOut, dQ, dK, dV, batch, seq, heads, headDim);
        backward(new Operands(q.data(), 0, k.data(), 0, v.data(), 0, w, batch, seq, heads, headDim), mask.data(),
                out.data(), lse.data(), dOut.data(), dQ.data(), dK.data(), dV.data());
    }

    /** The fused backward: the gradients of q, k and v side by side in {@code dQkv}, laid out like {@code qkv}. */
    synchronized void backward(Tensor qkv, Tensor mask, Tensor out, Tensor lse, Tensor dOut, Tensor dQkv, int batch,
                               int seq, int heads, int headDim) {
        int w = heads * headDim;
        NomicChecks.attentionBackward(qkv, qkv, qkv, 3 * w, mask, out, lse, dOut, dQkv, dQkv, dQkv, batch, seq, heads, headDim);
        MemorySegment d = qkv.data(), g = dQkv.data();
        backward(new Operands(d, 0, d, w, d, 2 * w, 3 * w, batch, seq, heads, headDim), mask.data(), out.data(),
                lse.data(), dOut.data(), g, g, g);
    }

    /**
     * Where q, k and v (and their gradients, laid out alike) are: row t of head h starts at float
     * {@code t * ld + col + h * headDim}. out and dOut rows are {@code heads * headDim}.
     */
    private record Operands(MemorySegment q, int qCol, MemorySegment k, int kCol, MemorySegment v, int vCol, int ld,
                            int batch, int seq, int heads, int headDim) {
        long inRow() {
            return (long) ld * Float.BYTES;
        }

        long outRow() {
            return (long) heads * headDim * Float.BYTES;
        }

        long head(int h) {
            return (long) h * headDim * Float.BYTES;
        }

        long col(int c) {
            return (long) c * Float.BYTES;
        }
    }

    @FunctionalInterface
    private interface Task {
        void run(int b, int h, int tile, Scratch s);
    }

    /** {@code task} for every (batch, head, tile), spread over the threads unless the call is small. */
    private void forEachTile(Operands o, int tiles, boolean backward, long macs, Task task) {
        int perSeq = o.heads * tiles, count = o.batch * perSeq;
        if (count == 0) return;
        int parts = macs < PARALLEL_MIN_MACS ? 1 : Math.min(pool.threads(), count);
        AtomicInteger next = new AtomicInteger();
        pool.run(parts, part -> {
            Scratch s = scratch[part];
            if (backward) s.ensureBackward(o.headDim);
            else s.ensureForward(o.headDim);
            for (int t = next.getAndIncrement(); t < count; t = next.getAndIncrement())
                task.run(t / perSeq, t % perSeq / tiles, t % tiles, s);
        });
    }

    private void forward(Operands o, MemorySegment mask, MemorySegment out, MemorySegment lse) {
        long macs = 2L * o.batch * o.heads * o.seq * o.seq * o.headDim;
        forEachTile(o, ceilDiv(o.seq, QUERY_TILE), false, macs, (b, h, t, s) -> forwardTile(o, mask, out, lse, b, h, t, s));
    }

    private void backward(Operands o, MemorySegment mask, MemorySegment out, MemorySegment lse, MemorySegment dOut,
                          MemorySegment dQ, MemorySegment dK, MemorySegment dV) {
        long macs = 4L * o.batch * o.heads * o.seq * o.seq * o.headDim;
        forEachTile(o, ceilDiv(o.seq, KEY_TILE), true, macs, (b, h, t, s) -> keyTileGradients(o, mask, out, lse, dOut, dK, dV, b, h, t, s));
        forEachTile(o, ceilDiv(o.seq, QUERY_TILE), true, macs * 3 / 4, (b, h, t, s) -> queryTileGradients(o, mask, out, lse, dOut, dQ, b, h, t, s));
    }

    // ---- forward

    private static void forwardTile(Operands o, MemorySegment mask, MemorySegment out, MemorySegment lse, int b, int h,
                                    int tile, Scratch s) {
        int seq = o.seq, headDim = o.headDim, dimPad = Attention.roundUp(headDim, VL);
        long inRow = o.inRow(), head = o.head(h), seqBase = (long) b * seq;
        long qOff = head + o.col(o.qCol), kOff = head + o.col(o.kCol), vOff = head + o.col(o.vCol);
        int i0 = tile * QUERY_TILE, rows = Math.min(QUERY_TILE, seq - i0), groups = ceilDiv(rows, VL);
        float scale = (float) (1 / Math.sqrt(headDim));
        for (int g = 0; g < groups; g++)
            loadGroup(o.q, qOff, inRow, seqBase + i0 + g * VL, Math.min(VL, rows - g * VL), headDim, scale, s.row,
                    s.queryT[g], null, dimPad);
        float[] m = s.laneA, l = s.laneB, acc = s.acc, kr = s.keyRows, vs = s.padded, sT = s.scores;
        Arrays.fill(m, 0, groups * VL, Float.NEGATIVE_INFINITY);
        Arrays.fill(l, 0, groups * VL, 0f);
        Arrays.fill(acc, 0, groups * GROUP_ROWS * dimPad, 0f);
        int whole = headDim / VL * VL;
        for (int j0 = 0; j0 < seq; j0 += KEY_TILE) {
            int count = realKeys(mask, seqBase, j0, Math.min(seq, j0 + KEY_TILE), s.keys);
            if (count == 0) continue;
            int keysJ = Attention.roundUp(count, J);
            for (int idx = 0; idx < count; idx++) {
                long at = (seqBase + s.keys[idx]) * inRow;
                rowToArray(o.k, at + kOff, kr, idx * headDim, headDim, whole);
                rowToArray(o.v, at + vOff, vs, idx * dimPad, headDim, whole);
                Arrays.fill(vs, idx * dimPad + headDim, (idx + 1) * dimPad, 0f);
            }
            Arrays.fill(kr, count * headDim, keysJ * headDim, 0f);
            for (int g = 0; g < groups; g++) {
                Attention.scoresT(kr, s.queryT[g], sT, headDim, keysJ);
                onlineSoftmax(sT, count, m, l, g * VL, s.corr);
                for (int r0 = 0; r0 < VL; r0 += R)
                    accumulate(vs, sT, r0, 1, VL, acc, (g * GROUP_ROWS + r0) * dimPad, s.corr, r0, count, dimPad);
            }
        }
        long outRow = o.outRow();
        for (int g = 0; g < groups; g++) {
            for (int r = 0, n = Math.min(VL, rows - g * VL); r < n; r++) {
                int i = i0 + g * VL + r;
                float li = l[g * VL + r];
                // l = 0: no real key in the sequence; its output is 0, as Backend.attention's.
                float inv = li > 0 ? 1 / li : 0f;
                rowFromArray(acc, (g * GROUP_ROWS + r) * dimPad, inv, out, (seqBase + i) * outRow + head, headDim, whole);
                if (lse != null) {
                    float v = li > 0 ? m[g * VL + r] + (float) Math.log(li) : Float.NEGATIVE_INFINITY;
                    lse.setAtIndex(ValueLayout.JAVA_FLOAT, ((long) b * o.heads + h) * seq + i, v);
                }
            }
        }
    }

    /**
     * One key tile's step of the online softmax for the VL query lanes at {@code lanes} of {@code m} and {@code l}:
     * the lane-wise max of the tile's scores {@code sT[0, count)[VL]} joins m; the scores become {@code e^(s − m)}
     * in place; {@code corr} gets {@code e^(m_old − m_new)}, by which l (here) and the output accumulators (the
     * caller) are rescaled before the tile's sums are added. A first tile has m_old = −∞ and corr ≈ 0 (clamped), on
     * zero accumulators.
     */
    private static void onlineSoftmax(float[] sT, int count, float[] m, float[] l, int lanes, float[] corr) {
        FloatVector mOld = FloatVector.fromArray(S, m, lanes), mx = mOld;
        for (int j = 0; j < count; j++) mx = mx.max(FloatVector.fromArray(S, sT, j * VL));
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < count; j++) {
            FloatVector e = exp(FloatVector.fromArray(S, sT, j * VL).sub(mx));
            sum = sum.add(e);
            e.intoArray(sT, j * VL);
        }
        FloatVector c = exp(mOld.sub(mx));
        c.intoArray(corr, 0);
        FloatVector.fromArray(S, l, lanes).fma(c, sum).intoArray(l, lanes);
        mx.intoArray(m, lanes);
    }

    // ---- backward

    /** Pass 1: dK and dV of the real keys among positions {@code [tile * KEY_TILE, +KEY_TILE)}, zero for padded ones. */
    private static void keyTileGradients(Operands o, MemorySegment mask, MemorySegment out, MemorySegment lse,
                                         MemorySegment dOut, MemorySegment dK, MemorySegment dV, int b, int h, int tile,
                                         Scratch s) {
        int seq = o.seq, headDim = o.headDim, dimPad = Attention.roundUp(headDim, VL), whole = headDim / VL * VL;
        long inRow = o.inRow(), outRow = o.outRow(), head = o.head(h), seqBase = (long) b * seq;
        long qOff = head + o.col(o.qCol), kOff = head + o.col(o.kCol), vOff = head + o.col(o.vCol);
        long headBytes = (long) headDim * Float.BYTES;
        int j0 = tile * KEY_TILE, j1 = Math.min(seq, j0 + KEY_TILE);
        for (int j = j0; j < j1; j++) {
            if (mask.getAtIndex(ValueLayout.JAVA_FLOAT, seqBase + j) != 0) continue;
            dK.asSlice((seqBase + j) * inRow + kOff, headBytes).fill((byte) 0);
            dV.asSlice((seqBase + j) * inRow + vOff, headBytes).fill((byte) 0);
        }
        int count = realKeys(mask, seqBase, j0, j1, s.keys);
        if (count == 0) return;
        int keysJ = Attention.roundUp(count, J), keysR = Attention.roundUp(count, R);
        float[] kr = s.keyRows, vr = s.valueRows, sT = s.scores, dsT = s.dScores, dk = s.dKeys, dv = s.dValues;
        for (int idx = 0; idx < count; idx++) {
            long at = (seqBase + s.keys[idx]) * inRow;
            rowToArray(o.k, at + kOff, kr, idx * headDim, headDim, whole);
            rowToArray(o.v, at + vOff, vr, idx * headDim, headDim, whole);
        }
        Arrays.fill(kr, count * headDim, keysJ * headDim, 0f);
        Arrays.fill(vr, count * headDim, keysJ * headDim, 0f);
        Arrays.fill(dk, 0, keysR * dimPad, 0f);
        Arrays.fill(dv, 0, keysR * dimPad, 0f);
        float scale = (float) (1 / Math.sqrt(headDim));
        long statBase = ((long) b * o.heads + h) * seq;
        for (int i0 = 0; i0 < seq; i0 += VL) {
            int rows = Math.min(VL, seq - i0);
            loadGroup(o.q, qOff, inRow, seqBase + i0, rows, headDim, scale, s.row, s.queryT[0], s.queryRows, dimPad);
            loadGroup(dOut, head, outRow, seqBase + i0, rows, headDim, 1f, s.row, s.gradT[0], s.gradRows, dimPad);
            laneStatistics(lse, statBase + i0, out, head, outRow, seqBase + i0, rows, headDim, s.gradRows, dimPad,
                    s.laneA, s.laneB, 0);
            Attention.scoresT(kr, s.queryT[0], sT, headDim, keysJ);
            Attention.scoresT(vr, s.gradT[0], dsT, headDim, keysJ);
            probabilitiesAndGradients(sT, dsT, count, s.laneA, s.laneB, 0, scale);
            // Rows past count hold raw zero scores (zero keys): they add into rows of dk, dv that are never written out.
            for (int jr = 0; jr < count; jr += R) {
                accumulate(s.gradRows, sT, jr * VL, VL, 1, dv, jr * dimPad, null, 0, VL, dimPad);
                accumulate(s.queryRows, dsT, jr * VL, VL, 1, dk, jr * dimPad, null, 0, VL, dimPad);
            }
        }
        for (int idx = 0; idx < count; idx++) {
            long at = (seqBase + s.keys[idx]) * inRow;
            rowFromArray(dk, idx * dimPad, 1f, dK, at + kOff, headDim, whole);
            rowFromArray(dv, idx * dimPad, 1f, dV, at + vOff, headDim, whole);
        }
    }

    /** Pass 2: dQ of the query rows {@code [tile * QUERY_TILE, +QUERY_TILE)}, over all key tiles. */
    private static void queryTileGradients(Operands o, MemorySegment mask, MemorySegment out, MemorySegment lse,
                                           MemorySegment dOut, MemorySegment dQ, int b, int h, int tile, Scratch s) {
        int seq = o.seq, headDim = o.headDim, dimPad = Attention.roundUp(headDim, VL), whole = headDim / VL * VL;
        long inRow = o.inRow(), outRow = o.outRow(), head = o.head(h), seqBase = (long) b * seq;
        long qOff = head + o.col(o.qCol), kOff = head + o.col(o.kCol), vOff = head + o.col(o.vCol);
        int i0 = tile * QUERY_TILE, rows = Math.min(QUERY_TILE, seq - i0), groups = ceilDiv(rows, VL);
        float scale = (float) (1 / Math.sqrt(headDim));
        long statBase = ((long) b * o.heads + h) * seq;
        for (int g = 0; g < groups; g++) {
            int n = Math.min(VL, rows - g * VL);
            long first = seqBase + i0 + g * VL;
            loadGroup(o.q, qOff, inRow, first, n, headDim, scale, s.row, s.queryT[g], null, dimPad);
            loadGroup(dOut, head, outRow, first, n, headDim, 1f, s.row, s.gradT[g], s.gradRows, dimPad);
            laneStatistics(lse, statBase + i0 + g * VL, out, head, outRow, first, n, headDim, s.gradRows, dimPad,
                    s.laneA, s.laneB, g * VL);
        }
        float[] acc = s.acc, kr = s.keyRows, vr = s.valueRows, kp = s.padded, sT = s.scores, dsT = s.dScores;
        Arrays.fill(acc, 0, groups * GROUP_ROWS * dimPad, 0f);
        for (int j0 = 0; j0 < seq; j0 += KEY_TILE) {
            int count = realKeys(mask, seqBase, j0, Math.min(seq, j0 + KEY_TILE), s.keys);
            if (count == 0) continue;
            int keysJ = Attention.roundUp(count, J);
            for (int idx = 0; idx < count; idx++) {
                long at = (seqBase + s.keys[idx]) * inRow;
                rowToArray(o.k, at + kOff, kr, idx * headDim, headDim, whole);
                rowToArray(o.v, at + vOff, vr, idx * headDim, headDim, whole);
                System.arraycopy(kr, idx * headDim, kp, idx * dimPad, headDim);
                Arrays.fill(kp, idx * dimPad + headDim, (idx + 1) * dimPad, 0f);
            }
            Arrays.fill(kr, count * headDim, keysJ * headDim, 0f);
            Arrays.fill(vr, count * headDim, keysJ * headDim, 0f);
            for (int g = 0; g < groups; g++) {
                Attention.scoresT(kr, s.queryT[g], sT, headDim, keysJ);
                Attention.scoresT(vr, s.gradT[g], dsT, headDim, keysJ);
                probabilitiesAndGradients(sT, dsT, count, s.laneA, s.laneB, g * VL, scale);
                for (int r0 = 0; r0 < VL; r0 += R)
                    accumulate(kp, dsT, r0, 1, VL, acc, (g * GROUP_ROWS + r0) * dimPad, null, 0, count, dimPad);
            }
        }
        for (int g = 0; g < groups; g++)
            for (int r = 0, n = Math.min(VL, rows - g * VL); r < n; r++)
                rowFromArray(acc, (g * GROUP_ROWS + r) * dimPad, 1f, dQ, (seqBase + i0 + g * VL + r) * inRow + qOff,
                        headDim, whole);
    }

    /**
     * The backward's per-query statistics of one group into {@code lseOut[at, at + VL)} and {@code dOut[at, at + VL)}:
     * the saved lse and {@code D = dO · O} (in double), from the group's dO rows already in {@code gradRows}. Lanes
     * past {@code rows} get 0 and 0: with their zero queries and gradients that makes P = 1 and dS = 0 there, finite
     * and contributing nothing.
     */
    private static void laneStatistics(MemorySegment lse, long lseIndex, MemorySegment out, long head, long outRow,
                                       long firstRow, int rows, int headDim, float[] gradRows, int dimPad,
                                       float[] lseOut, float[] dOut, int at) {
        for (int r = 0; r < VL; r++) {
            if (r >= rows) {
                lseOut[at + r] = 0f;
                dOut[at + r] = 0f;
                continue;
            }
            lseOut[at + r] = lse.getAtIndex(ValueLayout.JAVA_FLOAT, lseIndex + r);
            long o = (firstRow + r) * outRow + head;
            double d = 0;
            for (int c = 0; c < headDim; c++)
                d += (double) gradRows[r * dimPad + c] * out.get(ValueLayout.JAVA_FLOAT, o + (long) c * Float.BYTES);
            dOut[at + r] = (float) d;
        }
    }

    /**
     * Lane-wise over keys {@code [0, count)}: the probabilities {@code P = e^(S − lse)} replace the scores in
     * {@code sT}, and {@code dS = P (dP − D) · scale} replaces dP in {@code dsT} (the scale makes dS the gradient
     * with respect to the unscaled product q · k).
     */
    private static void probabilitiesAndGradients(float[] sT, float[] dsT, int count, float[] lse, float[] d, int lanes,
                                                  float scale) {
        FloatVector lv = FloatVector.fromArray(S, lse, lanes), dv = FloatVector.fromArray(S, d, lanes);
        for (int j = 0; j < count; j++) {
            FloatVector p = exp(FloatVector.fromArray(S, sT, j * VL).sub(lv));
            p.intoArray(sT, j * VL);
            FloatVector.fromArray(S, dsT, j * VL).sub(dv).mul(p).mul(scale).intoArray(dsT, j * VL);
        }
    }

    // ---- helpers

    /** The real keys among positions {@code [from, to)} of sequence row {@code seqBase} into {@code keys}; their count. */
    private static int realKeys(MemorySegment mask, long seqBase, int from, int to, int[] keys) {
        int n = 0;
        for (int j = from; j < to; j++) if (mask.getAtIndex(ValueLayout.JAVA_FLOAT, seqBase + j) != 0) keys[n++] = j;
        return n;
    }

    /**
     * Rows {@code firstRow + [0, rows)} (byte offset {@code off} in rows {@code rowBytes} apart) of one head: times
     * {@code scale}, transposed into {@code transposed[headDim][VL]} (lanes past rows 0) and, unless null, as rows
     * into {@code asRows[GROUP_ROWS][dimPad]} (unscaled, zero-padded).
     */
    private static void loadGroup(MemorySegment src, long off, long rowBytes, long firstRow, int rows, int headDim,
                                  float scale, float[] tmp, float[] transposed, float[] asRows, int dimPad) {
        int whole = headDim / VL * VL;
        for (int r = 0; r < rows; r++) rowToArray(src, (firstRow + r) * rowBytes + off, tmp, r * headDim, headDim, whole);
        for (int r = 0; r < VL; r++) {
            if (r < rows) for (int d = 0; d < headDim; d++) transposed[d * VL + r] = tmp[r * headDim + d] * scale;
            else for (int d = 0; d < headDim; d++) transposed[d * VL + r] = 0f;
        }
        if (asRows == null) return;
        for (int r = 0; r < GROUP_ROWS; r++) {
            if (r < rows) {
                System.arraycopy(tmp, r * headDim, asRows, r * dimPad, headDim);
                Arrays.fill(asRows, r * dimPad + headDim, (r + 1) * dimPad, 0f);
            } else {
                Arrays.fill(asRows, r * dimPad, (r + 1) * dimPad, 0f);
            }
        }
    }

    /** {@code n} floats of {@code src} from byte offset {@code from} into {@code dst[at, at + n)}; {@code whole} = n rounded down to VL. */
    private static void rowToArray(MemorySegment src, long from, float[] dst, int at, int n, int whole) {
        for (int d = 0; d < whole; d += VL) FloatVector.fromMemorySegment(S, src, from + (long) d * Float.BYTES, ORDER).intoArray(dst, at + d);
        for (int d = whole; d < n; d++) dst[at + d] = src.get(ValueLayout.JAVA_FLOAT, from + (long) d * Float.BYTES);
    }

    /** {@code src[at, at + n) * factor} into {@code dst} from byte offset {@code to}. */
    private static void rowFromArray(float[] src, int at, float factor, MemorySegment dst, long to, int n, int whole) {
        for (int d = 0; d < whole; d += VL)
            FloatVector.fromArray(S, src, at + d).mul(factor).intoMemorySegment(dst, to + (long) d * Float.BYTES, ORDER);
        for (int d = whole; d < n; d++) dst.set(ValueLayout.JAVA_FLOAT, to + (long) d * Float.BYTES, src[at + d] * factor);
    }

    /**
     * e^x lane-wise, x clamped below at {@link #EXP_MIN} (there e^x is below float's smallest normal); above, exact to
     * a couple of ulps up to 88. The steps of {@link VecMath#exp} without its subnormal range, as
     * {@link Attention#softmaxT} writes them; small, so that C2 inlines it and no vector is boxed.
     */
    private static FloatVector exp(FloatVector x) {
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
        return p.mul(scale);
    }

    /**
     * For R rows r: {@code acc[accOff + r*dimPad + d] = acc[...] * rowScale[scaleOff + r]
     * + sum_{idx < n} p[pOff + r*rowStride + idx*keyStride] * vs[idx*dimPad + d]}, d in {@code [0, dimPad)} (a multiple
     * of VL); {@code rowScale} null scales by 1. {@link Attention#weightedValues} register-blocked the same way (R rows
     * by two vectors), but adding to the accumulators instead of overwriting them: the online softmax rescales and
     * adds per key tile, the backward sums over query groups.
     */
    static void accumulate(float[] vs, float[] p, int pOff, int rowStride, int keyStride, float[] acc, int accOff,
                           float[] rowScale, int scaleOff, int n, int dimPad) {
        float s0 = 1f, s1 = 1f, s2 = 1f, s3 = 1f, s4 = 1f, s5 = 1f, s6 = 1f, s7 = 1f;
        if (rowScale != null) {
            s0 = rowScale[scaleOff];
            s1 = rowScale[scaleOff + 1];
            s2 = rowScale[scaleOff + 2];
            s3 = rowScale[scaleOff + 3];
            s4 = rowScale[scaleOff + 4];
            s5 = rowScale[scaleOff + 5];
            s6 = rowScale[scaleOff + 6];
            s7 = rowScale[scaleOff + 7];
        }
        int a0 = accOff, a1 = a0 + dimPad, a2 = a1 + dimPad, a3 = a2 + dimPad, a4 = a3 + dimPad, a5 = a4 + dimPad,
                a6 = a5 + dimPad, a7 = a6 + dimPad;
        int d = 0;
        for (; d + 2 * VL <= dimPad; d += 2 * VL) {
            FloatVector c00 = FloatVector.fromArray(S, acc, a0 + d).mul(s0), c01 = FloatVector.fromArray(S, acc, a0 + d + VL).mul(s0);
            FloatVector c10 = FloatVector.fromArray(S, acc, a1 + d).mul(s1), c11 = FloatVector.fromArray(S, acc, a1 + d + VL).mul(s1);
            FloatVector c20 = FloatVector.fromArray(S, acc, a2 + d).mul(s2), c21 = FloatVector.fromArray(S, acc, a2 + d + VL).mul(s2);
            FloatVector c30 = FloatVector.fromArray(S, acc, a3 + d).mul(s3), c31 = FloatVector.fromArray(S, acc, a3 + d + VL).mul(s3);
            FloatVector c40 = FloatVector.fromArray(S, acc, a4 + d).mul(s4), c41 = FloatVector.fromArray(S, acc, a4 + d + VL).mul(s4);
            FloatVector c50 = FloatVector.fromArray(S, acc, a5 + d).mul(s5), c51 = FloatVector.fromArray(S, acc, a5 + d + VL).mul(s5);
            FloatVector c60 = FloatVector.fromArray(S, acc, a6 + d).mul(s6), c61 = FloatVector.fromArray(S, acc, a6 + d + VL).mul(s6);
            FloatVector c70 = FloatVector.fromArray(S, acc, a7 + d).mul(s7), c71 = FloatVector.fromArray(S, acc, a7 + d + VL).mul(s7);
            for (int idx = 0; idx < n; idx++) {
                int o = idx * dimPad + d, po = pOff + idx * keyStride;
                FloatVector v0 = FloatVector.fromArray(S, vs, o), v1 = FloatVector.fromArray(S, vs, o + VL);
                FloatVector x0 = FloatVector.broadcast(S, p[po]);
                c00 = v0.fma(x0, c00);
                c01 = v1.fma(x0, c01);
                FloatVector x1 = FloatVector.broadcast(S, p[po + rowStride]);
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
            c00.intoArray(acc, a0 + d);
            c01.intoArray(acc, a0 + d + VL);
            c10.intoArray(acc, a1 + d);
            c11.intoArray(acc, a1 + d + VL);
            c20.intoArray(acc, a2 + d);
            c21.intoArray(acc, a2 + d + VL);
            c30.intoArray(acc, a3 + d);
            c31.intoArray(acc, a3 + d + VL);
            c40.intoArray(acc, a4 + d);
            c41.intoArray(acc, a4 + d + VL);
            c50.intoArray(acc, a5 + d);
            c51.intoArray(acc, a5 + d + VL);
            c60.intoArray(acc, a6 + d);
            c61.intoArray(acc, a6 + d + VL);
            c70.intoArray(acc, a7 + d);
            c71.intoArray(acc, a7 + d + VL);
        }
        for (; d < dimPad; d += VL) {
            FloatVector c0 = FloatVector.fromArray(S, acc, a0 + d).mul(s0), c1 = FloatVector.fromArray(S, acc, a1 + d).mul(s1);
            FloatVector c2 = FloatVector.fromArray(S, acc, a2 + d).mul(s2), c3 = FloatVector.fromArray(S, acc, a3 + d).mul(s3);
            FloatVector c4 = FloatVector.fromArray(S, acc, a4 + d).mul(s4), c5 = FloatVector.fromArray(S, acc, a5 + d).mul(s5);
            FloatVector c6 = FloatVector.fromArray(S, acc, a6 + d).mul(s6), c7 = FloatVector.fromArray(S, acc, a7 + d).mul(s7);
            for (int idx = 0; idx < n; idx++) {
                int po = pOff + idx * keyStride;
                FloatVector v0 = FloatVector.fromArray(S, vs, idx * dimPad + d);
                c0 = v0.fma(FloatVector.broadcast(S, p[po]), c0);
                c1 = v0.fma(FloatVector.broadcast(S, p[po + rowStride]), c1);
                c2 = v0.fma(FloatVector.broadcast(S, p[po + 2 * rowStride]), c2);
                c3 = v0.fma(FloatVector.broadcast(S, p[po + 3 * rowStride]), c3);
                c4 = v0.fma(FloatVector.broadcast(S, p[po + 4 * rowStride]), c4);
                c5 = v0.fma(FloatVector.broadcast(S, p[po + 5 * rowStride]), c5);
                c6 = v0.fma(FloatVector.broadcast(S, p[po + 6 * rowStride]), c6);
                c7 = v0.fma(FloatVector.broadcast(S, p[po + 7 * rowStride]), c7);
            }
            c0.intoArray(acc, a0 + d);
            c1.intoArray(acc, a1 + d);
            c2.intoArray(acc, a2 + d);
            c3.intoArray(acc, a3 + d);
            c4.intoArray(acc, a4 + d);
            c5.intoArray(acc, a5 + d);
            c6.intoArray(acc, a6 + d);
            c7.intoArray(acc, a7 + d);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
