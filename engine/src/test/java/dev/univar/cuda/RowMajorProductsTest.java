package dev.univar.cuda;

import dev.univar.cpu.ScalarBackend;
import dev.univar.cpu.ScalarTrainingBackend;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The row-major → column-major mapping of the CUDA backend's products, on the CPU: {@link RowMajorProducts} drives a
 * plain Java implementation of cuBLAS's column-major {@code gemm} / {@code gemmStridedBatched} (the semantics and the
 * argument rules of the cuBLAS documentation: {@code lda >= max(1, m)} for an untransposed A, and so on; every
 * element it touches must lie inside a tensor of the test, as a device would fault otherwise), and the results are
 * compared with the scalar reference. Runs everywhere: this is the part of the GPU path a CPU can check.
 */
class RowMajorProductsTest {

    private final Arena arena = Arena.ofConfined();
    private final Random random = new Random(5);
    private final List<Tensor> allocations = new ArrayList<>();
    private final JavaGemm blas = new JavaGemm();
    private final RowMajorProducts products = new RowMajorProducts(blas);
    private final ScalarTrainingBackend reference = new ScalarTrainingBackend();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void gemmAllTransposesAndAccumulation() {
        int[][] shapes = {{1, 1, 1}, {3, 17, 5}, {17, 31, 100}, {100, 33, 7}, {64, 1, 9}, {1, 40, 3}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = sh[2];
            for (boolean transA : new boolean[]{false, true})
                for (boolean transB : new boolean[]{false, true})
                    for (boolean accumulate : new boolean[]{false, true}) {
                        Tensor a = random(m * k), b = random(k * n), start = random(m * n);
                        Tensor expected = copy(start), actual = copy(start);
                        reference.gemm(a, transA, b, transB, null, accumulate, expected, m, n, k);
                        products.gemm(at(a), transA, at(b), transB, accumulate, at(actual), m, n, k);
                        assertClose(expected, actual, "gemm m=%d n=%d k=%d transA=%s transB=%s acc=%s"
                                .formatted(m, n, k, transA, transB, accumulate));
                    }
        }
    }

    @Test
    void linearBackward() {
        for (int[] s : new int[][]{{10, 7, 5}, {1, 3, 2}, {33, 1, 17}}) {
            int m = s[0], n = s[1], k = s[2];
            Tensor dOut = random(m * n), x = random(m * k), w = random(n * k), dW = random(n * k);
            Tensor eX = allocate(m * k), aX = allocate(m * k), eW = copy(dW), aW = copy(dW);
            reference.matmulBackward(dOut, x, w, eX, eW, null, m, n, k);
            products.linearBackward(at(dOut), at(x), at(w), at(aX), at(aW), m, n, k);
            assertClose(eX, aX, "dX " + m + "x" + n + "x" + k);
            assertClose(eW, aW, "dW " + m + "x" + n + "x" + k);
        }
    }

    @Test
    void attentionForwardSeparateAndFused() {
        // Batches of heads per sequence where heads > batch, of sequences per head otherwise: both layouts.
        for (int[] s : new int[][]{{3, 7, 2, 8}, {2, 1, 3, 4}, {1, 17, 4, 5}, {4, 9, 1, 16}, {3, 6, 5, 4}, {2, 5, 2, 3}}) {
            int batch = s[0], seq = s[1], heads = s[2], hd = s[3], width = heads * hd, tokens = batch * seq;
            Tensor q = random(tokens * width), k = random(tokens * width), v = random(tokens * width), mask = mask(batch, seq);
            Tensor expected = allocate(tokens * width), expectedProbs = allocate(batch * heads * seq * seq);
            reference.attentionForwardTrain(q, k, v, mask, expected, expectedProbs, batch, seq, heads, hd);
            String what = "attention b=%d seq=%d heads=%d hd=%d".formatted(batch, seq, heads, hd);

            Tensor probs = allocate(batch * heads * seq * seq), out = allocate(tokens * width);
            forward(at(q), at(k), at(v), width, mask, probs, out, batch, seq, heads, hd);
            assertClose(expectedProbs, probs, what + " probs");
            assertClose(expected, out, what + " out");

            // The same from one [tokens, 3 * width] tensor: columns q, then k, then v.
            Tensor qkv = allocate(tokens * 3 * width);
            for (int t = 0; t < tokens; t++)
                for (int c = 0; c < width; c++) {
                    qkv.set((long) t * 3 * width + c, q.get((long) t * width + c));
                    qkv.set((long) t * 3 * width + width + c, k.get((long) t * width + c));
                    qkv.set((long) t * 3 * width + 2 * width + c, v.get((long) t * width + c));
                }
            Tensor fused = allocate(tokens * width);
            long base = at(qkv), w4 = (long) width * Float.BYTES;
            forward(base, base + w4, base + 2 * w4, 3 * width, mask, allocate(batch * heads * seq * seq), fused, batch,
                    seq, heads, hd);
            assertClose(expected, fused, what + " fused qkv");
        }
    }

