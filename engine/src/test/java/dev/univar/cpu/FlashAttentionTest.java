package dev.univar.cpu;

import dev.univar.TestTensors;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static dev.univar.cpu.GradCheck.numeric;
import static dev.univar.cpu.GradCheck.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link FlashAttention} against {@link ScalarNomicOps} (forward, lse and backward; separate and fused q/k/v; ragged
 * sequence lengths across several query and key tiles, ragged head dimensions, scattered and right padding, sequences
 * without real keys; 1, 2 and 3 threads), against {@link CpuBackend#attention} on short sequences, its backward and
 * the reference's against finite differences, and its scratch at 8192 tokens.
 */
class FlashAttentionTest {

    private static final float SENTINEL = 12345.678f;
    private static final ThreadPool[] POOLS = new ThreadPool[3];
    private static final FlashAttention[] KERNELS = new FlashAttention[3];

    private final Arena arena = Arena.ofShared();
    private final Random random = new Random(3);

    @BeforeAll
    static void start() {
        for (int t = 0; t < 3; t++) {
            POOLS[t] = new ThreadPool(t + 1);
            KERNELS[t] = new FlashAttention(POOLS[t]);
        }
    }

    @AfterAll
    static void stop() {
        for (ThreadPool p : POOLS) p.close();
    }

    @AfterEach
    void close() {
        arena.close();
    }

    /** {heads, headDim}: tiny, ragged (not a multiple of any vector), and NomicBERT's 32 and 64. */
    private static final int[][] HEADS = {{1, 8}, {3, 20}, {2, 32}, {2, 64}, {1, 5}};
    /** Across one and several query tiles (64 on AVX-512 and AVX2) and key tiles (128), ragged everywhere. */
    private static final int[] SEQS = {1, 7, 17, 64, 65, 130, 300};

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void forwardMatchesReference(boolean fused) {
        for (int seq : SEQS) {
            for (int[] hd : HEADS) {
                for (boolean prefix : new boolean[]{false, true}) {
                    int heads = hd[0], headDim = hd[1], batch = 4;
                    if (seq == 300 && headDim < 32) continue; // the long sequence only where it matters, to keep the time down
                    Case c = new Case(batch, seq, heads, headDim, prefix, 1.5f);
                    Tensor expected = withSentinel(c.tokens * c.width), lse = withSentinel(batch * heads * seq);
                    if (fused) ScalarNomicOps.attention(c.qkv, c.mask, expected, lse, batch, seq, heads, headDim);
                    else ScalarNomicOps.attention(c.q, c.k, c.v, c.mask, expected, lse, batch, seq, heads, headDim);
                    for (int t = 0; t < 3; t++) {
                        Tensor out = withSentinel(c.tokens * c.width), lseOut = withSentinel(batch * heads * seq);
                        if (fused) KERNELS[t].forward(c.qkv, c.mask, out, lseOut, batch, seq, heads, headDim);
                        else KERNELS[t].forward(c.q, c.k, c.v, c.mask, out, lseOut, batch, seq, heads, headDim);
                        String what = "fused=%s seq=%d heads=%d headDim=%d prefix=%s threads=%d"
                                .formatted(fused, seq, heads, headDim, prefix, t + 1);
                        assertClose(expected, out, 1e-5, what + " out", c.tokens * c.width + 1);
                        assertClose(lse, lseOut, 1e-5, what + " lse", batch * heads * seq + 1);
                    }
                }
            }
        }
    }

    @Test
    void forwardWithoutLse() {
        Case c = new Case(3, 70, 2, 32, true, 1f);
        Tensor expected = withSentinel(c.tokens * c.width), out = withSentinel(c.tokens * c.width);
        ScalarNomicOps.attention(c.q, c.k, c.v, c.mask, expected, null, 3, 70, 2, 32);
        KERNELS[1].forward(c.q, c.k, c.v, c.mask, out, null, 3, 70, 2, 32);
        assertClose(expected, out, 1e-5, "no lse", c.tokens * c.width + 1);
    }

    @Test
    void peakedScoresStayStable() {
        // Scores with a spread of about 50: the running max moves between key tiles and e^(m_old - m_new) underflows.
        for (int seq : new int[]{129, 300}) {
            Case c = new Case(2, seq, 2, 64, false, 12f);
            Tensor expected = withSentinel(c.tokens * c.width), lse = withSentinel(2 * 2 * seq);
            ScalarNomicOps.attention(c.q, c.k, c.v, c.mask, expected, lse, 2, seq, 2, 64);
            Tensor out = withSentinel(c.tokens * c.width), lseOut = withSentinel(2 * 2 * seq);
            KERNELS[1].forward(c.q, c.k, c.v, c.mask, out, lseOut, 2, seq, 2, 64);
            assertClose(expected, out, 2e-5, "peaked out seq=" + seq, c.tokens * c.width + 1);
            assertClose(lse, lseOut, 1e-5, "peaked lse seq=" + seq, 2 * 2 * seq + 1);
        }
    }

    @Test
    void matchesBackendAttentionOnShortSequences() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (int seq : new int[]{1, 9, 17, 100, 200}) {
                for (int[] hd : new int[][]{{1, 8}, {3, 20}, {12, 32}, {4, 64}}) {
                    int heads = hd[0], headDim = hd[1], batch = 4;
                    Case c = new Case(batch, seq, heads, headDim, false, 2f);
                    Tensor expected = withSentinel(c.tokens * c.width), fusedExpected = withSentinel(c.tokens * c.width);
                    cpu.attention(c.q, c.k, c.v, c.mask, expected, batch, seq, heads, headDim);
                    cpu.attention(c.qkv, c.mask, fusedExpected, batch, seq, heads, headDim);
                    Tensor out = withSentinel(c.tokens * c.width), fusedOut = withSentinel(c.tokens * c.width);
                    KERNELS[1].forward(c.q, c.k, c.v, c.mask, out, null, batch, seq, heads, headDim);
                    KERNELS[1].forward(c.qkv, c.mask, fusedOut, null, batch, seq, heads, headDim);
                    String what = "seq=%d heads=%d headDim=%d".formatted(seq, heads, headDim);
                    assertClose(expected, out, 1e-5, what, c.tokens * c.width + 1);
                    assertClose(fusedExpected, fusedOut, 1e-5, what + " fused", c.tokens * c.width + 1);
                }
            }
        }
    }

    @Test
    void paddingGivesFiniteRowsAndZeroForSequencesWithoutKeys() {
        // Right padding as tokenizers make it: lengths 300, 5 and 0 (no real key at all).
        int batch = 3, seq = 300, heads = 2, headDim = 32;
        Case c = new Case(batch, seq, heads, headDim, false, 1f);
        int[] lengths = {300, 5, 0};
        for (int b = 0; b < batch; b++) for (int t = 0; t < seq; t++) c.mask.set((long) b * seq + t, t < lengths[b] ? 1 : 0);
        Tensor out = withSentinel(c.tokens * c.width), lse = withSentinel(batch * heads * seq);
        KERNELS[2].forward(c.qkv, c.mask, out, lse, batch, seq, heads, headDim);
        for (long i = 0; i < (long) c.tokens * c.width; i++) assertTrue(Float.isFinite(out.get(i)), "output " + i);
        for (long i = 2L * seq * c.width; i < 3L * seq * c.width; i++) assertEquals(0f, out.get(i), "no keys: output 0");
        for (int i = 0; i < heads * seq; i++) assertEquals(Float.NEGATIVE_INFINITY, lse.get(2L * heads * seq + i), "no keys: lse");
        for (int i = 0; i < 2 * heads * seq; i++) assertTrue(Float.isFinite(lse.get(i)), "lse " + i);
        // Padded query rows of sequence 1 attend to its 5 real keys, as the reference's do.
        Tensor expected = withSentinel(c.tokens * c.width);
        ScalarNomicOps.attention(c.qkv, c.mask, expected, null, batch, seq, heads, headDim);
        assertClose(expected, out, 1e-5, "padded rows", c.tokens * c.width + 1);

        Tensor dOut = random(c.tokens * c.width, 1), dQkv = withSentinel(c.tokens * 3 * c.width);
        KERNELS[2].backward(c.qkv, c.mask, out, lse, dOut, dQkv, batch, seq, heads, headDim);
        for (long i = 0; i < (long) c.tokens * 3 * c.width; i++) assertTrue(Float.isFinite(dQkv.get(i)), "gradient " + i);
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < seq; t++)
                for (int col = c.width; col < 3 * c.width; col++) // padded keys: no dK, no dV
                    assertEquals(0f, dQkv.get(((long) b * seq + t) * 3 * c.width + col), "padded key b=" + b + " t=" + t);
        for (long i = 2L * seq * 3 * c.width; i < 3L * seq * 3 * c.width; i++) assertEquals(0f, dQkv.get(i), "no keys: gradient 0");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void backwardMatchesReference(boolean fused) {
        int[][] heads = {{1, 8}, {3, 20}, {2, 32}, {1, 64}};
        for (int seq : new int[]{1, 7, 65, 130, 300}) {
            for (int[] hd : heads) {
                for (boolean prefix : new boolean[]{false, true}) {
                    int h = hd[0], headDim = hd[1], batch = 4;
                    if (seq == 300 && headDim < 32) continue;
                    Case c = new Case(batch, seq, h, headDim, prefix, 1.5f);
                    int n = c.tokens * c.width;
                    Tensor dOut = random(n, 1);
                    // The forward's out and lse come from the kernel itself, as in training.
                    Tensor out = Tensor.allocate(arena, n), lse = Tensor.allocate(arena, batch * h * seq);
                    if (fused) KERNELS[0].forward(c.qkv, c.mask, out, lse, batch, seq, h, headDim);
                    else KERNELS[0].forward(c.q, c.k, c.v, c.mask, out, lse, batch, seq, h, headDim);
                    Tensor eQ = withSentinel(n), eK = withSentinel(n), eV = withSentinel(n), eQkv = withSentinel(3 * n);
                    if (fused) ScalarNomicOps.attentionBackward(c.qkv, c.mask, out, lse, dOut, eQkv, batch, seq, h, headDim);
                    else ScalarNomicOps.attentionBackward(c.q, c.k, c.v, c.mask, out, lse, dOut, eQ, eK, eV, batch, seq, h, headDim);
                    for (int t = 0; t < 3; t++) {
                        String what = "fused=%s seq=%d heads=%d headDim=%d prefix=%s threads=%d"
                                .formatted(fused, seq, h, headDim, prefix, t + 1);
                        if (fused) {
                            Tensor dQkv = withSentinel(3 * n);
                            KERNELS[t].backward(c.qkv, c.mask, out, lse, dOut, dQkv, batch, seq, h, headDim);
                            assertGradient(eQkv, dQkv, 3 * n, what + " dQkv");
                        } else {
                            Tensor dQ = withSentinel(n), dK = withSentinel(n), dV = withSentinel(n);
                            KERNELS[t].backward(c.q, c.k, c.v, c.mask, out, lse, dOut, dQ, dK, dV, batch, seq, h, headDim);
                            assertGradient(eQ, dQ, n, what + " dQ");
                            assertGradient(eK, dK, n, what + " dK");
                            assertGradient(eV, dV, n, what + " dV");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "flash"})
    void backwardMatchesFiniteDifferences(String name) {
        // Sequence 0 full, 1 padded, 2 a single token, 3 all padding; dOut on every row, padded ones included.
        int batch = 4, seq = 6, heads = 2, headDim = 5, width = heads * headDim, size = batch * seq * width;
        float[] mask = new float[batch * seq];
        int[] lengths = {6, 4, 1, 0};
        for (int b = 0; b < batch; b++) for (int t = 0; t < lengths[b]; t++) mask[b * seq + t] = 1;
        float[] q = gaussian(size), k = gaussian(size), v = gaussian(size), r = gaussian(size);
        Tensor qt = Tensor.of(arena, q, size), kt = Tensor.of(arena, k, size), vt = Tensor.of(arena, v, size);
        Tensor maskT = Tensor.of(arena, mask, mask.length), out = Tensor.allocate(arena, size);
        Tensor lse = Tensor.allocate(arena, batch * heads * seq);
        Tensor dQ = Tensor.allocate(arena, size), dK = Tensor.allocate(arena, size), dV = Tensor.allocate(arena, size);
        if (name.equals("scalar")) {
            ScalarNomicOps.attention(qt, kt, vt, maskT, out, lse, batch, seq, heads, headDim);
            ScalarNomicOps.attentionBackward(qt, kt, vt, maskT, out, lse, Tensor.of(arena, r, size), dQ, dK, dV, batch, seq, heads, headDim);
        } else {
            KERNELS[1].forward(qt, kt, vt, maskT, out, lse, batch, seq, heads, headDim);
            KERNELS[1].backward(qt, kt, vt, maskT, out, lse, Tensor.of(arena, r, size), dQ, dK, dV, batch, seq, heads, headDim);
        }
        double[] qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), rd = toDouble(r);
        GradCheck.assertClose(TrainingOpsGradientTest.attentionRef(qd, kd, vd, mask, batch, seq, heads, headDim, null),
                toDouble(out, size), 1e-5, name + " forward");
        double h = 1e-3, rel = 1e-3;
        GradCheck.assertClose(numeric(qd, x -> dot(rd, TrainingOpsGradientTest.attentionRef(x, kd, vd, mask, batch, seq, heads, headDim, null)), h), toDouble(dQ, size), rel, name + " dQ");
        GradCheck.assertClose(numeric(kd, x -> dot(rd, TrainingOpsGradientTest.attentionRef(qd, x, vd, mask, batch, seq, heads, headDim, null)), h), toDouble(dK, size), rel, name + " dK");
        GradCheck.assertClose(numeric(vd, x -> dot(rd, TrainingOpsGradientTest.attentionRef(qd, kd, x, mask, batch, seq, heads, headDim, null)), h), toDouble(dV, size), rel, name + " dV");
    }

    @Test
    void longSequenceScratchDoesNotGrowWithLength() {
        // 1 x 8192 tokens, 12 heads x 64: a T x T buffer would be 256 MiB per head.
        int seq = 8192, heads = 12, headDim = 64, width = heads * headDim;
        Tensor qkv = TestTensors.uniform(Tensor.allocate(arena, seq, 3 * width), seq * 3 * width, 1, random);
        Tensor mask = Tensor.allocate(arena, seq), out = withSentinel(seq * width), lse = withSentinel(heads * seq);
        mask.fill(1f);
        for (int t = seq - 100; t < seq; t++) mask.set(t, 0f); // some right padding
        FlashAttention flash = new FlashAttention(POOLS[1]);
        long t0 = System.nanoTime();
        flash.forward(qkv, mask, out, lse, 1, seq, heads, headDim);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long perThread = FlashAttention.forwardScratchBytes(headDim);
        System.out.printf("flash forward 1 x %d x (%d x %d), 2 threads: %d ms; scratch %d bytes (%d per thread); T x T floats: %d bytes%n",
                seq, heads, headDim, ms, flash.scratchBytes(), perThread, 4L * seq * seq);
        assertEquals(2 * perThread, flash.scratchBytes(), "each of the 2 threads holds exactly the formula's scratch");
        assertEquals(perThread, FlashAttention.forwardScratchBytes(headDim), "no sequence length in the formula");
        assertTrue(perThread < 256 * 1024, "scratch per thread " + perThread + " bytes: a few tiles, not T x T");
        assertEquals(SENTINEL, out.get((long) seq * width));
        assertEquals(SENTINEL, lse.get((long) heads * seq));
        // Spot checks against attention in double: the first, a middle, a padded and the last query row of some heads.
        for (int i : new int[]{0, 4097, seq - 50, seq - 1})
            for (int h : new int[]{0, 5, 11}) {
                double[] expected = new double[headDim];
                double expectedLse = rowInDouble(qkv, mask, seq, heads, headDim, h, i, expected);
                for (int d = 0; d < headDim; d++)
                    assertEquals(expected[d], out.get((long) i * width + h * headDim + d), 1e-5, "row " + i + " head " + h);
                assertEquals(expectedLse, lse.get((long) h * seq + i), 1e-5, "lse row " + i + " head " + h);
            }
        // The backward's scratch too (on a shorter sequence: its formula does not involve the length either).
        int s2 = 700;
        Tensor qkv2 = qkv.rows(0, s2), mask2 = Tensor.allocate(arena, s2), out2 = Tensor.allocate(arena, s2 * width);
        mask2.fill(1f);
        Tensor lse2 = Tensor.allocate(arena, heads * s2), dOut = random(s2 * width, 1), dQkv = Tensor.allocate(arena, s2 * 3 * width);
        flash.forward(qkv2, mask2, out2, lse2, 1, s2, heads, headDim);
        flash.backward(qkv2, mask2, out2, lse2, dOut, dQkv, 1, s2, heads, headDim);
        assertEquals(2 * FlashAttention.trainingScratchBytes(headDim), flash.scratchBytes());
    }

    /** One query row of one head of a fused qkv in double; returns its lse. */
    private static double rowInDouble(Tensor qkv, Tensor mask, int seq, int heads, int headDim, int h, int i, double[] out) {
        int width = heads * headDim, ld = 3 * width;
        double[] s = new double[seq];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < seq; j++) {
            if (mask.get(j) == 0) continue;
            double dot = 0;
            for (int d = 0; d < headDim; d++)
                dot += (double) qkv.get((long) i * ld + h * headDim + d) * qkv.get((long) j * ld + width + h * headDim + d);
            s[j] = dot / Math.sqrt(headDim);
            max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < seq; j++) {
            if (mask.get(j) == 0) continue;
            double p = Math.exp(s[j] - max);
            sum += p;
            for (int d = 0; d < headDim; d++) out[d] += p * qkv.get((long) j * ld + 2 * width + h * headDim + d);
        }
        for (int d = 0; d < headDim; d++) out[d] /= sum;
        return max + Math.log(sum);
    }

    /** Random q, k, v (separate and the same values fused) and a mask: scattered padding, or right padding. */
    private final class Case {
        final int tokens, width;
        final Tensor q, k, v, qkv, mask;

        Case(int batch, int seq, int heads, int headDim, boolean prefix, float scale) {
            tokens = batch * seq;
            width = heads * headDim;
            q = random(tokens * width, scale);
            k = random(tokens * width, scale);
            v = random(tokens * width, 1);
            qkv = Tensor.allocate(arena, tokens * 3 * width);
            for (int t = 0; t < tokens; t++)
                for (int c = 0; c < width; c++) {
                    qkv.set((long) t * 3 * width + c, q.get((long) t * width + c));
                    qkv.set((long) t * 3 * width + width + c, k.get((long) t * width + c));
                    qkv.set((long) t * 3 * width + 2 * width + c, v.get((long) t * width + c));
                }
            Tensor m = Tensor.allocate(arena, batch, seq);
            mask = prefix ? TestTensors.prefixMask(m, batch, seq, random) : TestTensors.scatteredMask(m, batch, seq, random);
        }
    }

    private Tensor random(int n, float scale) {
        return TestTensors.uniform(Tensor.allocate(arena, n), n, scale, random);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian();
        return v;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private Tensor withSentinel(int n) {
        Tensor t = Tensor.allocate(arena, n + 1);
        t.set(n, SENTINEL);
        return t;
    }

    /** {@code |a - e| <= tolerance * (1 + |e|)} for the first {@code n} elements; infinities must be equal, NaN never. */
    private static void assertClose(Tensor expected, Tensor actual, double tolerance, String what, long n) {
        for (long i = 0; i < n; i++) {
            float e = expected.get(i), a = actual.get(i);
            if (Float.isInfinite(e) && e == a) continue;
            if (!(Math.abs(a - e) <= tolerance * (1 + Math.abs(e))))
                fail(what + ": element " + i + " expected " + e + " but was " + a);
        }
    }

    /**
     * A gradient against the reference's: each component within 2e-4 of itself, or of 1% of the largest component
     * for smaller ones, plus 1e-5 of the largest and 1e-6 for float noise where the exact gradient is 0 (a sequence with a
     * single real key has dQ = dK = 0: P = 1 and dP − D cancels). Sentinel kept.
     */
    private static void assertGradient(Tensor expected, Tensor actual, int n, String what) {
        double max = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, Math.abs(expected.get(i)));
        for (int i = 0; i < n; i++) {
            double e = expected.get(i), a = actual.get(i);
            if (!(Math.abs(a - e) <= 2e-4 * Math.max(Math.abs(e), 0.01 * max) + 1e-5 * max + 1e-6))
                fail("%s[%d]: expected %.9g, got %.9g (max |expected| %.3g)".formatted(what, i, e, a, max));
        }
        assertEquals(SENTINEL, actual.get(n), what + " sentinel");
    }
}
