package dev.univar.nn;

import dev.univar.cpu.CpuTrainingBackend;
import dev.univar.cpu.ScalarBackend;
import dev.univar.cpu.ScalarTrainingBackend;
import dev.univar.model.BertConfig;
import dev.univar.model.Encoder;
import dev.univar.model.Gradients;
import dev.univar.model.TrainingGraph;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;
import dev.univar.train.InfoNce;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole training graph: a 2-layer tiny encoder, mean pooling, L2 normalisation and symmetric InfoNCE. The
 * gradient of the loss with respect to a sample of every kind of parameter is checked against central finite
 * differences of a double-precision reimplementation of the same forward, written here from the BERT definition.
 */
class BertTrainingGraphTest {

    private static final BertConfig CONFIG = TinyBert.config(30, 16, 2, 2, 24, 12);
    /** 2 × 3 texts: rows [0, 3) are the anchors, [3, 6) their positives; ragged lengths, so padding. */
    private static final int PAIRS = 3;
    private static final double TEMPERATURE = InfoNce.DEFAULT_TEMPERATURE;

    private final Arena arena = Arena.ofShared();

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void lossGradientMatchesFiniteDifferences(String backendName) {
        Weights weights = TinyBert.weights(CONFIG, arena, 5, 0.3);
        Batch batch = TinyBert.batch(CONFIG.vocabSize(), 9, 7, 3, 5, 6, 1, 4);
        try (TrainingBackend backend = backendName.equals("cpu") ? new CpuTrainingBackend(2) : new ScalarTrainingBackend();
             TrainingGraph graph = new TrainingGraph(weights, backend);
             Gradients grads = new Gradients(CONFIG)) {
            int hidden = CONFIG.hiddenSize();
            Tensor emb = graph.forward(batch);
            Tensor dEmb = Tensor.allocate(arena, 2 * PAIRS, hidden);
            double loss = InfoNce.lossAndGradients(emb.rows(0, PAIRS), emb.rows(PAIRS, PAIRS), PAIRS, hidden, TEMPERATURE,
                    dEmb.rows(0, PAIRS), dEmb.rows(PAIRS, PAIRS));
            graph.backward(dEmb, grads);

            Map<String, double[]> params = new LinkedHashMap<>();
            weights.named().forEach((name, t) -> {
                double[] d = new double[(int) t.size()];
                for (int i = 0; i < d.length; i++) d[i] = t.get(i);
                params.put(name, d);
            });
            Reference ref = new Reference(CONFIG, batch);
            assertEquals(ref.loss(params), loss, 1e-4 * Math.abs(loss), "the reference computes the same loss");

            Random random = new Random(1);
            Map<String, Tensor> g = grads.named();
            Map<String, double[][]> results = new LinkedHashMap<>(); // name -> {expected, actual, indices}
            for (Map.Entry<String, double[]> e : params.entrySet()) {
                String name = e.getKey();
                double[] p = e.getValue();
                List<Integer> sample = sample(name, p.length, batch, hidden, random);
                double[] expected = new double[sample.size()], actual = new double[sample.size()];
                for (int s = 0; s < sample.size(); s++) {
                    int i = sample.get(s);
                    double keep = p[i], h = 1e-4;
                    p[i] = keep + h;
                    double up = ref.loss(params);
                    p[i] = keep - h;
                    double down = ref.loss(params);
                    p[i] = keep;
                    expected[s] = (up - down) / (2 * h);
                    actual[s] = g.get(name).get(i);
                }
                results.put(name, new double[][]{expected, actual, sample.stream().mapToDouble(i -> i).toArray()});
            }
            double globalMax = 0;
            int checked = 0;
            for (double[][] r : results.values()) for (double e : r[0]) globalMax = Math.max(globalMax, Math.abs(e));
            for (Map.Entry<String, double[][]> r : results.entrySet()) {
                double[][] v = r.getValue();
                assertGradients(v[0], v[1], backendName + " " + r.getKey(), v[2], globalMax);
                checked += v[0].length;
            }
            assertTrue(checked > 300, "checked " + checked + " gradient components");
        }
    }

    /** Random components, plus for the embeddings some that must be exactly 0 (an unused id, an unused position). */
    private static List<Integer> sample(String name, int size, Batch batch, int hidden, Random random) {
        List<Integer> s = new ArrayList<>();
        if (name.equals("embeddings.word_embeddings.weight")) {
            for (int k = 0; k < 12; k++) s.add(batch.ids()[random.nextInt(batch.ids().length)] * hidden + random.nextInt(hidden));
            boolean[] used = new boolean[CONFIG.vocabSize()];
            for (int id : batch.ids()) used[id] = true;
            for (int id = 0; id < used.length; id++) if (!used[id]) {
                s.add(id * hidden + random.nextInt(hidden));
                break;
            }
        } else if (name.equals("embeddings.position_embeddings.weight")) {
            for (int k = 0; k < 12; k++) s.add(random.nextInt(batch.seqLen() * hidden));
            s.add(batch.seqLen() * hidden + random.nextInt(hidden)); // beyond the sequence: no gradient
        } else {
            for (int k = 0; k < Math.min(size, 16); k++) s.add(random.nextInt(size));
        }
        return s;
    }