    /** As the backend does it, with the scalar masked softmax standing in for the kernel. */
    private void forward(long q, long k, long v, int ld, Tensor mask, Tensor probs, Tensor out, int batch, int seq,
                         int heads, int hd) {
        products.attentionScores(q, k, ld, at(probs), batch, seq, heads, hd, (float) (1 / Math.sqrt(hd)));
        new ScalarBackend().maskedSoftmax(probs, mask, batch, heads * seq, seq);
        products.attentionContext(at(probs), v, ld, at(out), batch, seq, heads, hd);
    }

    @Test
    void attentionBackward() {
        for (int[] s : new int[][]{{3, 7, 2, 8}, {2, 1, 3, 4}, {1, 17, 4, 5}, {3, 6, 5, 4}, {2, 5, 2, 3}}) {
            int batch = s[0], seq = s[1], heads = s[2], hd = s[3], width = heads * hd, tokens = batch * seq;
            int scores = batch * heads * seq * seq;
            Tensor q = random(tokens * width), k = random(tokens * width), v = random(tokens * width), mask = mask(batch, seq);
            Tensor dOut = random(tokens * width), probs = allocate(scores);
            reference.attentionForwardTrain(q, k, v, mask, allocate(tokens * width), probs, batch, seq, heads, hd);
            Tensor eQ = allocate(tokens * width), eK = allocate(tokens * width), eV = allocate(tokens * width);
            reference.attentionBackward(q, k, v, mask, probs, dOut, eQ, eK, eV, batch, seq, heads, hd);

            Tensor aQ = allocate(tokens * width), aK = allocate(tokens * width), aV = allocate(tokens * width);
            Tensor dScores = allocate(scores);
            products.attentionBackwardValues(at(probs), at(dOut), at(v), at(aV), at(dScores), batch, seq, heads, hd);
            // What the softmax_backward kernel does: dS = P (dP - sum_j P_j dP_j) * scale, per row.
            double scale = 1 / Math.sqrt(hd);
            for (long row = 0; row < (long) batch * heads * seq; row++) {
                double dot = 0;
                for (int c = 0; c < seq; c++) dot += probs.get(row * seq + c) * dScores.get(row * seq + c);
                for (int c = 0; c < seq; c++) {
                    long i = row * seq + c;
                    dScores.set(i, (float) (probs.get(i) * (dScores.get(i) - dot) * scale));
                }
            }
            products.attentionBackwardQueriesKeys(at(dScores), at(q), at(k), at(aQ), at(aK), batch, seq, heads, hd);
            String what = "attention backward b=%d seq=%d heads=%d hd=%d".formatted(batch, seq, heads, hd);
            assertClose(eQ, aQ, what + " dQ");
            assertClose(eK, aK, what + " dK");
            assertClose(eV, aV, what + " dV");
        }
    }

