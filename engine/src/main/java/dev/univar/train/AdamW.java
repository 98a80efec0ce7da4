package dev.univar.train;

import dev.univar.model.Gradients;
import dev.univar.model.Param;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * AdamW ({@code torch.optim.AdamW}) over named parameters: first and second moments per parameter, allocated on
 * the first step, a shared step counter, weight decay on the parameters whose flag says so ({@link Param#decays}:
 * not biases and normalisations, the usual fine-tuning rule). The arithmetic is the backend's
 * {@link TrainingBackend#adamwStep}.
 *
 * <p>{@link #state()} exposes the moments as {@code <name>.exp_avg} / {@code <name>.exp_avg_sq} and the step as
 * a one-element {@code step} tensor, ready for a safetensors checkpoint; {@link #restore} reads them back.
 */
public final class AdamW implements AutoCloseable {

    public static final double DEFAULT_BETA1 = 0.9, DEFAULT_BETA2 = 0.999, DEFAULT_EPS = 1e-8, DEFAULT_WEIGHT_DECAY = 0.01;
    public static final String STEP = "step";
    private static final String EXP_AVG = ".exp_avg", EXP_AVG_SQ = ".exp_avg_sq";

    private final TrainingBackend backend;
    private final double beta1, beta2, eps, weightDecay;
    private final Arena arena = Arena.ofShared(); // the backend's worker threads update the moments
    private final Map<String, Tensor> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
    private long step;

    public AdamW(TrainingBackend backend, double beta1, double beta2, double eps, double weightDecay) {
        this.backend = backend;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** betas 0.9 / 0.999, eps 1e-8, weight decay 0.01. */
    public AdamW(TrainingBackend backend) {
        this(backend, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
    }

    /** Steps taken so far. */
    public long steps() {
        return step;
    }

    /**
     * One step over a model's weights (updated in place: they must be writable) with learning rate {@code lr},
     * decaying the parameters flagged for it.
     */
    public void step(Weights params, Gradients grads, double lr) {
        Set<String> decayed = new HashSet<>();
        for (Param p : params.params()) if (p.decays()) decayed.add(p.name());
        step(params.named(), grads.named(), decayed::contains, lr);
    }

    /**
     * One step over named parameters, each with the gradient of the same name; {@code decayed} says which
     * parameters weight decay applies to.
     */
    public void step(Map<String, Tensor> params, Map<String, Tensor> grads, Predicate<String> decayed, double lr) {
        for (String name : params.keySet())
            if (!grads.containsKey(name)) throw new IllegalArgumentException("no gradient for parameter '" + name + "'");
        step++;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            String name = e.getKey();
            Tensor p = e.getValue(), g = grads.get(name);
            if (g.size() != p.size())
                throw new IllegalArgumentException("gradient of '" + name + "' has " + g.size() + " elements, parameter " + p.size());
            Tensor mi = m.computeIfAbsent(name, x -> backend.allocate(arena, p.shape()));
            Tensor vi = v.computeIfAbsent(name, x -> backend.allocate(arena, p.shape()));
            backend.adamwStep(p, g, mi, vi, p.size(), lr, beta1, beta2, eps, decayed.test(name) ? weightDecay : 0, step);
        }
    }

    /** The moments and the step counter (views of the live state, not copies), readable by the host. */
    public Map<String, Tensor> state() {
        backend.synchronize();
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (String name : m.keySet()) {
            s.put(name + EXP_AVG, m.get(name));
            s.put(name + EXP_AVG_SQ, v.get(name));
        }
        Tensor t = Tensor.allocate(arena, 1);
        t.set(0, step); // exact up to 2^24 steps
        s.put(STEP, t);
        return s;
    }

    /** Replaces the state with a copy of {@code state} as {@link #state()} gave it (a checkpoint being resumed). */
    public void restore(Map<String, Tensor> state) {
        Tensor t = state.get(STEP);
        if (t == null || t.size() != 1) throw new IllegalArgumentException("optimizer state has no '" + STEP + "'");
        m.clear();
        v.clear();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String key = e.getKey();
            if (key.equals(STEP)) continue;
            Map<String, Tensor> target;
            String name;
            if (key.endsWith(EXP_AVG_SQ)) {
                target = v;
                name = key.substring(0, key.length() - EXP_AVG_SQ.length());
            } else if (key.endsWith(EXP_AVG)) {
                target = m;
                name = key.substring(0, key.length() - EXP_AVG.length());
            } else {
                throw new IllegalArgumentException("unexpected optimizer state '" + key + "'");
            }
            Tensor src = e.getValue(), dst = backend.allocate(arena, src.shape());
            MemorySegment.copy(src.data(), 0, dst.data(), 0, src.size() * Float.BYTES);
            target.put(name, dst);
        }
        if (!m.keySet().equals(v.keySet())) throw new IllegalArgumentException("optimizer state lacks a moment");
        step = (long) t.get(0);
    }

    /**
     * Scales all gradients so that their global L2 norm is at most {@code maxNorm} (as
     * {@code torch.nn.utils.clip_grad_norm_}: factor {@code maxNorm / (norm + 1e-6)} when below 1) and returns
     * the norm before clipping.
     */
    public static double clipGlobalNorm(Gradients grads, double maxNorm, TrainingBackend backend) {
        double sum = 0;
        for (Tensor g : grads.named().values()) sum += backend.sumOfSquares(g, g.size());
        double norm = Math.sqrt(sum);
        double factor = maxNorm / (norm + 1e-6);
        if (factor < 1) for (Tensor g : grads.named().values()) backend.scale(g, (float) factor, g.size());
        return norm;
    }

    @Override
    public void close() {
        arena.close();
    }
}
