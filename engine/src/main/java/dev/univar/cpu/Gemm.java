package dev.univar.cpu;

import dev.univar.tensor.HugePages;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Single-precision matrix multiply {@code C[m,n] = (accumulate ? C : 0) + op(A) · op(B) (+ bias)}, optionally
 * followed by GELU, blocked the Goto/BLIS way.
 *
 * <ul>
 *   <li>B is packed, either once per call or once for many calls ({@link #pack}: the encoder's constant
 *       weights), into panels of {@link #NR} columns, {@code kc} rows at a time, zero-padded to a whole panel, so
 *       the micro-kernel never needs a column tail and every B load is one contiguous vector. The panels live
 *       off-heap, aligned to 64 bytes, so no 512-bit load straddles two cache lines (in a {@code float[]} their
 *       alignment was the heap's choice and varied from one JVM to the next). Both layouts of B (plain and
 *       transposed) end up identical.</li>
 *   <li>Each tile of C ({@link #MC} rows by a range of panels) packs its rows of A into a per-thread
 *       {@code float[]} of {@link #MR}-row micro-panels (kk-major), zero-padded to whole micro-panels: a bulk copy
 *       per row and a transposition by gathers for a plain A, a vector copy per step for a transposed one.</li>
 *   <li>The micro-kernel keeps an MR x NR block of C in 24 vector registers (of AVX-512's 32) and does one FMA per register
 *       per k step, over the packed arrays only (see {@link #kernel} for why it writes to a tile buffer).</li>
 * </ul>
 * Threads take tiles from a shared counter. k is split into blocks of at most {@link #KC_MAX}: an A block
 * ({@code MC x kc}, up to 384 KiB) and the B micro-panel in use ({@code kc x NR}, up to 144 KiB) stay in L2,
 * not L1. Long k blocks pay more than an L1-sized B micro-panel: with blocks of 256 (B in L1) the fixed costs
 * of each kernel call (the tile's stores, C's update, one more pass over C per block) and the packing of A kept
 * the products 10-15% below the kernel's own speed (bench/RESULTS.md, fourth session). C is stored on the
 * first k block (with the bias) and accumulated on the later ones; GELU, if asked, is applied to a tile's rows
 * right after its last k block, while they are still in cache.
 *
 * <p>Thread-safe: {@link #multiply} is synchronized (the per-thread scratch and the pool are shared), and a
 * {@link Packed} matrix is immutable once made, so any number of threads may use it.
 */
final class Gemm {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int MR = 8;
    static final int NR = 3 * VL;
    static final int NV = NR / VL;
    static final int KC_MAX = 768;
    static final int MC = 16 * MR;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The first MR lanes, for copying one micro-panel step when a vector holds at least MR floats. */
    private static final VectorMask<Float> MR_MASK = S.indexInRange(0, Math.min(MR, VL));
    /**
     * Fewest panels of B per tile when splitting columns between threads (each tile packs its A rows): 3 x 48
     * columns, so that a few rows times 384 columns (a short text's projections) still go to two threads as two
     * halves; 1 x 16 forward 2.1-2.5 -> 1.6-1.7 ms against 6 panels.
     */
    private static final int MIN_TILE_PANELS = 3;
    /** Below this many multiply-adds a second thread costs more than it saves. */
    private static final long PARALLEL_MIN_MACS = 1L << 18;

    private final ThreadPool pool;
    private final Scratch[] scratch;
    /** The per-call packed B (when B is not prepacked): off-heap, 64-byte aligned, grown on demand. */
    private MemorySegment packedB = MemorySegment.NULL;
    private float[] paddedBias = new float[0];

    /** Per-thread buffers, grown on demand and kept: a matmul call allocates nothing once warm. */
    private static final class Scratch {
        final float[] packedA = new float[MC * KC_MAX];
        /** One row of a transposed B's k block, for packB. */
        final float[] row = new float[KC_MAX];
        /** A micro-panel's rows of A, row-major, for packA's transposition, and its gather indices. */
        final float[] rows = new float[MR * KC_MAX];
        final int[] map = new int[VL];
        /**
         * The micro-kernel's output, off-heap and 64-byte aligned: in a {@code float[]} its alignment was the heap's
         * choice, and when the kernel's 64-byte stores straddled cache lines the update's loads of them could not be
         * forwarded from the stores (some JVMs ran the whole GEMM 25% slower).
         */
        final MemorySegment tile = Arena.ofAuto().allocate((long) MR * NR * Float.BYTES, 64);
    }

    Gemm(ThreadPool pool) {
        this.pool = pool;
        scratch = new Scratch[pool.threads()];
        for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
    }

    /** op(B) packed for {@link #multiplyPacked}: immutable, shareable between threads and calls. */
    static final class Packed implements dev.univar.tensor.PackedMatrix {
        final MemorySegment data;
        final int n, k, kcNominal, nPad;
        final Gemm owner;
        /** Owns {@link #data}; closing the matrix frees it. */
        private final Arena arena;

        Packed(Gemm owner, Arena arena, MemorySegment data, int n, int k, int kcNominal, int nPad) {
            this.owner = owner;
            this.arena = arena;
            this.data = data;
            this.n = n;
            this.k = k;
            this.kcNominal = kcNominal;
            this.nPad = nPad;
        }

        @Override
        public int n() {
            return n;
        }

        @Override
        public int k() {
            return k;
        }

        @Override
        public void close() {
            if (arena.scope().isAlive()) arena.close();
        }
    }

    /** Equal k blocks of at most KC_MAX rather than full ones plus a sliver. */
    static int kcNominal(int k) {
        int kBlocks = (k + KC_MAX - 1) / KC_MAX;
        return Math.max(1, (k + kBlocks - 1) / Math.max(1, kBlocks));
    }

    /** Packs op(B) once for many {@link #multiplyPacked} calls (split over the pool). */
    synchronized Packed pack(MemorySegment b, boolean transB, int n, int k) {
        int panels = (n + NR - 1) / NR, nPad = panels * NR, kc = kcNominal(k);
        Arena arena = Arena.ofShared(); // read by the pool's threads; freed by Packed.close()
        MemorySegment pb = HugePages.allocate(arena, Math.max(1, Math.multiplyExact((long) k, nPad)) * Float.BYTES, 64);
        int parts = Math.min(pool.threads(), Math.max(1, panels));
        if (k > 0) pool.run(parts, part -> {
            for (int p = part; p < panels; p += parts) packB(b, transB, n, k, kc, nPad, p, pb, scratch[part].row);
        });
        return new Packed(this, arena, pb, n, k, kc, nPad);
    }

    /** {@link #multiply} with B packed by {@link #pack}. */
    synchronized void multiplyPacked(MemorySegment a, Packed b, MemorySegment bias, MemorySegment c, int m, boolean gelu) {
        run(a, false, null, false, b.data, b.kcNominal, bias, c, m, b.n, b.k, false, gelu);
    }

    /** All arguments are checked by the caller; segments hold at least the operand sizes. */
    synchronized void multiply(MemorySegment a, MemorySegment b, boolean transB, MemorySegment bias,
                               MemorySegment c, int m, int n, int k) {
        run(a, false, b, transB, null, kcNominal(k), bias, c, m, n, k, false, false);
    }

    /** The general form: transposed A, accumulation into C. */
    synchronized void multiply(MemorySegment a, boolean transA, MemorySegment b, boolean transB, MemorySegment bias,
                               boolean accumulate, MemorySegment c, int m, int n, int k) {
        run(a, transA, b, transB, null, kcNominal(k), bias, c, m, n, k, accumulate, false);
    }

    /** B is {@code b} (packed here, into the reused buffer) unless {@code prepacked} is given. */
    private void run(MemorySegment a, boolean transA, MemorySegment b, boolean transB, MemorySegment prepacked,
                     int kcNominal, MemorySegment bias, MemorySegment c, int m, int n, int k,
                     boolean accumulate, boolean gelu) {
        if (m == 0 || n == 0) return;
        int panels = (n + NR - 1) / NR;
        int nPad = panels * NR;
        if (paddedBias.length < nPad) paddedBias = new float[nPad];
        Arrays.fill(paddedBias, 0f);
        if (bias != null) MemorySegment.copy(bias, ValueLayout.JAVA_FLOAT, 0, paddedBias, 0, n);
        long macs = (long) m * n * k;
        int parts = macs < PARALLEL_MIN_MACS ? 1 : pool.threads();
        float[] bv = paddedBias;
        if (k == 0) { // no products: C is just the bias (plus C), then the activation
            for (int i = 0; i < m; i++) {
                long row = (long) i * n;
                for (int j = 0; j < n; j++) {
                    float base = accumulate ? c.getAtIndex(ValueLayout.JAVA_FLOAT, row + j) : 0f;
                    c.setAtIndex(ValueLayout.JAVA_FLOAT, row + j, base + bv[j]);
                }
                if (gelu) VecMath.gelu(c, c, row, row + n);
            }
            return;
        }

        MemorySegment pb;
        if (prepacked != null) {
            pb = prepacked;
        } else {
            long packedSize = Math.multiplyExact((long) k, nPad);
            if (packedB.byteSize() < packedSize * Float.BYTES) // 64-byte aligned, like packed matrices; freed by the GC
                packedB = HugePages.allocate(Arena.ofAuto(), Math.max(1, packedSize) * Float.BYTES, 64);
            pb = packedB;
            // Pack B, panels split across threads.
            int bParts = Math.min(parts, panels);
            pool.run(bParts, part -> {
                for (int p = part; p < panels; p += bParts) packB(b, transB, n, k, kcNominal, nPad, p, pb, scratch[part].row);
            });
        }

        // Tiles: MC rows x a range of panels. Split the columns too when there are few row blocks, so that
        // every thread gets several tiles and the last one to finish does not leave the others idle for long;
        // but keep at least MIN_TILE_PANELS panels per tile, as each tile packs its rows of A again. When there
        // are fewer tiles than a few per thread, make their count a multiple of the threads (equal shares).
        int mBlocks = (m + MC - 1) / MC;
        int nSplit = 1;
        while (mBlocks * nSplit < 6 * parts && panels / (nSplit + 1) >= MIN_TILE_PANELS) nSplit++;
        if (mBlocks * nSplit < 4 * parts) while (nSplit > 1 && (mBlocks * nSplit) % parts != 0) nSplit--;
        int panelsPerTile = (panels + nSplit - 1) / nSplit;
        int nTiles = (panels + panelsPerTile - 1) / panelsPerTile;
        int tiles = mBlocks * nTiles;
        AtomicInteger next = new AtomicInteger();
        pool.run(Math.min(parts, tiles), part -> {
            Scratch s = scratch[part];
            for (int t = next.getAndIncrement(); t < tiles; t = next.getAndIncrement()) {
                int i0 = (t / nTiles) * MC;
                int p0 = (t % nTiles) * panelsPerTile;
                tile(a, transA, c, m, n, k, kcNominal, nPad, pb, bv, i0, Math.min(MC, m - i0),
                        p0, Math.min(panels, p0 + panelsPerTile), accumulate, gelu, s);
            }
        });
    }

    /** Packs panel p of op(B) (columns [p*NR, p*NR + NR)) for every k block into {@code pb}. */
    private static void packB(MemorySegment b, boolean transB, int n, int k, int kcNominal, int nPad, int p,
                              MemorySegment pb, float[] row) {
        int j0 = p * NR;
        int width = Math.min(NR, n - j0);
        for (int k0 = 0; k0 < k; k0 += kcNominal) {
            int kc = Math.min(kcNominal, k - k0);
            int base = k0 * nPad + p * kc * NR;
            if (!transB) {
                // Row kk of B, columns [j0, j0 + width): NV vector copies, masked at the right edge.
                for (int kk = 0; kk < kc; kk++) {
                    long off = ((long) (k0 + kk) * n + j0) * Float.BYTES;
                    int dst = base + kk * NR;
                    for (int v = 0; v < NV; v++) {
                        VectorMask<Float> mv = S.indexInRange(v * VL, width);
                        FloatVector.fromMemorySegment(S, b, off + (long) v * VL * Float.BYTES, ORDER, mv)
                                .intoMemorySegment(pb, (long) (dst + v * VL) * Float.BYTES, ORDER);
                    }
                }
            } else {
                // Column j of op(B) is row j of B: copy kc contiguous floats, scatter them with stride NR.
                for (int jj = 0; jj < NR; jj++) {
                    if (jj < width) {
                        MemorySegment.copy(b, ValueLayout.JAVA_FLOAT, ((long) (j0 + jj) * k + k0) * Float.BYTES, row, 0, kc);
                        for (int kk = 0; kk < kc; kk++) pb.setAtIndex(ValueLayout.JAVA_FLOAT, base + kk * NR + jj, row[kk]);
                    } else {
                        for (int kk = 0; kk < kc; kk++) pb.setAtIndex(ValueLayout.JAVA_FLOAT, base + kk * NR + jj, 0f);
                    }
                }
            }
        }
    }

    /**
     * Packs rows [i0, i0 + mc) x columns [k0, k0 + kc) of op(A) into MR-row micro-panels, zero rows past m.
     * With {@code transA}, A is stored {@code [k, m]} and op(A) row i is its column i.
     */
    private static void packA(MemorySegment a, boolean transA, int m, int k, int i0, int mc, int k0, int kc,
                              float[] pa, float[] rows, int[] map) {
        int panels = (mc + MR - 1) / MR;
        if (transA) {
            // Row kk of stored A holds op(A)[i0 .. i0 + mc, kk] contiguously, so each micro-panel's MR values of
            // step kk are MR consecutive floats: one (masked) vector copy per panel and step, no transpose.
            int fullPanels = mc / MR;
            for (int kk = 0; kk < kc; kk++) {
                long rowOff = ((long) (k0 + kk) * m + i0) * Float.BYTES;
                for (int ip = 0; ip < fullPanels; ip++) {
                    int dst = ip * kc * MR + kk * MR;
                    long src = rowOff + (long) ip * MR * Float.BYTES;
                    if (VL >= MR) {
                        FloatVector.fromMemorySegment(S, a, src, ORDER, MR_MASK).intoArray(pa, dst, MR_MASK);
                    } else {
                        for (int ii = 0; ii < MR; ii += VL)
                            FloatVector.fromMemorySegment(S, a, src + (long) ii * Float.BYTES, ORDER).intoArray(pa, dst + ii);
                    }
                }
                if (fullPanels < panels) {
                    int dst = fullPanels * kc * MR + kk * MR;
                    for (int ii = 0; ii < MR; ii++) {
                        int i = fullPanels * MR + ii;
                        pa[dst + ii] = i < mc ? a.get(ValueLayout.JAVA_FLOAT, rowOff + (long) i * Float.BYTES) : 0f;
                    }
                }
            }
            return;
        }
        // Each micro-panel's MR rows are copied (one bulk copy each) into `rows`, row-major, then transposed to
        // kk-major: by gathers, VL / MR whole steps per vector, where a vector holds whole steps; the rest by scalars.
        int steps = VL / MR, whole = VL % MR == 0 ? kc - kc % steps : 0;
        if (whole > 0) for (int lane = 0; lane < VL; lane++) map[lane] = (lane % MR) * kc + lane / MR;
        for (int ip = 0; ip < panels; ip++) {
            int base = ip * kc * MR;
            for (int ii = 0; ii < MR; ii++) {
                int i = ip * MR + ii;
                if (i < mc) MemorySegment.copy(a, ValueLayout.JAVA_FLOAT, ((long) (i0 + i) * k + k0) * Float.BYTES, rows, ii * kc, kc);
                else Arrays.fill(rows, ii * kc, (ii + 1) * kc, 0f);
            }
            for (int kk = 0; kk < whole; kk += steps)
                FloatVector.fromArray(S, rows, kk, map, 0).intoArray(pa, base + kk * MR);
            for (int kk = whole; kk < kc; kk++)
                for (int ii = 0; ii < MR; ii++) pa[base + kk * MR + ii] = rows[ii * kc + kk];
        }
    }

    /** C rows [i0, i0 + mc), panels [p0, p1): all k blocks, then the activation. */
    private static void tile(MemorySegment a, boolean transA, MemorySegment c, int m, int n, int k, int kcNominal,
                             int nPad, MemorySegment pb, float[] bias, int i0, int mc, int p0, int p1,
                             boolean accumulate, boolean gelu, Scratch s) {
        int aPanels = (mc + MR - 1) / MR;
        for (int k0 = 0; k0 < k; k0 += kcNominal) {
            int kc = Math.min(kcNominal, k - k0);
            // The first k block starts from the bias (and C when accumulating); later ones add to C.
            boolean fromBias = k0 == 0 && !accumulate;
            boolean addBias = k0 == 0 && accumulate;
            packA(a, transA, m, k, i0, mc, k0, kc, s.packedA, s.rows, s.map);
            for (int p = p0; p < p1; p++) {
                int bOff = k0 * nPad + p * kc * NR;
                int j0 = p * NR;
                int cols = Math.min(NR, n - j0);
                for (int ip = 0; ip < aPanels; ip++) {
                    int rows = Math.min(MR, mc - ip * MR);
                    kernel(kc, s.packedA, ip * kc * MR, pb, bOff, s.tile);
                    if (addBias) addBias(s.tile, bias, j0);
                    update(c, i0 + ip * MR, j0, n, rows, cols, fromBias, bias, s.tile);
                }
            }
        }
        if (gelu) {
            long j0 = (long) p0 * NR, j1 = Math.min(n, (long) p1 * NR);
            for (int i = i0; i < i0 + mc; i++) VecMath.gelu(c, c, (long) i * n + j0, (long) i * n + j1);
        }
    }

    /** {@code tile[r][j] += bias[j0 + j]}. */
    private static void addBias(MemorySegment tile, float[] bias, int j0) {
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) {
                long at = (long) r * NR + j;
                tile.setAtIndex(ValueLayout.JAVA_FLOAT, at, tile.getAtIndex(ValueLayout.JAVA_FLOAT, at) + bias[j0 + j]);
            }
    }

    /**
     * The MR x NR micro-kernel: {@code tile[MR][NR] = sum_kk a[kk, 0..MR) x b[kk, 0..NR)}. Three B vectors per
     * row keep the broadcasts of A (a load each) at one per three FMAs; with two (8 x 32) the products ran 10-20%
     * slower. A's micro-panel stays kk-major (step kk's MR values adjacent): a row-major one read with a row stride
     * was as fast in a product alone but about a third slower inside the encoder (bench/RESULTS.md).
     *
     * <p>It writes only to the tile (per-thread scratch) and {@link #update} then moves the tile into C. Keeping
     * every use of the accumulators inside this method as plain, unconditional stores matters: when they also fed
     * segment stores behind branches or a helper call, C2 kept them boxed and allocated 12 vectors per k step
     * (about 7x slower). Each accumulator also starts from its own {@code zero()} for the same reason.
     */
    static void kernel(int kc, float[] a, int ao, MemorySegment b, int bo, MemorySegment tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S),
                c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S),
                c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S),
                c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S),
                c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c42 = FloatVector.zero(S),
                c50 = FloatVector.zero(S), c51 = FloatVector.zero(S), c52 = FloatVector.zero(S),
                c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c62 = FloatVector.zero(S),
                c70 = FloatVector.zero(S), c71 = FloatVector.zero(S), c72 = FloatVector.zero(S);
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR, ai = ao + kk * MR;
            long bb = (long) bi * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(S, b, bb + 1 * VL * Float.BYTES, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(S, b, bb + 2 * VL * Float.BYTES, ORDER);
            FloatVector x0 = FloatVector.broadcast(S, a[ai]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(S, a[ai + 1]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(S, a[ai + 2]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            FloatVector x3 = FloatVector.broadcast(S, a[ai + 3]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            c32 = b2.fma(x3, c32);
            FloatVector x4 = FloatVector.broadcast(S, a[ai + 4]);
            c40 = b0.fma(x4, c40);
            c41 = b1.fma(x4, c41);
            c42 = b2.fma(x4, c42);
            FloatVector x5 = FloatVector.broadcast(S, a[ai + 5]);
            c50 = b0.fma(x5, c50);
            c51 = b1.fma(x5, c51);
            c52 = b2.fma(x5, c52);
            FloatVector x6 = FloatVector.broadcast(S, a[ai + 6]);
            c60 = b0.fma(x6, c60);
            c61 = b1.fma(x6, c61);
            c62 = b2.fma(x6, c62);
            FloatVector x7 = FloatVector.broadcast(S, a[ai + 7]);
            c70 = b0.fma(x7, c70);
            c71 = b1.fma(x7, c71);
            c72 = b2.fma(x7, c72);
        }
        c00.intoMemorySegment(tile, (long) (0 * NR + 0 * VL) * Float.BYTES, ORDER);
        c01.intoMemorySegment(tile, (long) (0 * NR + 1 * VL) * Float.BYTES, ORDER);
        c02.intoMemorySegment(tile, (long) (0 * NR + 2 * VL) * Float.BYTES, ORDER);
        c10.intoMemorySegment(tile, (long) (1 * NR + 0 * VL) * Float.BYTES, ORDER);
        c11.intoMemorySegment(tile, (long) (1 * NR + 1 * VL) * Float.BYTES, ORDER);
        c12.intoMemorySegment(tile, (long) (1 * NR + 2 * VL) * Float.BYTES, ORDER);
        c20.intoMemorySegment(tile, (long) (2 * NR + 0 * VL) * Float.BYTES, ORDER);
        c21.intoMemorySegment(tile, (long) (2 * NR + 1 * VL) * Float.BYTES, ORDER);
        c22.intoMemorySegment(tile, (long) (2 * NR + 2 * VL) * Float.BYTES, ORDER);
        c30.intoMemorySegment(tile, (long) (3 * NR + 0 * VL) * Float.BYTES, ORDER);
        c31.intoMemorySegment(tile, (long) (3 * NR + 1 * VL) * Float.BYTES, ORDER);
        c32.intoMemorySegment(tile, (long) (3 * NR + 2 * VL) * Float.BYTES, ORDER);
        c40.intoMemorySegment(tile, (long) (4 * NR + 0 * VL) * Float.BYTES, ORDER);
        c41.intoMemorySegment(tile, (long) (4 * NR + 1 * VL) * Float.BYTES, ORDER);
        c42.intoMemorySegment(tile, (long) (4 * NR + 2 * VL) * Float.BYTES, ORDER);
        c50.intoMemorySegment(tile, (long) (5 * NR + 0 * VL) * Float.BYTES, ORDER);
        c51.intoMemorySegment(tile, (long) (5 * NR + 1 * VL) * Float.BYTES, ORDER);
        c52.intoMemorySegment(tile, (long) (5 * NR + 2 * VL) * Float.BYTES, ORDER);
        c60.intoMemorySegment(tile, (long) (6 * NR + 0 * VL) * Float.BYTES, ORDER);
        c61.intoMemorySegment(tile, (long) (6 * NR + 1 * VL) * Float.BYTES, ORDER);
        c62.intoMemorySegment(tile, (long) (6 * NR + 2 * VL) * Float.BYTES, ORDER);
        c70.intoMemorySegment(tile, (long) (7 * NR + 0 * VL) * Float.BYTES, ORDER);
        c71.intoMemorySegment(tile, (long) (7 * NR + 1 * VL) * Float.BYTES, ORDER);
        c72.intoMemorySegment(tile, (long) (7 * NR + 2 * VL) * Float.BYTES, ORDER);
    }

    /**
     * {@code C[row0 + r, j0 + j] = (first ? bias[j0 + j] : C[..]) + tile[r][j]} for the valid {@code rows x cols}
     * part of the tile: whole vectors where the tile is full, scalars at the edges.
     */
    static void update(MemorySegment c, int row0, int j0, int ldc, int rows, int cols, boolean first,
                       float[] bias, MemorySegment tile) {
        if (cols == NR) {
            // Two straight loops rather than a vector chosen by `first`: a vector picked by a condition is the
            // pattern C2 sometimes boxes (see CpuBackend.layerNormRow).
            if (first) {
                for (int r = 0; r < rows; r++) {
                    long off0 = ((long) (row0 + r) * ldc + j0) * Float.BYTES, t0 = (long) r * NR * Float.BYTES;
                    for (int v = 0; v < NV; v++)
                        FloatVector.fromMemorySegment(S, tile, t0 + (long) v * VL * Float.BYTES, ORDER)
                                .add(FloatVector.fromArray(S, bias, j0 + v * VL))
                                .intoMemorySegment(c, off0 + (long) v * VL * Float.BYTES, ORDER);
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    long off0 = ((long) (row0 + r) * ldc + j0) * Float.BYTES, t0 = (long) r * NR * Float.BYTES;
                    for (int v = 0; v < NV; v++)
                        FloatVector.fromMemorySegment(S, tile, t0 + (long) v * VL * Float.BYTES, ORDER)
                                .add(FloatVector.fromMemorySegment(S, c, off0 + (long) v * VL * Float.BYTES, ORDER))
                                .intoMemorySegment(c, off0 + (long) v * VL * Float.BYTES, ORDER);
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            long off = ((long) (row0 + r) * ldc + j0) * Float.BYTES;
            for (int j = 0; j < cols; j++) {
                long at = off + (long) j * Float.BYTES;
                float base = first ? bias[j0 + j] : c.get(ValueLayout.JAVA_FLOAT, at);
                c.set(ValueLayout.JAVA_FLOAT, at, base + tile.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * NR + j));
            }
        }
    }
}