    /** One strided batch per head or per sequence, whichever is fewer: a single text is one call per product. */
    @Test
    void attentionMakesMinOfBatchAndHeadsCallsPerProduct() {
        for (int[] s : new int[][]{{1, 12, 1}, {7, 12, 7}, {12, 12, 12}, {32, 12, 12}, {3, 1, 1}}) {
            int batch = s[0], heads = s[1], expectedCalls = s[2];
            int[] calls = new int[2]; // {calls, blocks covered}
            RowMajorProducts counting = new RowMajorProducts(new RowMajorProducts.ColumnMajorGemm() {
                @Override
                public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                 long b, int ldb, float beta, long c, int ldc) {
                    fail("attention uses strided batches");
                }

                @Override
                public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                                               int lda, long strideA, long b, int ldb, long strideB, float beta, long c,
                                               int ldc, long strideC, int count) {
                    calls[0]++;
                    calls[1] += count;
                }
            });
            counting.attentionScores(0, 0, 3 * heads * 32, 0, batch, 128, heads, 32, 1f);
            assertTrue(calls[0] == expectedCalls && calls[1] == batch * heads,
                    "batch %d heads %d: %d calls covering %d blocks".formatted(batch, heads, calls[0], calls[1]));
        }
    }

    @Test
    void theFakeCatchesAWrongLeadingDimensionAndAnOutOfBoundsRead() {
        Tensor a = random(12), b = random(12), c = allocate(9);
        // 3x4 · 4x3 column-major with lda 2 < m = 3: cuBLAS's CUBLAS_STATUS_INVALID_VALUE.
        assertThrows(() -> blas.gemm(false, false, 3, 3, 4, 1f, at(a), 2, at(b), 4, 0f, at(c), 3));
        // k = 5 reads past b's 12 floats.
        assertThrows(() -> blas.gemm(false, false, 3, 3, 5, 1f, at(a), 3, at(b), 5, 0f, at(c), 3));
    }

    private static void assertThrows(Runnable r) {
        try {
            r.run();
        } catch (AssertionError | IllegalArgumentException expected) {
            return;
        }
        fail("the fake cuBLAS accepted a bad call");
    }

    // ---- the fake cuBLAS ----

    /** cuBLAS's column-major GEMMs in Java, over the addresses of this test's tensors. */
    private final class JavaGemm implements RowMajorProducts.ColumnMajorGemm {
        private final MemorySegment memory = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
                         int ldb, float beta, long c, int ldc) {
            gemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
        }

        @Override
        public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                                       int lda, long strideA, long b, int ldb, long strideB, float beta, long c,
                                       int ldc, long strideC, int count) {
            if (m < 0 || n < 0 || k < 0 || count < 0) throw new IllegalArgumentException("negative size");
            if (lda < Math.max(1, transA ? k : m)) throw new IllegalArgumentException("lda " + lda + " too small");
            if (ldb < Math.max(1, transB ? n : k)) throw new IllegalArgumentException("ldb " + ldb + " too small");
            if (ldc < Math.max(1, m)) throw new IllegalArgumentException("ldc " + ldc + " too small");
            for (int batch = 0; batch < count; batch++) {
                long pa = a + batch * strideA * Float.BYTES, pb = b + batch * strideB * Float.BYTES;
                long pc = c + batch * strideC * Float.BYTES;
                // The column-major extents: A is (transA ? k : m) rows by (transA ? m : k) columns, and so on.
                inBounds(pa, transA ? k : m, transA ? m : k, lda);
                inBounds(pb, transB ? n : k, transB ? k : n, ldb);
                inBounds(pc, m, n, ldc);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            float x = get(pa, transA ? p + (long) i * lda : i + (long) p * lda);
                            float y = get(pb, transB ? j + (long) p * ldb : p + (long) j * ldb);
                            s += (double) x * y;
                        }
                        long ci = i + (long) j * ldc;
                        double old = beta == 0 ? 0 : beta * get(pc, ci); // beta 0: C is not read, as cuBLAS
                        memory.set(ValueLayout.JAVA_FLOAT, pc + ci * Float.BYTES, (float) (alpha * s + old));
                    }
            }
        }

        private float get(long base, long index) {
            return memory.get(ValueLayout.JAVA_FLOAT, base + index * Float.BYTES);
        }

        /** A column-major {@code rows x cols} matrix at {@code base} with leading dimension {@code ld} lies in one tensor. */
        private void inBounds(long base, int rows, int cols, int ld) {
            if (rows == 0 || cols == 0) return;
            long last = base + ((rows - 1) + (long) (cols - 1) * ld) * Float.BYTES;
            for (Tensor t : allocations) {
                long start = t.data().address(), end = start + t.size() * Float.BYTES;
                if (base >= start && last + Float.BYTES <= end) return;
            }
            throw new AssertionError("reads or writes outside every tensor: [" + base + ", " + last + "]");
        }
    }

    // ---- tensors ----

    private Tensor allocate(int n) {
        Tensor t = Tensor.allocate(arena, n);
        allocations.add(t);
        return t;
    }

    private Tensor random(int n) {
        Tensor t = allocate(n);
        for (int i = 0; i < n; i++) t.set(i, random.nextFloat() * 2 - 1);
        return t;
    }

    private Tensor copy(Tensor source) {
        Tensor t = allocate((int) source.size());
        t.copyFrom(source.toArray());
        return t;
    }

    /** Row 0 all real, row 1 one real token, others random (possibly none). */
    private Tensor mask(int batch, int seq) {
        Tensor m = allocate(batch * seq);
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
                m.set((long) b * seq + t, b == 0 || (b == 1 ? t == 0 : random.nextBoolean()) ? 1 : 0);
        return m;
    }

    private static long at(Tensor t) {
        return t.data().address();
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        for (long i = 0; i < expected.size(); i++) {
            float e = expected.get(i), a = actual.get(i);
            assertTrue(Math.abs(a - e) <= 1e-5 * (1 + Math.abs(e)), what + ": element " + i + " expected " + e + " but was " + a);
        }
    }
}
