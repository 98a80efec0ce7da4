package dev.univar.cuda;

import dev.univar.TestTensors;

import dev.univar.cpu.CpuBackend;
import dev.univar.cpu.ScalarBackend;
import dev.univar.tensor.Activation;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static dev.univar.cuda.CudaTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every {@link dev.univar.tensor.Backend} operation of the CUDA backend (fp32) against {@link ScalarBackend}, on
 * ragged sizes and padding masks, as {@code CpuBackendTest} checks the CPU backend. Each runs twice: on plain host
 * tensors (copied in and out through the staging buffers) and on tensors the backend allocated (used in place, read
 * by the host after {@code synchronize()}). Skipped without a CUDA driver.
 */
class CudaBackendTest extends CudaFp32TestBase {

    private static final int[] SIZES = {1, 3, 17, 31, 64, 100, 383, 385};
    /** Written past the end of every output; must survive. */
    private static final float SENTINEL = 12345.678f;

    private final ScalarBackend reference = new ScalarBackend();
    private final Random random = new Random(42);

    CudaBackendTest() {
        super("fp32 op");
    }

    private String mode() {
        return onDevice ? " [device tensors]" : " [host tensors]";
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void matmulRaggedSizes(boolean device) {
        start(device);
        for (int i = 0; i < SIZES.length; i++) {
            for (int j = 0; j < SIZES.length; j += 2) {
                int m = SIZES[i], n = SIZES[j], k = SIZES[(i + 2 * j + 1) % SIZES.length];
                boolean withBias = ((i + j) & 1) == 0;
                checkMatmul(m, n, k, false, withBias);
                checkMatmul(m, n, k, true, !withBias);
            }
        }
        checkMatmul(67, 129, 1500, true, true);
        checkMatmul(4, 5, 0, false, true); // k = 0: bias only
        checkMatmul(0, 5, 7, true, true);  // nothing to do
    }

    private void checkMatmul(int m, int n, int k, boolean transB, boolean withBias) {
        Tensor a = random(m * k, 1), b = random(k * n, 1);
        Tensor bias = withBias ? random(n, 1) : null;
        Tensor expected = withSentinel(m * n), actual = withSentinel(m * n);
        reference.matmul(a, b, transB, bias, expected, m, n, k);
        cuda.matmul(a, b, transB, bias, actual, m, n, k);
        check("matmul", expected, actual, 1e-4, "matmul m=%d n=%d k=%d transB=%s bias=%s".formatted(m, n, k, transB, withBias));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gemmTransposedAndAccumulating(boolean device) {
        start(device);
        int[][] shapes = {{1, 1, 1}, {3, 17, 5}, {17, 31, 100}, {100, 33, 7}, {67, 129, 600}, {5, 4, 0}};
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
                        cuda.gemm(a, transA, b, transB, bias, accumulate, actual, m, n, k);
                        check("gemm", expected, actual, 1e-4, "gemm m=%d n=%d k=%d transA=%s transB=%s acc=%s bias=%s"
                                .formatted(m, n, k, transA, transB, accumulate, withBias));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void packedLinear(boolean device) {
        start(device);
        int[][] shapes = {{1, 1, 1}, {16, 384, 384}, {3, 17, 5}, {17, 100, 31}, {100, 1153, 383}, {4, 5, 0}};
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
                    try (PackedMatrix packed = cuda.pack(b, transB, n, k)) {
                        b.fill(7f); // a snapshot: later changes to b are not seen
                        cuda.linear(a, packed, bias, act, actual, m);
                        check("linear", expected, actual, 1e-4, "linear m=%d n=%d k=%d transB=%s act=%s bias=%s"
                                .formatted(m, n, k, transB, act, withBias));
                    }
                }
            }
        }
    }

