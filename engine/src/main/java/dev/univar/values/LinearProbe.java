package dev.univar.values;

import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * A linear probe: softmax regression on frozen embeddings, trained with Adam (learning rate decayed linearly to
 * zero) on mini-batches in a seeded order. The forward pass {@code logits = X·Wᵀ + b} runs on the engine's GEMM;
 * the gradient {@code (softmax - onehot)ᵀ·X / m} is a few plain loops (classes × dim is small).
 */
public final class LinearProbe {
    /** The paper's probe settings: 20 epochs, batch 512, Adam at 2e-3. */
    public record Options(int epochs, int batchSize, double learningRate, long seed) {
        public static Options defaults(long seed) {
            return new Options(20, 512, 2e-3, seed);
        }
    }

    private final float[] w, b; // w: [classes][dim] row-major
    private final int classes, dim;

    private LinearProbe(float[] w, float[] b, int classes, int dim) {
        this.w = w;
        this.b = b;
        this.classes = classes;
        this.dim = dim;
    }

    public static LinearProbe train(Backend backend, float[][] x, int[] y, int classes, Options o) {
        if (x.length == 0) throw new IllegalArgumentException("the probe needs training points");
        int n = x.length, d = x[0].length, bs = Math.min(o.batchSize(), n);
        float[] w = new float[classes * d], bias = new float[classes];
        double[] mW = new double[w.length], vW = new double[w.length], mB = new double[classes], vB = new double[classes];
        double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        int stepsPerEpoch = (n + bs - 1) / bs, total = stepsPerEpoch * o.epochs();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom r = new SplittableRandom(o.seed());
        double[] gW = new double[w.length], gB = new double[classes];
        int step = 0;
        try (Arena arena = Arena.ofShared()) {
            Tensor xt = Tensor.allocate(arena, bs, d), wt = Tensor.allocate(arena, classes, d),
                    bt = Tensor.allocate(arena, classes), logits = Tensor.allocate(arena, bs, classes);
            float[] row = new float[classes];
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                for (int i = n - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1), t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                for (int from = 0; from < n; from += bs) {
                    int m = Math.min(bs, n - from);
                    for (int i = 0; i < m; i++)
                        MemorySegment.copy(x[order[from + i]], 0, xt.data(), ValueLayout.JAVA_FLOAT, (long) i * d * 4, d);
                    MemorySegment.copy(w, 0, wt.data(), ValueLayout.JAVA_FLOAT, 0, w.length);
                    MemorySegment.copy(bias, 0, bt.data(), ValueLayout.JAVA_FLOAT, 0, classes);
                    backend.matmul(xt, wt, true, bt, logits, m, classes, d);
                    java.util.Arrays.fill(gW, 0);
                    java.util.Arrays.fill(gB, 0);
                    for (int i = 0; i < m; i++) {
                        MemorySegment.copy(logits.data(), ValueLayout.JAVA_FLOAT, (long) i * classes * 4, row, 0, classes);
                        softmaxInPlace(row);
                        row[y[order[from + i]]] -= 1f; // dLoss/dlogits of mean cross-entropy, times m
                        float[] xi = x[order[from + i]];
                        for (int c = 0; c < classes; c++) {
                            double g = row[c] / m;
                            gB[c] += g;
                            int off = c * d;
                            for (int k = 0; k < d; k++) gW[off + k] += g * xi[k];
                        }
                    }
                    step++;
                    double lr = o.learningRate() * (1.0 - (double) (step - 1) / total);
                    double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
                    for (int k = 0; k < w.length; k++) {
                        mW[k] = beta1 * mW[k] + (1 - beta1) * gW[k];
                        vW[k] = beta2 * vW[k] + (1 - beta2) * gW[k] * gW[k];
                        w[k] -= (float) (lr * (mW[k] / c1) / (Math.sqrt(vW[k] / c2) + eps));
                    }
                    for (int c = 0; c < classes; c++) {
                        mB[c] = beta1 * mB[c] + (1 - beta1) * gB[c];
                        vB[c] = beta2 * vB[c] + (1 - beta2) * gB[c] * gB[c];
                        bias[c] -= (float) (lr * (mB[c] / c1) / (Math.sqrt(vB[c] / c2) + eps));
                    }
                }
            }
        }
        return new LinearProbe(w, bias, classes, d);
    }

    /** {@code [n][classes]} logits, on the backend. */
    public float[][] logits(Backend backend, float[][] x) {
        float[][] out = new float[x.length][classes];
        if (x.length == 0) return out;
        try (Arena arena = Arena.ofShared()) {
            Tensor xt = Tensor.allocate(arena, x.length, dim), wt = Tensor.of(arena, w, classes, dim),
                    bt = Tensor.of(arena, b, classes), lt = Tensor.allocate(arena, x.length, classes);
            for (int i = 0; i < x.length; i++)
                MemorySegment.copy(x[i], 0, xt.data(), ValueLayout.JAVA_FLOAT, (long) i * dim * 4, dim);
            backend.matmul(xt, wt, true, bt, lt, x.length, classes, dim);
            for (int i = 0; i < x.length; i++)
                MemorySegment.copy(lt.data(), ValueLayout.JAVA_FLOAT, (long) i * classes * 4, out[i], 0, classes);
        }
        return out;
    }

    /** Labels of each row, most probable first (ties by label index). */
    public int[][] rank(Backend backend, float[][] x) {
        float[][] l = logits(backend, x);
        int[][] out = new int[x.length][];
        for (int i = 0; i < x.length; i++) {
            float[] li = l[i];
            out[i] = java.util.stream.IntStream.range(0, classes).boxed()
                    .sorted((p, q) -> li[p] != li[q] ? Float.compare(li[q], li[p]) : Integer.compare(p, q))
                    .mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    static void softmaxInPlace(float[] z) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : z) max = Math.max(max, v);
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.exp(z[i] - max);
            sum += z[i];
        }
        for (int i = 0; i < z.length; i++) z[i] /= (float) sum;
    }
}
