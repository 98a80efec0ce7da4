package dev.univar.cpu;

import dev.univar.TestTensors;

import dev.univar.tensor.Activation;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Every CpuBackend operation against ScalarBackend, on ragged sizes, with 1, 2 and 3 threads. */
class CpuBackendTest {

    private static final int[] SIZES = {1, 3, 17, 31, 64, 100, 383, 385};
    /** Written past the end of every output; must survive. */
    private static final float SENTINEL = 12345.678f;

    private final ScalarBackend reference = new ScalarBackend();
    private final Arena arena = Arena.ofShared();
    private final Random random = new Random(42);

    @AfterEach
    void close() {
        arena.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matmulRaggedSizes(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int i = 0; i < SIZES.length; i++) {
                for (int j = 0; j < SIZES.length; j++) {
                    int m = SIZES[i], n = SIZES[j], k = SIZES[(i + 2 * j + threads) % SIZES.length];
                    boolean withBias = ((i + j) & 1) == 0;
                    checkMatmul(cpu, m, n, k, false, withBias);
                    checkMatmul(cpu, m, n, k, true, !withBias);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matmulSeveralKBlocksAndTiles(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (boolean transB : new boolean[]{false, true}) {
                checkMatmul(cpu, 67, 129, 1500, transB, true); // k split in several blocks
                checkMatmul(cpu, 300, 200, 600, transB, false); // several row blocks and column tiles
                checkMatmul(cpu, 5, 1536, 384, transB, true);  // few rows: columns split across threads
                checkMatmul(cpu, 4, 5, 0, transB, true);       // k = 0: bias only
                checkMatmul(cpu, 0, 5, 7, transB, true);       // nothing to do
            }
        }
    }

    private void checkMatmul(CpuBackend cpu, int m, int n, int k, boolean transB, boolean withBias) {
        Tensor a = random(m * k, 1), b = random(k * n, 1);
        Tensor bias = withBias ? random(n, 1) : null;
        Tensor expected = withSentinel(m * n), actual = withSentinel(m * n);
        reference.matmul(a, b, transB, bias, expected, m, n, k);
        cpu.matmul(a, b, transB, bias, actual, m, n, k);
        assertClose(expected, actual, 1e-4, "matmul m=%d n=%d k=%d transB=%s bias=%s".formatted(m, n, k, transB, withBias));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void gemmTransposedAndAccumulating(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            // {45, 50, 1700}: k in three blocks (C accumulated across them, with transposed A too).
            int[][] shapes = {{1, 1, 1}, {3, 17, 5}, {17, 31, 100}, {100, 33, 7}, {67, 129, 600}, {200, 45, 300}, {45, 50, 1700},
                    {5, 4, 0}};
            int variant = 0;
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2];
                for (boolean transA : new boolean[]{false, true}) {
                    for (boolean transB : new boolean[]{false, true}) {
                        for (boolean accumulate : new boolean[]{false, true}) {
                            boolean withBias = (variant++ % 3) != 0;
                            Tensor a = random(m * k, 1), b = random(k * n, 1), bias = withBias ? random(n, 1) : null;
                            Tensor start = random(m * n, 1);
                            Tensor expected = copy(start, m * n + 1), actual = copy(start, m * n + 1);
                            reference.gemm(a, transA, b, transB, bias, accumulate, expected, m, n, k);
                            cpu.gemm(a, transA, b, transB, bias, accumulate, actual, m, n, k);
                            assertClose(expected, actual, 1e-4, "gemm m=%d n=%d k=%d transA=%s transB=%s acc=%s bias=%s"
                                    .formatted(m, n, k, transA, transB, accumulate, withBias));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void packedLinear(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            // {70, 97, 1601}: a packed matrix in three k blocks.
            int[][] shapes = {{1, 1, 1}, {16, 384, 384}, {3, 17, 5}, {17, 100, 31}, {100, 1153, 383}, {300, 65, 600},
                    {70, 97, 1601}, {4, 5, 0}};
            int variant = 0;
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2];
                for (boolean transB : new boolean[]{false, true}) {
                    for (Activation act : Activation.values()) {
                        boolean withBias = (variant++ % 3) != 0;
                        Tensor a = random(m * k, 1), b = random(k * n, 1), bias = withBias ? random(n, 1) : null;
                        Tensor expected = withSentinel(m * n), actual = withSentinel(m * n);
                        reference.matmul(a, b, transB, bias, expected, m, n, k);
                        if (act == Activation.GELU) reference.gelu(expected, expected, (long) m * n);
                        try (PackedMatrix packed = cpu.pack(b, transB, n, k)) {
                            b.fill(7f); // a snapshot: later changes to b are not seen
                            cpu.linear(a, packed, bias, act, actual, m);
                        }
                        assertClose(expected, actual, 1e-4, "linear m=%d n=%d k=%d transB=%s act=%s bias=%s"
                                .formatted(m, n, k, transB, act, withBias));
                        // The reference's own linear agrees too.
                        Tensor ref2 = withSentinel(m * n);
                        Tensor b2 = random(k * n, 1);
                        reference.matmul(a, b2, transB, bias, expected, m, n, k);
                        if (act == Activation.GELU) reference.gelu(expected, expected, (long) m * n);
                        reference.linear(a, reference.pack(b2, transB, n, k), bias, act, ref2, m);
                        assertClose(expected, ref2, 1e-6, "reference linear");
                    }
                }
            }
        }
    }

    @Test
    void packedMatrixOfAnotherBackendIsRejected() {
        try (CpuBackend cpu = new CpuBackend(1); CpuBackend other = new CpuBackend(1)) {
            Tensor b = random(12, 1), a = random(12, 1), out = random(9, 1);
            PackedMatrix p = other.pack(b, true, 3, 4);
            try {
                cpu.linear(a, p, null, Activation.NONE, out, 3);
                fail("used a matrix packed by another backend");
            } catch (IllegalArgumentException expected) {
                // good
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void fusedQkvAttention(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int seq : new int[]{1, 9, 17, 100}) {
                for (int[] hd : new int[][]{{1, 8}, {3, 20}, {12, 32}}) {
                    int heads = hd[0], headDim = hd[1], batch = 4, width = heads * headDim, tokens = batch * seq;
                    Tensor qkv = random(tokens * 3 * width, 2), mask = mask(batch, seq);
                    // The same q, k, v as separate tensors, for the reference's unfused attention.
                    Tensor q = Tensor.allocate(arena, tokens * width), k = Tensor.allocate(arena, tokens * width),
                            v = Tensor.allocate(arena, tokens * width);
                    for (int t = 0; t < tokens; t++)
                        for (int c = 0; c < width; c++) {
                            q.set((long) t * width + c, qkv.get((long) t * 3 * width + c));
                            k.set((long) t * width + c, qkv.get((long) t * 3 * width + width + c));
                            v.set((long) t * width + c, qkv.get((long) t * 3 * width + 2 * width + c));
                        }
                    Tensor expected = withSentinel(tokens * width), fusedRef = withSentinel(tokens * width),
                            actual = withSentinel(tokens * width);
                    reference.attention(q, k, v, mask, expected, batch, seq, heads, headDim);
                    reference.attention(qkv, mask, fusedRef, batch, seq, heads, headDim);
                    cpu.attention(qkv, mask, actual, batch, seq, heads, headDim);
                    String what = "fused attention seq=%d heads=%d headDim=%d".formatted(seq, heads, headDim);
                    assertClose(expected, fusedRef, 1e-6, "reference " + what);
                    assertClose(expected, actual, 1e-5, what);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void layerNorm(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int rows : new int[]{1, 3, 17, 100}) {
                for (int dim : new int[]{1, 3, 17, 31, 64, 384, 385}) {
                    int size = rows * dim;
                    Tensor x = random(size, 2), res = random(size, 2), gamma = random(dim, 1), beta = random(dim, 1);
                    String what = "layerNorm rows=%d dim=%d".formatted(rows, dim);
                    for (int variant = 0; variant < 4; variant++) {
                        Tensor residual = variant == 0 ? null : res;
                        Tensor expected = withSentinel(size);
                        reference.layerNorm(x, residual, gamma, beta, 1e-12f, expected, rows, dim);
                        // 0, 1: separate output; 2: out == x; 3: out == residual.
                        Tensor out = variant <= 1 ? withSentinel(size) : copy(variant == 2 ? x : res, size + 1);
                        Tensor xIn = variant == 2 ? out : x, resIn = variant == 3 ? out : residual;
                        cpu.layerNorm(xIn, resIn, gamma, beta, 1e-12f, out, rows, dim);
                        assertClose(expected, out, 2e-5, what + " variant " + variant, size);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void gelu(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int n : new int[]{1, 15, 16, 17, 1000, 100_003}) {
                Tensor x = random(n, 10);
                Tensor expected = withSentinel(n), actual = withSentinel(n);
                reference.gelu(x, expected, n);
                cpu.gelu(x, actual, n);
                assertClose(expected, actual, 1e-6, "gelu n=" + n);
                cpu.gelu(x, x, n); // aliased
                assertClose(expected, x, 1e-6, "gelu in place n=" + n, n);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void maskedSoftmax(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int rowsPerBatch : new int[]{1, 5, 128}) {
                for (int cols : new int[]{1, 3, 17, 31, 64, 100}) {
                    int batch = 4, size = batch * rowsPerBatch * cols;
                    Tensor mask = mask(batch, cols);
                    Tensor x = random(size, 8);
                    Tensor expected = copy(x, size + 1), actual = copy(x, size + 1);
                    reference.maskedSoftmax(expected, mask, batch, rowsPerBatch, cols);
                    cpu.maskedSoftmax(actual, mask, batch, rowsPerBatch, cols);
                    assertClose(expected, actual, 2e-6, "softmax rowsPerBatch=%d cols=%d".formatted(rowsPerBatch, cols));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void attention(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int seq : new int[]{1, 7, 17, 64, 130}) {
                for (int heads : new int[]{1, 3}) {
                    for (int headDim : new int[]{8, 20, 32}) {
                        int batch = 4, size = batch * seq * heads * headDim;
                        Tensor q = random(size, 2), k = random(size, 2), v = random(size, 1);
                        Tensor mask = mask(batch, seq);
                        Tensor expected = withSentinel(size), actual = withSentinel(size);
                        reference.attention(q, k, v, mask, expected, batch, seq, heads, headDim);
                        cpu.attention(q, k, v, mask, actual, batch, seq, heads, headDim);
                        assertClose(expected, actual, 1e-5, "attention seq=%d heads=%d headDim=%d".formatted(seq, heads, headDim));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void embeddings(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int hidden : new int[]{3, 17, 384}) {
                for (int[] shape : new int[][]{{2, 5}, {4, 33}}) {
                    int batch = shape[0], seq = shape[1], tokens = batch * seq, vocab = 50;
                    Tensor word = random(vocab * hidden, 1), position = random(seq * hidden, 1), type = random(2 * hidden, 1);
                    int[] ids = new int[tokens], types = new int[tokens];
                    for (int t = 0; t < tokens; t++) {
                        ids[t] = random.nextInt(vocab);
                        types[t] = random.nextInt(2);
                    }
                    for (int[] typeIds : new int[][]{null, types})
                        for (Tensor pos : new Tensor[]{position, null}) {
                            Tensor expected = withSentinel(tokens * hidden), actual = withSentinel(tokens * hidden);
                            reference.embeddings(ids, typeIds, word, pos, type, expected, batch, seq, hidden);
                            cpu.embeddings(ids, typeIds, word, pos, type, actual, batch, seq, hidden);
                            String what = "embeddings hidden=" + hidden + (pos == null ? " without positions" : "");
                            assertClose(expected, actual, 1e-6, what);
                            if (pos != null) continue;
                            // Without a position table the reference is word + token type, exactly.
                            for (int t = 0; t < tokens; t++)
                                for (int i = 0; i < hidden; i++) {
                                    float sum = word.get((long) ids[t] * hidden + i) + type.get((long) (typeIds == null ? 0 : typeIds[t]) * hidden + i);
                                    assertEquals(sum, expected.get((long) t * hidden + i), what);
                                }
                        }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void meanPool(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int seq : new int[]{1, 5, 17}) {
                for (int dim : new int[]{3, 17, 384}) {
                    int batch = 8;
                    Tensor x = random(batch * seq * dim, 2), mask = mask(batch, seq);
                    Tensor expected = withSentinel(batch * dim), actual = withSentinel(batch * dim);
                    reference.meanPool(x, mask, expected, batch, seq, dim);
                    cpu.meanPool(x, mask, actual, batch, seq, dim);
                    assertClose(expected, actual, 1e-5, "meanPool seq=%d dim=%d".formatted(seq, dim));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void l2Normalize(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int rows : new int[]{4, 100}) {
                for (int dim : new int[]{1, 3, 17, 384, 385}) {
                    int size = rows * dim;
                    Tensor x = random(size, 3);
                    for (int i = 0; i < dim; i++) x.set(i, 0); // a zero row stays zero
                    Tensor expected = copy(x, size + 1), actual = copy(x, size + 1);
                    reference.l2Normalize(expected, rows, dim);
                    cpu.l2Normalize(actual, rows, dim);
                    assertClose(expected, actual, 1e-6, "l2Normalize rows=%d dim=%d".formatted(rows, dim));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void add(int threads) {
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (int n : new int[]{1, 15, 17, 100_003}) {
                Tensor a = random(n, 1), b = random(n, 1);
                Tensor expected = withSentinel(n), actual = withSentinel(n);
                reference.add(a, b, expected, n);
                cpu.add(a, b, actual, n);
                assertClose(expected, actual, 0, "add n=" + n);
                Tensor a2 = copy(a, n), b2 = copy(b, n);
                cpu.add(a2, b, a2, n);
                cpu.add(a, b2, b2, n);
                assertClose(expected, a2, 0, "add out == a", n);
                assertClose(expected, b2, 0, "add out == b", n);
            }
        }
    }

    @Test
    void rejectsTooSmallTensors() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            Tensor a = random(6, 1), out = random(4, 1);
            try {
                cpu.matmul(a, a, false, null, out, 3, 3, 2);
                fail("matmul wrote past a too small output");
            } catch (IllegalArgumentException expected) {
                // good
            }
        }
    }

    private Tensor mask(int batch, int seq) {
        return TestTensors.scatteredMask(Tensor.allocate(arena, batch, seq), batch, seq, random);
    }

    private Tensor random(int n, float scale) {
        return TestTensors.uniform(Tensor.allocate(arena, n), n, scale, random);
    }

    private Tensor withSentinel(int n) {
        Tensor t = Tensor.allocate(arena, n + 1);
        t.set(n, SENTINEL);
        return t;
    }

    private Tensor copy(Tensor source, int n) {
        Tensor t = Tensor.allocate(arena, n);
        long count = Math.min(n, source.size());
        for (long i = 0; i < count; i++) t.set(i, source.get(i));
        if (n > source.size()) t.set(n - 1, SENTINEL);
        return t;
    }

    private static void assertClose(Tensor expected, Tensor actual, double tolerance, String what) {
        assertEquals(expected.size(), actual.size(), what + ": sizes");
        assertClose(expected, actual, tolerance, what, expected.size());
    }

    /** {@code |a - e| <= tolerance * (1 + |e|)} for the first {@code n} elements, NaN never. */
    private static void assertClose(Tensor expected, Tensor actual, double tolerance, String what, long n) {
        for (long i = 0; i < n; i++) {
            float e = expected.get(i), a = actual.get(i);
            if (!(Math.abs(a - e) <= tolerance * (1 + Math.abs(e))))
                fail(what + ": element " + i + " expected " + e + " but was " + a);
        }
    }
}
