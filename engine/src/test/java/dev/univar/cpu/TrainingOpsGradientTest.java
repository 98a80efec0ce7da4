package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static dev.univar.cpu.GradCheck.assertClose;
import static dev.univar.cpu.GradCheck.minus;
import static dev.univar.cpu.GradCheck.numeric;
import static dev.univar.cpu.GradCheck.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every backward operation of both training backends against central finite differences of a double-precision
 * forward written here: the loss is {@code sum(R ∘ out)} for a random R, so R is the incoming gradient. Sizes are
 * ragged (not multiples of a vector) and masks include padding and an all-padding sequence. Parameter gradients
 * start from random values to check that they accumulate.
 */
class TrainingOpsGradientTest {

    private static final double H = 1e-3, REL = 1e-3;
    private static CpuTrainingBackend cpu;
    private static final ScalarTrainingBackend scalar = new ScalarTrainingBackend();
    private final Arena arena = Arena.ofAuto();
    private final Random random = new Random(7);

    @BeforeAll
    static void start() {
        cpu = new CpuTrainingBackend(2);
    }

    @AfterAll
    static void stop() {
        cpu.close();
    }

    private static TrainingBackend backend(String name) {
        return name.equals("cpu") ? cpu : scalar;
    }

    private float[] randomFloats(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * random.nextGaussian());
        return v;
    }

    private Tensor tensor(float[] v) {
        return Tensor.of(arena, v, v.length);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void matmul(String name) {
        TrainingBackend be = backend(name);
        for (int[] s : new int[][]{{5, 7, 3}, {9, 19, 17}, {1, 33, 2}}) {
            int m = s[0], n = s[1], k = s[2];
            float[] x = randomFloats(m * k, 1), w = randomFloats(n * k, 1), b = randomFloats(n, 1), r = randomFloats(m * n, 1);
            float[] dW0 = randomFloats(n * k, 1), dB0 = randomFloats(n, 1);
            Tensor dX = tensor(new float[m * k]), dW = tensor(dW0), dB = tensor(dB0);
            be.matmulBackward(tensor(r), tensor(x), tensor(w), dX, dW, dB, m, n, k);
            double[] xd = toDouble(x), wd = toDouble(w), bd = toDouble(b), rd = toDouble(r);
            String what = name + " matmul %dx%dx%d".formatted(m, n, k);
            assertClose(numeric(xd, xx -> dot(rd, linear(xx, wd, bd, m, n, k)), H), toDouble(dX, m * k), REL, what + " dX");
            assertClose(numeric(wd, ww -> dot(rd, linear(xd, ww, bd, m, n, k)), H), minus(toDouble(dW, n * k), toDouble(dW0)), REL, what + " dW");
            assertClose(numeric(bd, bb -> dot(rd, linear(xd, wd, bb, m, n, k)), H), minus(toDouble(dB, n), toDouble(dB0)), REL, what + " dBias");
            // Without dX and dBias: dW alone, accumulated a second time.
            be.matmulBackward(tensor(r), tensor(x), tensor(w), null, dW, null, m, n, k);
            double[] twice = minus(toDouble(dW, n * k), toDouble(dW0));
            for (int i = 0; i < twice.length; i++) twice[i] /= 2;
            assertClose(numeric(wd, ww -> dot(rd, linear(xd, ww, bd, m, n, k)), H), twice, REL, what + " dW accumulated twice");
        }
    }

    static double[] linear(double[] x, double[] w, double[] b, int m, int n, int k) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = b == null ? 0 : b[j];
                for (int p = 0; p < k; p++) s += x[i * k + p] * w[j * k + p];
                out[i * n + j] = s;
            }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void layerNorm(String name) {
        TrainingBackend be = backend(name);
        for (int[] s : new int[][]{{4, 7}, {3, 19}, {2, 37}}) {
            int rows = s[0], dim = s[1];
            float eps = 1e-5f;
            for (boolean withResidual : new boolean[]{false, true}) {
                float[] x = randomFloats(rows * dim, 2), res = randomFloats(rows * dim, 1), g = randomFloats(dim, 1),
                        b = randomFloats(dim, 1), r = randomFloats(rows * dim, 1);
                float[] dG0 = randomFloats(dim, 1), dB0 = randomFloats(dim, 1);
                Tensor out = tensor(new float[rows * dim]), xhat = tensor(new float[rows * dim]), rstd = tensor(new float[rows]);
                be.layerNormTrain(tensor(x), withResidual ? tensor(res) : null, tensor(g), tensor(b), eps, out, xhat, rstd, rows, dim);
                Tensor dY = tensor(r), dG = tensor(dG0), dB = tensor(dB0);
                be.layerNormBackward(dY, xhat, rstd, tensor(g), dY, dG, dB, rows, dim); // dY aliases dOut
                double[] xd = toDouble(x), rsd = withResidual ? toDouble(res) : new double[rows * dim];
                double[] gd = toDouble(g), bd = toDouble(b), rd = toDouble(r);
                String what = name + " layerNorm %dx%d residual=%s".formatted(rows, dim, withResidual);
                assertClose(layerNormRef(xd, rsd, gd, bd, eps, rows, dim), toDouble(out, rows * dim), 1e-5, what + " forward");
                assertClose(numeric(xd, xx -> dot(rd, layerNormRef(xx, rsd, gd, bd, eps, rows, dim)), H), toDouble(dY, rows * dim), REL, what + " dX");
                assertClose(numeric(gd, gg -> dot(rd, layerNormRef(xd, rsd, gg, bd, eps, rows, dim)), H), minus(toDouble(dG, dim), toDouble(dG0)), REL, what + " dGamma");
                assertClose(numeric(bd, bb -> dot(rd, layerNormRef(xd, rsd, gd, bb, eps, rows, dim)), H), minus(toDouble(dB, dim), toDouble(dB0)), REL, what + " dBeta");
            }
        }
    }

    static double[] layerNormRef(double[] x, double[] res, double[] g, double[] b, double eps, int rows, int dim) {
        double[] out = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < dim; i++) mean += x[r * dim + i] + res[r * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) {
                double d = x[r * dim + i] + res[r * dim + i] - mean;
                var += d * d;
            }
            var /= dim;
            for (int i = 0; i < dim; i++)
                out[r * dim + i] = (x[r * dim + i] + res[r * dim + i] - mean) / Math.sqrt(var + eps) * g[i] + b[i];
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void gelu(String name) {
        TrainingBackend be = backend(name);
        float[] special = {0f, 1e-6f, -1e-6f, 1e-4f, -2e-3f, 0.5f, -0.5f, 1f, -1f, 1.5f, -3f, 3f, -6f, 6f, -9f, 12f};
        float[] x = new float[special.length + 53];
        System.arraycopy(special, 0, x, 0, special.length);
        for (int i = special.length; i < x.length; i++) x[i] = (float) (3 * random.nextGaussian());
        float[] r = randomFloats(x.length, 1);
        Tensor dX = tensor(new float[x.length]);
        be.geluBackward(tensor(x), tensor(r), dX, x.length);
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            expected[i] = r[i] * (ScalarBackend.gelu(xi + H) - ScalarBackend.gelu(xi - H)) / (2 * H);
        }
        // Element-wise: each component relative to itself (with a floor far below any component of interest).
        for (int i = 0; i < x.length; i++)
            assertEquals(expected[i], dX.get(i), REL * Math.abs(expected[i]) + 1e-7, name + " gelu' at " + x[i]);
        // In place (dX aliasing dOut).
        Tensor inPlace = tensor(r);
        be.geluBackward(tensor(x), inPlace, inPlace, x.length);
        for (int i = 0; i < x.length; i++) assertEquals(dX.get(i), inPlace.get(i), 0f, name + " gelu' in place");
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void attention(String name) {
        TrainingBackend be = backend(name);
        // Sequence 0 full, 1 padded, 2 a single token, 3 all padding.
        int batch = 4, seq = 6, heads = 2, headDim = 5, width = heads * headDim, size = batch * seq * width;
        float[] mask = new float[batch * seq];
        int[] lengths = {6, 4, 1, 0};
        for (int b = 0; b < batch; b++) for (int t = 0; t < lengths[b]; t++) mask[b * seq + t] = 1;
        float[] q = randomFloats(size, 1), k = randomFloats(size, 1), v = randomFloats(size, 1), r = randomFloats(size, 1);
        Tensor out = tensor(new float[size]), probs = tensor(new float[batch * heads * seq * seq]);
        Tensor maskT = tensor(mask);
        be.attentionForwardTrain(tensor(q), tensor(k), tensor(v), maskT, out, probs, batch, seq, heads, headDim);
        Tensor dQ = tensor(new float[size]), dK = tensor(new float[size]), dV = tensor(new float[size]);
        be.attentionBackward(tensor(q), tensor(k), tensor(v), maskT, probs, tensor(r), dQ, dK, dV, batch, seq, heads, headDim);
        double[] qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), rd = toDouble(r);
        double[] reference = attentionRef(qd, kd, vd, mask, batch, seq, heads, headDim, null);
        assertClose(reference, toDouble(out, size), 1e-5, name + " attention forward");
        double[] p = new double[batch * heads * seq * seq];
        attentionRef(qd, kd, vd, mask, batch, seq, heads, headDim, p);
        assertClose(p, toDouble(probs, p.length), 1e-5, name + " attention probabilities");
        assertClose(numeric(qd, x -> dot(rd, attentionRef(x, kd, vd, mask, batch, seq, heads, headDim, null)), H), toDouble(dQ, size), REL, name + " dQ");
        assertClose(numeric(kd, x -> dot(rd, attentionRef(qd, x, vd, mask, batch, seq, heads, headDim, null)), H), toDouble(dK, size), REL, name + " dK");
        assertClose(numeric(vd, x -> dot(rd, attentionRef(qd, kd, x, mask, batch, seq, heads, headDim, null)), H), toDouble(dV, size), REL, name + " dV");
    }

    /** Masked multi-head attention in double; fills {@code probs} when not null. */
    static double[] attentionRef(double[] q, double[] k, double[] v, float[] mask, int batch, int seq, int heads,
                                 int headDim, double[] probs) {
        int width = heads * headDim;
        double[] out = new double[batch * seq * width];
        double[] p = new double[seq];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < seq; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < seq; j++) {
                        double s = 0;
                        for (int d = 0; d < headDim; d++)
                            s += q[(b * seq + i) * width + h * headDim + d] * k[(b * seq + j) * width + h * headDim + d];
                        p[j] = s / Math.sqrt(headDim);
                        if (mask[b * seq + j] != 0) max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < seq; j++) {
                        p[j] = mask[b * seq + j] != 0 ? Math.exp(p[j] - max) : 0;
                        sum += p[j];
                    }
                    for (int j = 0; j < seq; j++) {
                        p[j] = sum > 0 ? p[j] / sum : 0;
                        if (probs != null) probs[((b * heads + h) * seq + i) * seq + j] = p[j];
                    }
                    for (int d = 0; d < headDim; d++) {
                        double s = 0;
                        for (int j = 0; j < seq; j++) s += p[j] * v[(b * seq + j) * width + h * headDim + d];
                        out[(b * seq + i) * width + h * headDim + d] = s;
                    }
                }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void embeddings(String name) {
        TrainingBackend be = backend(name);
        int batch = 3, seq = 5, hidden = 19, vocab = 7, types = 2, tokens = batch * seq;
        int[] ids = new int[tokens], typeIds = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            ids[t] = random.nextInt(vocab); // repeats: scatter-add must sum them
            typeIds[t] = random.nextInt(types);
        }
        float[] r = randomFloats(tokens * hidden, 1);
        float[] w0 = randomFloats(vocab * hidden, 1), p0 = randomFloats(seq * hidden, 1), t0 = randomFloats(types * hidden, 1);
        for (boolean withTypes : new boolean[]{true, false}) {
            for (boolean withPositions : new boolean[]{true, false}) {
                int[] ty = withTypes ? typeIds : null;
                Tensor dW = tensor(w0), dP = withPositions ? tensor(p0) : null, dT = tensor(t0);
                be.embeddingsBackward(ids, ty, tensor(r), dW, dP, dT, batch, seq, hidden);
                double[] expW = new double[vocab * hidden], expP = new double[seq * hidden], expT = new double[types * hidden];
                for (int tok = 0; tok < tokens; tok++)
                    for (int i = 0; i < hidden; i++) {
                        expW[ids[tok] * hidden + i] += r[tok * hidden + i];
                        expP[(tok % seq) * hidden + i] += r[tok * hidden + i];
                        expT[(ty == null ? 0 : ty[tok]) * hidden + i] += r[tok * hidden + i];
                    }
                String what = name + " embeddings types=" + withTypes + " positions=" + withPositions;
                assertClose(expW, minus(toDouble(dW, vocab * hidden), toDouble(w0)), 1e-5, what + " dWord");
                if (withPositions) assertClose(expP, minus(toDouble(dP, seq * hidden), toDouble(p0)), 1e-5, what + " dPosition");
                assertClose(expT, minus(toDouble(dT, types * hidden), toDouble(t0)), 1e-5, what + " dTokenType");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void meanPoolAndL2Normalize(String name) {
        TrainingBackend be = backend(name);
        int batch = 4, seq = 5, dim = 21;
        float[] mask = new float[batch * seq];
        int[] lengths = {5, 3, 1, 0};
        for (int b = 0; b < batch; b++) for (int t = 0; t < lengths[b]; t++) mask[b * seq + t] = 1;
        float[] x = randomFloats(batch * seq * dim, 1), r = randomFloats(batch * dim, 1);
        Tensor dX = tensor(new float[batch * seq * dim]);
        be.meanPoolBackward(tensor(r), tensor(mask), dX, batch, seq, dim);
        double[] xd = toDouble(x), rd = toDouble(r);
        assertClose(numeric(xd, xx -> dot(rd, meanPoolRef(xx, mask, batch, seq, dim)), H), toDouble(dX, x.length), REL, name + " meanPool");

        int rows = 3;
        float[] y = randomFloats(rows * dim, 2), ry = randomFloats(rows * dim, 1);
        Tensor dY = tensor(ry);
        be.l2NormalizeBackward(tensor(y), dY, dY, rows, dim); // in place
        double[] yd = toDouble(y), ryd = toDouble(ry);
        assertClose(numeric(yd, yy -> dot(ryd, l2Ref(yy, rows, dim)), H), toDouble(dY, rows * dim), REL, name + " l2Normalize");
    }

    static double[] meanPoolRef(double[] x, float[] mask, int batch, int seq, int dim) {
        double[] out = new double[batch * dim];
        for (int b = 0; b < batch; b++) {
            double count = 0;
            for (int t = 0; t < seq; t++) count += mask[b * seq + t];
            for (int i = 0; i < dim; i++) {
                double s = 0;
                for (int t = 0; t < seq; t++) s += mask[b * seq + t] * x[(b * seq + t) * dim + i];
                out[b * dim + i] = s / Math.max(count, 1e-9);
            }
        }
        return out;
    }

    static double[] l2Ref(double[] x, int rows, int dim) {
        double[] out = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < dim; i++) s += x[r * dim + i] * x[r * dim + i];
            double n = Math.max(Math.sqrt(s), 1e-12);
            for (int i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] / n;
        }
        return out;
    }
}
