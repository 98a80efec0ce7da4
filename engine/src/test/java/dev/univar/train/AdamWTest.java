package dev.univar.train;

import dev.univar.cpu.CpuTrainingBackend;
import dev.univar.cpu.ScalarTrainingBackend;
import dev.univar.model.BertConfig;
import dev.univar.model.Gradients;
import dev.univar.model.Param;
import dev.univar.model.Weights;
import dev.univar.nn.TinyBert;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {

    private final Arena arena = Arena.ofAuto();

    /** The parameters of these tests that weight decay applies to, as their flags would say. */
    private static final Set<String> DECAYED = Set.of("w.weight");

    private static TrainingBackend backend(String name) {
        return name.equals("cpu") ? new CpuTrainingBackend(2) : new ScalarTrainingBackend();
    }

    private Tensor t(float... v) {
        return Tensor.of(arena, v, v.length);
    }

    /**
     * lr 0.1, betas 0.9 / 0.999, eps 1e-8, weight decay 0.01 on "w.weight" only (biases and LayerNorm are not
     * decayed). Worked by hand:
     * <pre>
     * step 1, g = 0.5, p = 1:    m = 0.05, v = 0.00025, m̂ = m / 0.1 = 0.5, v̂ = v / 0.001 = 0.25
     *                            p = 1 · (1 - 0.1 · 0.01) - 0.1 · 0.5 / (0.5 + 1e-8) = 0.999 - 0.099999998 = 0.899000002
     * step 2, g = -0.3:          m = 0.9 · 0.05 - 0.03 = 0.015, v = 0.999 · 0.00025 + 0.001 · 0.09 = 0.00033975
     *                            m̂ = 0.015 / 0.19 = 0.078947368, v̂ = 0.00033975 / 0.001999 = 0.16995998, √v̂ = 0.41226203
     *                            p = 0.899000002 · 0.999 - 0.1 · 0.078947368 / 0.41226203 = 0.898101002 - 0.019149803
     *                              = 0.878951199
     * </pre>
     * At step 1 the bias-corrected update is lr · g / (|g| + eps), whatever the size of g; the other components
     * follow the same formulas.
     */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void twoStepsMatchHandComputedValues(String name) {
        try (TrainingBackend be = backend(name); AdamW opt = new AdamW(be)) {
            Map<String, Tensor> params = new LinkedHashMap<>();
            params.put("w.weight", t(1f, -2f));
            params.put("b.bias", t(0.5f));
            params.put("n.LayerNorm.weight", t(1f));
            Map<String, Tensor> grads = new LinkedHashMap<>();
            grads.put("w.weight", t(0.5f, 0.1f));
            grads.put("b.bias", t(-0.2f));
            grads.put("n.LayerNorm.weight", t(0.3f));
            opt.step(params, grads, DECAYED::contains, 0.1);
            assertEquals(1, opt.steps());
            assertEquals(0.899000002, params.get("w.weight").get(0), 1e-6);
            assertEquals(-1.998 - 0.1 * 0.1 / (0.1 + 1e-8), params.get("w.weight").get(1), 1e-6); // -2.09799999
            assertEquals(0.5 + 0.1 * 0.2 / (0.2 + 1e-8), params.get("b.bias").get(0), 1e-6);     // no decay: 0.599999995
            assertEquals(1 - 0.1 * 0.3 / (0.3 + 1e-8), params.get("n.LayerNorm.weight").get(0), 1e-6); // 0.900000003

            grads.get("w.weight").copyFrom(new float[]{-0.3f, 0.2f});
            grads.get("b.bias").copyFrom(new float[]{0.4f});
            grads.get("n.LayerNorm.weight").copyFrom(new float[]{0f});
            opt.step(params, grads, DECAYED::contains, 0.1);
            assertEquals(2, opt.steps());
            assertEquals(0.878951199, params.get("w.weight").get(0), 1e-6);
            // -2.097999990 · 0.999 - 0.1 · (0.019 / 0.19) / (√(0.00004995 / 0.001999) + 1e-8) = -2.192420186
            assertEquals(-2.192420186, params.get("w.weight").get(1), 1e-6);
            // 0.599999995 - 0.1 · (0.022 / 0.19) / √(0.00020036 / 0.001999) = 0.563389643
            assertEquals(0.563389643, params.get("b.bias").get(0), 1e-6);
            // g = 0 still moves p through the momentum: 0.900000003 - 0.1 · (0.027 / 0.19) / √(0.00008991 / 0.001999)
            assertEquals(0.832994181, params.get("n.LayerNorm.weight").get(0), 1e-6);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void withoutWeightDecay(String name) {
        try (TrainingBackend be = backend(name); AdamW opt = new AdamW(be, 0.9, 0.999, 1e-8, 0)) {
            Map<String, Tensor> params = Map.of("w.weight", t(1f));
            Map<String, Tensor> grads = Map.of("w.weight", t(0.5f));
            opt.step(params, grads, n -> true, 0.1);
            assertEquals(0.900000002, params.get("w.weight").get(0), 1e-6); // 1 - 0.1 · 0.5 / (0.5 + 1e-8)
            grads.get("w.weight").set(0, -0.3f);
            opt.step(params, grads, n -> true, 0.1);
            assertEquals(0.880850199, params.get("w.weight").get(0), 1e-6); // 0.900000002 - 0.019149803
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void restoredStateContinuesExactly(String name) {
        try (TrainingBackend be = backend(name); AdamW straight = new AdamW(be); AdamW first = new AdamW(be);
             AdamW resumed = new AdamW(be)) {
            Map<String, Tensor> p1 = Map.of("w.weight", t(1f, 2f, 3f), "w.bias", t(-1f));
            Map<String, Tensor> p2 = Map.of("w.weight", t(1f, 2f, 3f), "w.bias", t(-1f));
            Map<String, Tensor> g = Map.of("w.weight", t(0.1f, -0.2f, 0.3f), "w.bias", t(0.5f));
            straight.step(p1, g, DECAYED::contains, 0.01);
            straight.step(p1, g, DECAYED::contains, 0.01);
            first.step(p2, g, DECAYED::contains, 0.01);
            resumed.restore(first.state());
            assertEquals(1, resumed.steps());
            resumed.step(p2, g, DECAYED::contains, 0.01);
            for (String k : p1.keySet())
                for (int i = 0; i < p1.get(k).size(); i++) assertEquals(p1.get(k).get(i), p2.get(k).get(i), 0f, k);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void clipGlobalNorm(String name) {
        try (TrainingBackend be = backend(name); Gradients grads = new Gradients(TinyBert.config(10, 8, 1, 2, 12, 6))) {
            grads.named().get("embeddings.LayerNorm.bias").set(3, 3f);
            grads.named().get("encoder.layer.0.output.dense.weight").set(5, -4f);
            assertEquals(5, AdamW.clipGlobalNorm(grads, 10, be), 1e-9); // below the limit: unchanged
            assertEquals(3f, grads.named().get("embeddings.LayerNorm.bias").get(3));
            assertEquals(5, AdamW.clipGlobalNorm(grads, 1, be), 1e-9);
            assertEquals(3 / (5 + 1e-6), grads.named().get("embeddings.LayerNorm.bias").get(3), 1e-6);
            assertEquals(-4 / (5 + 1e-6), grads.named().get("encoder.layer.0.output.dense.weight").get(5), 1e-6);
        }
    }

    /**
     * A step over a model's weights decays exactly the parameters flagged for it: with zero gradients the update is
     * the decay alone, {@code p · (1 - lr · wd)} for weights and embeddings, nothing for biases and LayerNorms.
     */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void decayFollowsTheParametersFlags(String name) {
        BertConfig config = TinyBert.config(10, 8, 2, 2, 12, 6);
        Weights weights = TinyBert.weights(config, arena, 4, 0.5);
        Map<String, float[]> before = new LinkedHashMap<>();
        weights.named().forEach((n, t) -> before.put(n, t.toArray()));
        try (TrainingBackend be = backend(name); AdamW opt = new AdamW(be, 0.9, 0.999, 1e-8, 0.25);
             Gradients grads = new Gradients(config)) {
            opt.step(weights, grads, 0.5);
        }
        int decayed = 0;
        for (Param p : weights.params()) {
            float[] was = before.get(p.name()), now = weights.get(p.name()).toArray();
            double factor = p.decays() ? 1 - 0.5 * 0.25 : 1;
            for (int i = 0; i < was.length; i++) assertEquals(was[i] * factor, now[i], 1e-6, p.name() + "[" + i + "]");
            boolean expected = p.kind() == Param.Kind.MATRIX || p.kind() == Param.Kind.EMBEDDING;
            assertEquals(expected, p.decays(), p.name());
            assertEquals(!p.name().endsWith(".bias") && !p.name().contains("LayerNorm."), p.decays(),
                    p.name() + ": BERT's flags say what its names always meant");
            if (p.decays()) decayed++;
        }
        assertEquals(3 + 2 * 6, decayed, "3 embedding tables and 6 matrices per layer");
    }
}