    @Test
    void packedMatrixOfAnotherBackendIsRejected() {
        start(false);
        try (CpuBackend cpu = new CpuBackend(1)) {
            Tensor b = random(12, 1), a = random(12, 1), out = random(9, 1);
            PackedMatrix p = cpu.pack(b, true, 3, 4);
            assertThrows(IllegalArgumentException.class, () -> cuda.linear(a, p, null, Activation.NONE, out, 3));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void attention(boolean device) {
        start(device);
        for (int seq : new int[]{1, 7, 17, 64, 130}) {
            for (int[] hd : new int[][]{{1, 8}, {3, 20}, {2, 32}}) {
                int heads = hd[0], headDim = hd[1], batch = 4, size = batch * seq * heads * headDim;
                Tensor q = random(size, 2), k = random(size, 2), v = random(size, 1);
                Tensor mask = mask(batch, seq);
                Tensor expected = withSentinel(size), actual = withSentinel(size);
                reference.attention(q, k, v, mask, expected, batch, seq, heads, headDim);
                cuda.attention(q, k, v, mask, actual, batch, seq, heads, headDim);
                check("attention", expected, actual, 2e-5, "attention seq=%d heads=%d headDim=%d".formatted(seq, heads, headDim));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fusedQkvAttention(boolean device) {
        start(device);
        for (int seq : new int[]{1, 9, 17, 100}) {
            for (int[] hd : new int[][]{{1, 8}, {3, 20}, {12, 32}}) {
                int heads = hd[0], headDim = hd[1], batch = 4, width = heads * headDim, tokens = batch * seq;
                Tensor qkv = random(tokens * 3 * width, 2), mask = mask(batch, seq);
                Tensor expected = withSentinel(tokens * width), actual = withSentinel(tokens * width);
                reference.attention(qkv, mask, expected, batch, seq, heads, headDim);
                cuda.attention(qkv, mask, actual, batch, seq, heads, headDim);
                check("attention (fused qkv)", expected, actual, 2e-5,
                        "fused attention seq=%d heads=%d headDim=%d".formatted(seq, heads, headDim));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void layerNorm(boolean device) {
        start(device);
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
                    cuda.layerNorm(xIn, resIn, gamma, beta, 1e-12f, out, rows, dim);
                    check("layerNorm", expected, out, 2e-5, what + " variant " + variant);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gelu(boolean device) {
        start(device);
        for (int n : new int[]{1, 15, 16, 17, 1000, 100_003}) {
            Tensor x = random(n, 10);
            Tensor expected = withSentinel(n), actual = withSentinel(n);
            reference.gelu(x, expected, n);
            cuda.gelu(x, actual, n);
            check("gelu", expected, actual, 1e-6, "gelu n=" + n);
            cuda.gelu(x, x, n); // aliased
            check("gelu", expected, x, 1e-6, "gelu in place n=" + n, n);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void maskedSoftmax(boolean device) {
        start(device);
        for (int rowsPerBatch : new int[]{1, 5, 128}) {
            for (int cols : new int[]{1, 3, 17, 31, 64, 100}) {
                int batch = 4, size = batch * rowsPerBatch * cols;
                Tensor mask = mask(batch, cols);
                Tensor x = random(size, 8);
                Tensor expected = copy(x, size + 1), actual = copy(x, size + 1);
                reference.maskedSoftmax(expected, mask, batch, rowsPerBatch, cols);
                cuda.maskedSoftmax(actual, mask, batch, rowsPerBatch, cols);
                check("maskedSoftmax", expected, actual, 2e-6, "softmax rowsPerBatch=%d cols=%d".formatted(rowsPerBatch, cols));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void embeddings(boolean device) {
        start(device);
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
                        cuda.embeddings(ids, typeIds, word, pos, type, actual, batch, seq, hidden);
                        check("embeddings", expected, actual, 1e-6, "embeddings hidden=" + hidden + (pos == null ? " without positions" : ""));
                    }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void meanPoolAndL2Normalize(boolean device) {
        start(device);
        for (int seq : new int[]{1, 5, 17}) {
            for (int dim : new int[]{3, 17, 384}) {
                int batch = 8;
                Tensor x = random(batch * seq * dim, 2), mask = mask(batch, seq);
                Tensor expected = withSentinel(batch * dim), actual = withSentinel(batch * dim);
                reference.meanPool(x, mask, expected, batch, seq, dim);
                cuda.meanPool(x, mask, actual, batch, seq, dim);
                check("meanPool", expected, actual, 1e-5, "meanPool seq=%d dim=%d".formatted(seq, dim));
            }
        }
        for (int rows : new int[]{4, 100}) {
            for (int dim : new int[]{1, 3, 17, 384, 385}) {
                int size = rows * dim;
                Tensor x = random(size, 3);
                for (int i = 0; i < dim; i++) x.set(i, 0); // a zero row stays zero
                Tensor expected = copy(x, size + 1), actual = copy(x, size + 1);
                reference.l2Normalize(expected, rows, dim);
                cuda.l2Normalize(actual, rows, dim);
                check("l2Normalize", expected, actual, 1e-6, "l2Normalize rows=%d dim=%d".formatted(rows, dim));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void add(boolean device) {
        start(device);
        for (int n : new int[]{1, 15, 17, 100_003}) {
            Tensor a = random(n, 1), b = random(n, 1);
            Tensor expected = withSentinel(n), actual = withSentinel(n);
            reference.add(a, b, expected, n);
            cuda.add(a, b, actual, n);
            check("add", expected, actual, 0, "add n=" + n);
            Tensor a2 = copy(a, n), b2 = copy(b, n);
            cuda.add(a2, b, a2, n);
            cuda.add(a, b2, b2, n);
            check("add", expected, a2, 0, "add out == a", n);
            check("add", expected, b2, 0, "add out == b", n);
        }
    }

    /** Checked on the host before anything reaches the device: a bad call is an exception, never a crashed context. */
    @Test
    void rejectsBadArgumentsBeforeLaunching() {
        start(true);
        Tensor a = random(6, 1), out = random(4, 1);
        assertThrows(IllegalArgumentException.class, () -> cuda.matmul(a, a, false, null, out, 3, 3, 2));
        Tensor word = random(5 * 4, 1), position = random(3 * 4, 1), type = random(2 * 4, 1), emb = random(3 * 4, 1);
        assertThrows(IndexOutOfBoundsException.class,
                () -> cuda.embeddings(new int[]{0, 5, 1}, null, word, position, type, emb, 1, 3, 4));
        // Empty operations do nothing, and the backend still works afterwards.
        cuda.gelu(a, out, 0);
        cuda.attention(a, a, a, a, out, 0, 3, 1, 2);
        cuda.layerNorm(a, null, a, a, 1e-5f, out, 0, 3);
        Tensor expected = withSentinel(4), actual = withSentinel(4);
        reference.gelu(a, expected, 4);
        cuda.gelu(a, actual, 4);
        check("gelu", expected, actual, 1e-6, "gelu after empty calls");
    }

    // ---- tensors ----

    private Tensor mask(int batch, int seq) {
        return TestTensors.scatteredMask(allocate(batch * seq), batch, seq, random);
    }

    private Tensor random(int n, float scale) {
        return TestTensors.uniform(allocate(n), n, scale, random);
    }

    private Tensor withSentinel(int n) {
        Tensor t = allocate(n + 1);
        t.set(n, SENTINEL);
        return t;
    }

    private Tensor copy(Tensor source, int n) {
        Tensor t = allocate(n);
        long count = Math.min(n, source.size());
        for (long i = 0; i < count; i++) t.set(i, source.get(i));
        if (n > source.size()) t.set(n - 1, SENTINEL);
        return t;
    }

    /** Every element, sentinel included, after the device is done. */
    private void check(String check, Tensor expected, Tensor actual, double tolerance, String what) {
        assertEquals(expected.size(), actual.size(), what + ": sizes");
        check(check, expected, actual, tolerance, what, expected.size());
    }

    private void check(String check, Tensor expected, Tensor actual, double tolerance, String what, long n) {
        cuda.synchronize();
        assertClose(summary, check, expected, actual, tolerance, n, what + mode());
    }
}
