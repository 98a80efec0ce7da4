package dev.univar.cuda;

import dev.univar.cpu.ScalarTrainingBackend;
import dev.univar.model.BertConfig;
import dev.univar.model.Encoder;
import dev.univar.model.Gradients;
import dev.univar.model.TrainingGraph;
import dev.univar.model.Weights;
import dev.univar.nn.TinyBert;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;
import dev.univar.train.AdamW;
import dev.univar.train.InfoNce;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole training step of a small random 2-layer BERT on the CUDA backend (fp32) against the scalar reference:
 * encoder forward with saved activations, mean pooling, L2 normalisation, symmetric InfoNCE on the host, backward to
 * every weight; every gradient within relative 1e-3. Weights, gradients and optimizer state live on the device, as
 * a training run has them. Skipped without a CUDA driver.
 */
class CudaTrainingStepTest extends CudaFp32TestBase {

    private static final BertConfig CONFIG = TinyBert.config(50, 64, 2, 4, 96, 40);
    private static final double TEMPERATURE = InfoNce.DEFAULT_TEMPERATURE;

    CudaTrainingStepTest() {
        super("fp32 training step");
    }

    /** Loss and gradients of one InfoNCE step; pairs are rows [0, p) and [p, 2p). */
    private record Step(double loss, float[] embeddings, Map<String, Tensor> grads) {
    }

    private static Step step(TrainingBackend backend, TrainingGraph graph, Gradients grads, Batch batch, Arena arena) {
        int pairs = batch.size() / 2, hidden = CONFIG.hiddenSize();
        grads.zero(backend);
        Tensor emb = graph.forward(batch);
        Tensor dEmb = Tensor.allocate(arena, 2 * pairs, hidden);
        double loss = InfoNce.lossAndGradients(emb.rows(0, pairs), emb.rows(pairs, pairs), pairs, hidden, TEMPERATURE,
                dEmb.rows(0, pairs), dEmb.rows(pairs, pairs));
        float[] embeddings = emb.toArray();
        graph.backward(dEmb, grads);
        backend.synchronize();
        return new Step(loss, embeddings, grads.named());
    }

    @Test
    void gradientsMatchTheScalarReference() {
        try (Arena arena = Arena.ofShared()) {
            Weights host = TinyBert.weights(CONFIG, arena, 5, 0.3);
            Weights device = host.copy(arena, cuda);
            ScalarTrainingBackend scalar = new ScalarTrainingBackend();
            try (TrainingGraph refGraph = new TrainingGraph(host, scalar);
                 Gradients refGrads = new Gradients(CONFIG);
                 TrainingGraph graph = new TrainingGraph(device, cuda);
                 Gradients grads = new Gradients(CONFIG, cuda)) {
                // A second, bigger batch grows the graph's buffers; a third, smaller one reuses them.
                int[][] shapes = {{9, 7, 3, 5, 6, 1}, {33, 12, 40, 1, 17, 8, 25, 40}, {4, 2}};
                for (int s = 0; s < shapes.length; s++) {
                    Batch batch = TinyBert.batch(CONFIG.vocabSize(), 9 + s, shapes[s]);
                    Step expected = step(scalar, refGraph, refGrads, batch, arena);
                    Step actual = step(cuda, graph, grads, batch, arena);
                    String what = "batch " + s + " (" + batch.size() + " x " + batch.seqLen() + ")";
                    assertEquals(expected.loss, actual.loss, 1e-4 * Math.abs(expected.loss), what + ": loss");
                    CudaTesting.assertRelative(summary, "pooled embeddings", toDouble(expected.embeddings),
                            toDouble(actual.embeddings), 1e-3, what + ": embeddings");
                    double globalMax = 0;
                    for (Tensor g : expected.grads.values())
                        for (int i = 0; i < g.size(); i++) globalMax = Math.max(globalMax, Math.abs(g.get(i)));
                    for (String name : expected.grads.keySet()) {
                        Tensor e = expected.grads.get(name), a = actual.grads.get(name);
                        CudaTesting.assertRelative(summary, "gradients (relative 1e-3)", CudaTesting.toDouble(e, e.size()),
                                CudaTesting.toDouble(a, a.size()), 1e-3, 1e-6 * globalMax, what + ": d " + name);
                    }
                    System.out.printf(Locale.ROOT, "CUDA check training step %s: loss %.6f (cpu %.6f)%n", what,
                            actual.loss, expected.loss);
                }
                // The global norm the optimizer clips by.
                double refNorm = AdamW.clipGlobalNorm(refGrads, Double.MAX_VALUE, scalar);
                double norm = AdamW.clipGlobalNorm(grads, Double.MAX_VALUE, cuda);
                assertEquals(refNorm, norm, 1e-4 * refNorm, "global gradient norm");
            }
        }
    }

    /** The inference encoder and the training graph give the same embeddings; an optimizer step keeps them finite. */
    @Test
    void encoderAndGraphAgreeAroundAnOptimizerStep() {
        try (Arena arena = Arena.ofShared()) {
            Weights weights = TinyBert.weights(CONFIG, arena, 8, 0.2).copy(arena, cuda);
            try (TrainingGraph graph = new TrainingGraph(weights, cuda);
                 Encoder encoder = new Encoder(weights, cuda);
                 Gradients grads = new Gradients(CONFIG, cuda);
                 AdamW adam = new AdamW(cuda)) {
                Batch batch = TinyBert.batch(CONFIG.vocabSize(), 4, 5, 9, 2, 30);
                for (int round = 0; round < 2; round++) {
                    float[] expected = encoder.forwardPooled(batch).toArray();
                    Step s = step(cuda, graph, grads, batch, arena);
                    double maxDiff = 0;
                    for (int i = 0; i < expected.length; i++) {
                        assertTrue(Float.isFinite(s.embeddings[i]), "finite embedding");
                        maxDiff = Math.max(maxDiff, Math.abs(expected[i] - s.embeddings[i]));
                    }
                    summary.add("encoder vs training graph", maxDiff, maxDiff, expected.length);
                    assertTrue(maxDiff <= 1e-5, "round " + round + ": encoder vs graph max |diff| " + maxDiff);
                    AdamW.clipGlobalNorm(grads, 1.0, cuda);
                    adam.step(weights, grads, 1e-3);
                    encoder.prepack(); // the weights changed in place
                }
            }
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
