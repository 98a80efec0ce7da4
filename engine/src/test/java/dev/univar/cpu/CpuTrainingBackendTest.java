package dev.univar.cpu;

import dev.univar.TestTensors;

import dev.univar.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static dev.univar.cpu.GradCheck.assertClose;
import static dev.univar.cpu.GradCheck.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * CpuTrainingBackend against ScalarTrainingBackend on ragged shapes big enough to be split across threads and
 * to exercise vector tails, with 1, 2 and 3 threads. Both start from the same random accumulators.
 */
class CpuTrainingBackendTest {

    private static final double REL = 2e-4;
    private final ScalarTrainingBackend ref = new ScalarTrainingBackend();
    private final Arena arena = Arena.ofAuto();
    private final Random random = new Random(11);

    private Tensor rnd(int n, double scale) {
        return TestTensors.gaussian(Tensor.allocate(arena, n), n, scale, random);
    }

    private Tensor copy(Tensor t) {
        return Tensor.of(arena, t.toArray(), (int) t.size());
    }

    private static void close(Tensor expected, Tensor actual, String what) {
        assertClose(toDouble(expected, (int) expected.size()), toDouble(actual, (int) actual.size()), REL, what);
    }

    private Tensor mask(int batch, int seq) {
        return TestTensors.prefixMask(Tensor.allocate(arena, batch * seq), batch, seq, random);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matchesScalar(int threads) {
        try (CpuTrainingBackend cpu = new CpuTrainingBackend(threads)) {
            for (int[] s : new int[][]{{100, 383, 64}, {37, 17, 385}, {300, 48, 31}, {1, 5, 3}}) {
                int m = s[0], n = s[1], k = s[2];
                Tensor dOut = rnd(m * n, 1), x = rnd(m * k, 1), w = rnd(n * k, 1), dW = rnd(n * k, 1), dB = rnd(n, 1);
                Tensor eX = rnd(m * k, 0), aX = rnd(m * k, 0), eW = copy(dW), aW = copy(dW), eB = copy(dB), aB = copy(dB);
                ref.matmulBackward(dOut, x, w, eX, eW, eB, m, n, k);
                cpu.matmulBackward(dOut, x, w, aX, aW, aB, m, n, k);
                String what = "matmulBackward %dx%dx%d threads=%d".formatted(m, n, k, threads);
                close(eX, aX, what + " dX");
                close(eW, aW, what + " dW");
                close(eB, aB, what + " dBias");
            }
            for (int[] s : new int[][]{{100, 384}, {17, 385}, {3, 31}}) {
                int rows = s[0], dim = s[1], size = rows * dim;
                Tensor x = rnd(size, 2), res = rnd(size, 1), g = rnd(dim, 1), b = rnd(dim, 1), dOut = rnd(size, 1);
                Tensor eO = rnd(size, 0), aO = rnd(size, 0), eH = rnd(size, 0), aH = rnd(size, 0), eR = rnd(rows, 0), aR = rnd(rows, 0);
                ref.layerNormTrain(x, res, g, b, 1e-12f, eO, eH, eR, rows, dim);
                cpu.layerNormTrain(x, res, g, b, 1e-12f, aO, aH, aR, rows, dim);
                String what = "layerNorm %dx%d threads=%d".formatted(rows, dim, threads);
                close(eO, aO, what + " out");
                close(eH, aH, what + " xhat");
                close(eR, aR, what + " rstd");
                Tensor dG = rnd(dim, 1), dBeta = rnd(dim, 1);
                Tensor eY = rnd(size, 0), aY = rnd(size, 0), eG = copy(dG), aG = copy(dG), eBeta = copy(dBeta), aBeta = copy(dBeta);
                ref.layerNormBackward(dOut, eH, eR, g, eY, eG, eBeta, rows, dim);
                cpu.layerNormBackward(dOut, eH, eR, g, aY, aG, aBeta, rows, dim);
                close(eY, aY, what + " dY");
                close(eG, aG, what + " dGamma");
                close(eBeta, aBeta, what + " dBeta");
            }
            for (int n : new int[]{1, 17, 5000, 100_003}) {
                Tensor x = rnd(n, 3), dOut = rnd(n, 1), e = rnd(n, 0), a = rnd(n, 0);
                ref.geluBackward(x, dOut, e, n);
                cpu.geluBackward(x, dOut, a, n);
                // Element-wise relative: GELU' matters in its tails too.
                for (int i = 0; i < n; i++)
                    assertEquals(e.get(i), a.get(i), 1e-5 * Math.abs(e.get(i)) + 1e-7, "gelu' at " + x.get(i));
            }
            for (int[] s : new int[][]{{3, 33, 3, 17}, {2, 7, 2, 32}, {4, 64, 2, 8}, {1, 1, 1, 1}}) {
                int batch = s[0], seq = s[1], heads = s[2], hd = s[3], size = batch * seq * heads * hd;
                Tensor q = rnd(size, 1), k = rnd(size, 1), v = rnd(size, 1), dOut = rnd(size, 1);
                Tensor mask = mask(batch, seq);
                int ps = batch * heads * seq * seq;
                Tensor eO = rnd(size, 0), aO = rnd(size, 0), eP = rnd(ps, 0), aP = rnd(ps, 1);
                ref.attentionForwardTrain(q, k, v, mask, eO, eP, batch, seq, heads, hd);
                cpu.attentionForwardTrain(q, k, v, mask, aO, aP, batch, seq, heads, hd);
                String what = "attention b=%d seq=%d heads=%d hd=%d threads=%d".formatted(batch, seq, heads, hd, threads);
                close(eO, aO, what + " out");
                close(eP, aP, what + " probs");
                Tensor[] e = {rnd(size, 0), rnd(size, 0), rnd(size, 0)}, a = {rnd(size, 1), rnd(size, 1), rnd(size, 1)};
                ref.attentionBackward(q, k, v, mask, eP, dOut, e[0], e[1], e[2], batch, seq, heads, hd);
                cpu.attentionBackward(q, k, v, mask, eP, dOut, a[0], a[1], a[2], batch, seq, heads, hd);
                close(e[0], a[0], what + " dQ");
                close(e[1], a[1], what + " dK");
                close(e[2], a[2], what + " dV");
            }
            {
                int batch = 5, seq = 13, hidden = 385, vocab = 11, tokens = batch * seq;
                int[] ids = new int[tokens], types = new int[tokens];
                for (int t = 0; t < tokens; t++) {
                    ids[t] = random.nextInt(vocab);
                    types[t] = random.nextInt(2);
                }
                Tensor dOut = rnd(tokens * hidden, 1), w = rnd(vocab * hidden, 1), p = rnd(seq * hidden, 1), ty = rnd(2 * hidden, 1);
                Tensor ew = copy(w), aw = copy(w), ep = copy(p), ap = copy(p), et = copy(ty), at = copy(ty);
                ref.embeddingsBackward(ids, types, dOut, ew, ep, et, batch, seq, hidden);
                cpu.embeddingsBackward(ids, types, dOut, aw, ap, at, batch, seq, hidden);
                close(ew, aw, "embeddings dWord");
                close(ep, ap, "embeddings dPosition");
                close(et, at, "embeddings dTokenType");
                Tensor ew2 = copy(w), aw2 = copy(w), et2 = copy(ty), at2 = copy(ty);
                ref.embeddingsBackward(ids, types, dOut, ew2, null, et2, batch, seq, hidden);
                cpu.embeddingsBackward(ids, types, dOut, aw2, null, at2, batch, seq, hidden);
                close(ew2, aw2, "embeddings dWord without positions");
                close(et2, at2, "embeddings dTokenType without positions");
                close(ew, aw2, "embeddings dWord: the same with or without positions");

                Tensor mask = mask(batch, seq), dPool = rnd(batch * hidden, 1);
                Tensor eX = rnd(tokens * hidden, 0), aX = rnd(tokens * hidden, 1);
                ref.meanPoolBackward(dPool, mask, eX, batch, seq, hidden);
                cpu.meanPoolBackward(dPool, mask, aX, batch, seq, hidden);
                close(eX, aX, "meanPoolBackward");

                Tensor x = rnd(batch * hidden, 1), eN = rnd(batch * hidden, 0), aN = rnd(batch * hidden, 0);
                ref.l2NormalizeBackward(x, dPool, eN, batch, hidden);
                cpu.l2NormalizeBackward(x, dPool, aN, batch, hidden);
                close(eN, aN, "l2NormalizeBackward");
            }
            for (int n : new int[]{1, 31, 70_001}) {
                Tensor p = rnd(n, 1), g = rnd(n, 1), m = rnd(n, 0.1), v = rnd(n, 0.1);
                for (int i = 0; i < n; i++) v.set(i, v.get(i) * v.get(i)); // second moments are not negative
                Tensor ep = copy(p), ap = copy(p), em = copy(m), am = copy(m), ev = copy(v), av = copy(v);
                for (long step : new long[]{1, 2, 1000}) {
                    ref.adamwStep(ep, g, em, ev, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
                    cpu.adamwStep(ap, g, am, av, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
                }
                close(ep, ap, "adamw param n=" + n);
                close(em, am, "adamw m n=" + n);
                close(ev, av, "adamw v n=" + n);
                assertEquals(ref.sumOfSquares(g, n), cpu.sumOfSquares(g, n), 1e-5 * ref.sumOfSquares(g, n), "sumOfSquares n=" + n);
                Tensor es = copy(g), as = copy(g);
                ref.scale(es, 0.37f, n);
                cpu.scale(as, 0.37f, n);
                close(es, as, "scale n=" + n);
                cpu.zero(as, n - 1);
                for (int i = 0; i < n - 1; i++) assertEquals(0f, as.get(i), "zero");
                assertEquals(es.get(n - 1), as.get(n - 1), "zero leaves the rest");
            }
        }
    }
}
