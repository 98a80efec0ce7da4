package dev.univar.cuda;

import dev.univar.TestTensors;

import dev.univar.cpu.ScalarTrainingBackend;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static dev.univar.cuda.CudaTesting.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The training operations of the CUDA backend (fp32) against {@link ScalarTrainingBackend} on ragged shapes, as
 * {@code CpuTrainingBackendTest} checks the CPU backend; both start from the same random accumulators. Run on host
 * tensors and on tensors the backend allocated. Skipped without a CUDA driver.
 */
class CudaTrainingBackendTest extends CudaFp32TestBase {

    private static final double REL = 2e-4;
    private final ScalarTrainingBackend ref = new ScalarTrainingBackend();
    private final Random random = new Random(11);

    CudaTrainingBackendTest() {
        super("fp32 training op");
    }

    private Tensor rnd(int n, double scale) {
        return TestTensors.gaussian(allocate(n), n, scale, random);
    }

    private Tensor copy(Tensor t) {
        Tensor c = allocate((int) t.size());
        c.copyFrom(t.toArray());
        return c;
    }

    private Tensor mask(int batch, int seq) {
        return TestTensors.prefixMask(allocate(batch * seq), batch, seq, random);
    }

    private void close(String check, Tensor expected, Tensor actual, String what) {
        cuda.synchronize();
        CudaTesting.assertRelative(summary, check, toDouble(expected, expected.size()), toDouble(actual, actual.size()),
                REL, what + (onDevice ? " [device tensors]" : " [host tensors]"));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void matmulBackward(boolean device) {
        start(device);
        for (int[] s : new int[][]{{100, 383, 64}, {37, 17, 385}, {300, 48, 31}, {1, 5, 3}}) {
            int m = s[0], n = s[1], k = s[2];
            Tensor dOut = rnd(m * n, 1), x = rnd(m * k, 1), w = rnd(n * k, 1), dW = rnd(n * k, 1), dB = rnd(n, 1);
            Tensor eX = rnd(m * k, 0), aX = rnd(m * k, 0), eW = copy(dW), aW = copy(dW), eB = copy(dB), aB = copy(dB);
            ref.matmulBackward(dOut, x, w, eX, eW, eB, m, n, k);
            cuda.matmulBackward(dOut, x, w, aX, aW, aB, m, n, k);
            String what = "matmulBackward %dx%dx%d".formatted(m, n, k);
            close("matmulBackward dX", eX, aX, what + " dX");
            close("matmulBackward dW", eW, aW, what + " dW");
            close("matmulBackward dBias", eB, aB, what + " dBias");
            // Without dX and dBias: only dW accumulates.
            Tensor eW2 = copy(dW), aW2 = copy(dW);
            ref.matmulBackward(dOut, x, w, null, eW2, null, m, n, k);
            cuda.matmulBackward(dOut, x, w, null, aW2, null, m, n, k);
            close("matmulBackward dW", eW2, aW2, what + " dW alone");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void layerNormTrainAndBackward(boolean device) {
        start(device);
        for (int[] s : new int[][]{{100, 384}, {17, 385}, {3, 31}, {1000, 64}}) {
            int rows = s[0], dim = s[1], size = rows * dim;
            Tensor x = rnd(size, 2), res = rnd(size, 1), g = rnd(dim, 1), b = rnd(dim, 1), dOut = rnd(size, 1);
            Tensor eO = rnd(size, 0), aO = rnd(size, 0), eH = rnd(size, 0), aH = rnd(size, 0), eR = rnd(rows, 0), aR = rnd(rows, 0);
            ref.layerNormTrain(x, res, g, b, 1e-12f, eO, eH, eR, rows, dim);
            cuda.layerNormTrain(x, res, g, b, 1e-12f, aO, aH, aR, rows, dim);
            String what = "layerNorm %dx%d".formatted(rows, dim);
            close("layerNormTrain out", eO, aO, what + " out");
            close("layerNormTrain xhat", eH, aH, what + " xhat");
            close("layerNormTrain rstd", eR, aR, what + " rstd");
            Tensor dG = rnd(dim, 1), dBeta = rnd(dim, 1);
            Tensor eY = rnd(size, 0), aY = rnd(size, 0), eG = copy(dG), aG = copy(dG), eBeta = copy(dBeta), aBeta = copy(dBeta);
            ref.layerNormBackward(dOut, eH, eR, g, eY, eG, eBeta, rows, dim);
            cuda.layerNormBackward(dOut, eH, eR, g, aY, aG, aBeta, rows, dim);
            close("layerNormBackward dY", eY, aY, what + " dY");
            close("layerNormBackward dGamma", eG, aG, what + " dGamma");
            close("layerNormBackward dBeta", eBeta, aBeta, what + " dBeta");
            // dY may alias dOut: the parameter gradients must still see dOut.
            Tensor dOut2 = copy(dOut), aG2 = copy(dG), aBeta2 = copy(dBeta);
            cuda.layerNormBackward(dOut2, eH, eR, g, dOut2, aG2, aBeta2, rows, dim);
            close("layerNormBackward dY", eY, dOut2, what + " dY in place");
            close("layerNormBackward dGamma", eG, aG2, what + " dGamma, dY in place");
            close("layerNormBackward dBeta", eBeta, aBeta2, what + " dBeta, dY in place");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void geluBackward(boolean device) {
        start(device);
        for (int n : new int[]{1, 17, 5000, 100_003}) {
            Tensor x = rnd(n, 3), dOut = rnd(n, 1), e = rnd(n, 0), a = rnd(n, 0);
            ref.geluBackward(x, dOut, e, n);
            cuda.geluBackward(x, dOut, a, n);
            cuda.synchronize();
            double worst = 0;
            // Element-wise relative: GELU' matters in its tails too.
            for (int i = 0; i < n; i++) {
                assertEquals(e.get(i), a.get(i), 1e-5 * Math.abs(e.get(i)) + 1e-7, "gelu' at " + x.get(i));
                worst = Math.max(worst, Math.abs(e.get(i) - a.get(i)));
            }
            summary.add("geluBackward", worst, 0, n);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void attentionForwardTrainAndBackward(boolean device) {
        start(device);
        for (int[] s : new int[][]{{3, 33, 3, 17}, {2, 7, 2, 32}, {4, 64, 2, 8}, {1, 1, 1, 1}, {2, 130, 12, 32}}) {
            int batch = s[0], seq = s[1], heads = s[2], hd = s[3], size = batch * seq * heads * hd;
            Tensor q = rnd(size, 1), k = rnd(size, 1), v = rnd(size, 1), dOut = rnd(size, 1);
            Tensor mask = mask(batch, seq);
            int ps = batch * heads * seq * seq;
            Tensor eO = rnd(size, 0), aO = rnd(size, 0), eP = rnd(ps, 0), aP = rnd(ps, 1);
            ref.attentionForwardTrain(q, k, v, mask, eO, eP, batch, seq, heads, hd);
            cuda.attentionForwardTrain(q, k, v, mask, aO, aP, batch, seq, heads, hd);
            String what = "attention b=%d seq=%d heads=%d hd=%d".formatted(batch, seq, heads, hd);
            close("attentionForwardTrain out", eO, aO, what + " out");
            close("attentionForwardTrain probs", eP, aP, what + " probs");
            Tensor[] e = {rnd(size, 0), rnd(size, 0), rnd(size, 0)}, a = {rnd(size, 1), rnd(size, 1), rnd(size, 1)};
            ref.attentionBackward(q, k, v, mask, eP, dOut, e[0], e[1], e[2], batch, seq, heads, hd);
            cuda.attentionBackward(q, k, v, mask, eP, dOut, a[0], a[1], a[2], batch, seq, heads, hd);
            close("attentionBackward dQ", e[0], a[0], what + " dQ");
            close("attentionBackward dK", e[1], a[1], what + " dK");
            close("attentionBackward dV", e[2], a[2], what + " dV");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void embeddingsPoolingAndNormalisationBackward(boolean device) {
        start(device);
        int batch = 5, seq = 13, hidden = 385, vocab = 11, tokens = batch * seq;
        int[] ids = new int[tokens], types = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            ids[t] = random.nextInt(vocab);
            types[t] = random.nextInt(2);
        }
        Tensor dOut = rnd(tokens * hidden, 1), w = rnd(vocab * hidden, 1), p = rnd(seq * hidden, 1), ty = rnd(2 * hidden, 1);
        for (int[] typeIds : new int[][]{types, null}) {
            Tensor ew = copy(w), aw = copy(w), ep = copy(p), ap = copy(p), et = copy(ty), at = copy(ty);
            ref.embeddingsBackward(ids, typeIds, dOut, ew, ep, et, batch, seq, hidden);
            cuda.embeddingsBackward(ids, typeIds, dOut, aw, ap, at, batch, seq, hidden);
            String what = typeIds == null ? " (type ids null)" : "";
            close("embeddingsBackward dWord", ew, aw, "embeddings dWord" + what);
            close("embeddingsBackward dPosition", ep, ap, "embeddings dPosition" + what);
            close("embeddingsBackward dTokenType", et, at, "embeddings dTokenType" + what);
            Tensor ew2 = copy(w), aw2 = copy(w), et2 = copy(ty), at2 = copy(ty);
            ref.embeddingsBackward(ids, typeIds, dOut, ew2, null, et2, batch, seq, hidden);
            cuda.embeddingsBackward(ids, typeIds, dOut, aw2, null, at2, batch, seq, hidden);
            close("embeddingsBackward dWord", ew2, aw2, "embeddings dWord without positions" + what);
            close("embeddingsBackward dTokenType", et2, at2, "embeddings dTokenType without positions" + what);
        }

        Tensor mask = mask(batch, seq), dPool = rnd(batch * hidden, 1);
        Tensor eX = rnd(tokens * hidden, 0), aX = rnd(tokens * hidden, 1);
        ref.meanPoolBackward(dPool, mask, eX, batch, seq, hidden);
        cuda.meanPoolBackward(dPool, mask, aX, batch, seq, hidden);
        close("meanPoolBackward", eX, aX, "meanPoolBackward");

        Tensor x = rnd(batch * hidden, 1), eN = rnd(batch * hidden, 0), aN = rnd(batch * hidden, 0);
        ref.l2NormalizeBackward(x, dPool, eN, batch, hidden);
        cuda.l2NormalizeBackward(x, dPool, aN, batch, hidden);
        close("l2NormalizeBackward", eN, aN, "l2NormalizeBackward");
        Tensor inPlace = copy(dPool); // dX may alias dOut
        cuda.l2NormalizeBackward(x, inPlace, inPlace, batch, hidden);
        close("l2NormalizeBackward", eN, inPlace, "l2NormalizeBackward in place");
        Tensor zeroRow = rnd(hidden, 0), eZ = rnd(hidden, 0), aZ = rnd(hidden, 0); // the clamped norm
        ref.l2NormalizeBackward(zeroRow, dPool, eZ, 1, hidden);
        cuda.l2NormalizeBackward(zeroRow, dPool, aZ, 1, hidden);
        close("l2NormalizeBackward", eZ, aZ, "l2NormalizeBackward of a zero row");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void optimizerOperations(boolean device) {
        start(device);
        for (int n : new int[]{1, 31, 70_001}) {
            Tensor p = rnd(n, 1), g = rnd(n, 1), m = rnd(n, 0.1), v = rnd(n, 0.1);
            for (int i = 0; i < n; i++) v.set(i, v.get(i) * v.get(i)); // second moments are not negative
            Tensor ep = copy(p), ap = copy(p), em = copy(m), am = copy(m), ev = copy(v), av = copy(v);
            for (long step : new long[]{1, 2, 1000}) {
                ref.adamwStep(ep, g, em, ev, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
                cuda.adamwStep(ap, g, am, av, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
            }
            close("adamwStep param", ep, ap, "adamw param n=" + n);
            close("adamwStep m", em, am, "adamw m n=" + n);
            close("adamwStep v", ev, av, "adamw v n=" + n);
            double expected = ref.sumOfSquares(g, n), actual = cuda.sumOfSquares(g, n);
            assertEquals(expected, actual, 1e-6 * expected, "sumOfSquares n=" + n);
            summary.add("sumOfSquares", Math.abs(expected - actual), Math.abs(expected - actual) / expected, n);
            Tensor es = copy(g), as = copy(g);
            ref.scale(es, 0.37f, n);
            cuda.scale(as, 0.37f, n);
            close("scale", es, as, "scale n=" + n);
            cuda.zero(as, n - 1);
            cuda.synchronize();
            for (int i = 0; i < n - 1; i++) assertEquals(0f, as.get(i), "zero");
            assertEquals(es.get(n - 1), as.get(n - 1), "zero leaves the rest");
        }
    }
}