    private static void assertGradients(double[] expected, double[] actual, String what, double[] indices, double globalMax) {
        double max = 0;
        for (double e : expected) max = Math.max(max, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            // Relative 1e-3, measured against at least 1% of this parameter's largest sampled component, and an
            // absolute floor of 1e-6 of the largest gradient overall: some gradients are exactly 0 in exact
            // arithmetic (the key bias: softmax ignores a shift of a whole row of scores) and come out of a float
            // backward as rounding noise.
            double tol = 1e-3 * Math.max(Math.abs(e), 0.01 * max) + 1e-6 * globalMax;
            if (!(Math.abs(a - e) <= tol))
                fail("%s[%d]: finite differences %.8g, backward %.8g".formatted(what, (int) indices[i], e, a));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void forwardEqualsTheInferenceEncoder(String backendName) {
        BertConfig config = TinyBert.config(50, 48, 2, 3, 80, 40);
        Weights weights = TinyBert.weights(config, arena, 8, 0.2);
        try (TrainingBackend backend = backendName.equals("cpu") ? new CpuTrainingBackend(2) : new ScalarTrainingBackend();
             TrainingGraph graph = new TrainingGraph(weights, backend);
             Encoder encoder = new Encoder(weights, backend)) {
            // A second, bigger batch grows the graph's buffers; a third, smaller one reuses them.
            for (int[] lengths : new int[][]{{5, 9, 2}, {33, 1, 17, 40, 8}, {3, 4}}) {
                Batch batch = TinyBert.batch(config.vocabSize(), lengths.length, lengths);
                float[] expected = encoder.forwardPooled(batch).toArray();
                float[] actual = graph.forward(batch).toArray();
                assertEquals(expected.length, actual.length);
                // Same kernels in the same order, so identical today; the tolerance leaves room for the inference
                // attention kernel to change its summation order independently of the training one.
                for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5, backendName + " [" + i + "]");
            }
        }
    }

    @Test
    void gradientsAccumulateOverBackwardCalls() {
        Weights weights = TinyBert.weights(CONFIG, arena, 5, 0.3);
        Batch batch = TinyBert.batch(CONFIG.vocabSize(), 3, 4, 2);
        try (ScalarTrainingBackend backend = new ScalarTrainingBackend();
             TrainingGraph graph = new TrainingGraph(weights, backend);
             Gradients once = new Gradients(CONFIG); Gradients twice = new Gradients(CONFIG)) {
            graph.forward(batch);
            Tensor d = Tensor.of(arena, new float[2 * CONFIG.hiddenSize()], 2, CONFIG.hiddenSize());
            Random r = new Random(2);
            for (int i = 0; i < d.size(); i++) d.set(i, (float) r.nextGaussian());
            graph.backward(d, once);
            graph.backward(d, twice);
            graph.backward(d, twice);
            for (String name : once.named().keySet()) {
                Tensor a = once.named().get(name), b = twice.named().get(name);
                for (int i = 0; i < a.size(); i++) assertEquals(2 * a.get(i), b.get(i), 1e-6 + 1e-5 * Math.abs(b.get(i)), name);
            }
            twice.zero(backend);
            for (Tensor t : twice.all()) assertEquals(0, backend.sumOfSquares(t, t.size()));
        }
    }

    /** BERT + mean pooling + L2 normalisation + symmetric InfoNCE, in double, straight from the definitions. */
    private record Reference(BertConfig c, Batch batch) {

        double loss(Map<String, double[]> p) {
            int bs = batch.size(), seq = batch.seqLen(), hid = c.hiddenSize(), ff = c.intermediateSize(), tokens = bs * seq;
            int heads = c.numAttentionHeads(), hd = hid / heads;
            double eps = (float) c.layerNormEps();
            double[] x = new double[tokens * hid];
            double[] word = p.get("embeddings.word_embeddings.weight"), pos = p.get("embeddings.position_embeddings.weight"),
                    type = p.get("embeddings.token_type_embeddings.weight");
            for (int t = 0; t < tokens; t++)
                for (int i = 0; i < hid; i++)
                    x[t * hid + i] = word[batch.ids()[t] * hid + i] + pos[(t % seq) * hid + i] + type[batch.typeIds()[t] * hid + i];
            x = layerNorm(x, p.get("embeddings.LayerNorm.weight"), p.get("embeddings.LayerNorm.bias"), tokens, hid, eps);
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                String n = "encoder.layer." + l + ".";
                double[] q = linear(x, p.get(n + "attention.self.query.weight"), p.get(n + "attention.self.query.bias"), tokens, hid, hid);
                double[] k = linear(x, p.get(n + "attention.self.key.weight"), p.get(n + "attention.self.key.bias"), tokens, hid, hid);
                double[] v = linear(x, p.get(n + "attention.self.value.weight"), p.get(n + "attention.self.value.bias"), tokens, hid, hid);
                double[] ctx = new double[tokens * hid];
                for (int b = 0; b < bs; b++)
                    for (int h = 0; h < heads; h++)
                        for (int i = 0; i < seq; i++) {
                            double[] w = new double[seq];
                            double max = Double.NEGATIVE_INFINITY, sum = 0;
                            for (int j = 0; j < seq; j++) {
                                double s = 0;
                                for (int d = 0; d < hd; d++) s += q[(b * seq + i) * hid + h * hd + d] * k[(b * seq + j) * hid + h * hd + d];
                                w[j] = s / Math.sqrt(hd);
                                if (batch.mask()[b * seq + j] != 0) max = Math.max(max, w[j]);
                            }
                            for (int j = 0; j < seq; j++) {
                                w[j] = batch.mask()[b * seq + j] != 0 ? Math.exp(w[j] - max) : 0;
                                sum += w[j];
                            }
                            for (int d = 0; d < hd; d++) {
                                double s = 0;
                                for (int j = 0; j < seq; j++) s += w[j] / sum * v[(b * seq + j) * hid + h * hd + d];
                                ctx[(b * seq + i) * hid + h * hd + d] = s;
                            }
                        }
                double[] attn = linear(ctx, p.get(n + "attention.output.dense.weight"), p.get(n + "attention.output.dense.bias"), tokens, hid, hid);
                for (int i = 0; i < attn.length; i++) attn[i] += x[i];
                x = layerNorm(attn, p.get(n + "attention.output.LayerNorm.weight"), p.get(n + "attention.output.LayerNorm.bias"), tokens, hid, eps);
                double[] f = linear(x, p.get(n + "intermediate.dense.weight"), p.get(n + "intermediate.dense.bias"), tokens, ff, hid);
                for (int i = 0; i < f.length; i++) f[i] = ScalarBackend.gelu(f[i]);
                double[] o = linear(f, p.get(n + "output.dense.weight"), p.get(n + "output.dense.bias"), tokens, hid, ff);
                for (int i = 0; i < o.length; i++) o[i] += x[i];
                x = layerNorm(o, p.get(n + "output.LayerNorm.weight"), p.get(n + "output.LayerNorm.bias"), tokens, hid, eps);
            }
            double[][] e = new double[bs][hid];
            for (int b = 0; b < bs; b++) {
                double count = 0;
                for (int t = 0; t < seq; t++) count += batch.mask()[b * seq + t];
                for (int t = 0; t < seq; t++)
                    for (int i = 0; i < hid; i++) e[b][i] += batch.mask()[b * seq + t] * x[(b * seq + t) * hid + i] / count;
                double norm = 0;
                for (double z : e[b]) norm += z * z;
                norm = Math.sqrt(norm);
                for (int i = 0; i < hid; i++) e[b][i] /= norm;
            }
            // Symmetric InfoNCE: mean over rows and over columns of the cross-entropy against the diagonal.
            double[][] logits = new double[PAIRS][PAIRS];
            for (int i = 0; i < PAIRS; i++)
                for (int j = 0; j < PAIRS; j++) {
                    double s = 0;
                    for (int d = 0; d < hid; d++) s += e[i][d] * e[PAIRS + j][d];
                    logits[i][j] = s / TEMPERATURE;
                }
            double loss = 0;
            for (int i = 0; i < PAIRS; i++) {
                double rowSum = 0, colSum = 0;
                for (int j = 0; j < PAIRS; j++) {
                    rowSum += Math.exp(logits[i][j]);
                    colSum += Math.exp(logits[j][i]);
                }
                loss += Math.log(rowSum) - logits[i][i] + Math.log(colSum) - logits[i][i];
            }
            return loss / (2 * PAIRS);
        }

        static double[] linear(double[] x, double[] w, double[] b, int rows, int out, int in) {
            double[] y = new double[rows * out];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int i = 0; i < in; i++) s += x[r * in + i] * w[o * in + i];
                    y[r * out + o] = s;
                }
            return y;
        }

        static double[] layerNorm(double[] x, double[] g, double[] b, int rows, int dim, double eps) {
            double[] y = new double[rows * dim];
            for (int r = 0; r < rows; r++) {
                double mean = 0, var = 0;
                for (int i = 0; i < dim; i++) mean += x[r * dim + i];
                mean /= dim;
                for (int i = 0; i < dim; i++) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
                var /= dim;
                for (int i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i] - mean) / Math.sqrt(var + eps) * g[i] + b[i];
            }
            return y;
        }
    }
}
