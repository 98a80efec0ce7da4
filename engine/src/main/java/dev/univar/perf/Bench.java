package dev.univar.perf;

import dev.univar.nn.BertEncoder;
import dev.univar.io.BertConfig;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;

/**
 * Timing of the engine's hot paths for {@code univar bench}: warm-up runs, then repeated timed runs, median.
 * Figures are wall-clock; FLOP counts are the multiply-adds the operation needs (2 FLOP each).
 */
public final class Bench {
    private Bench() {
    }

    /** Timed runs of one job: every run's seconds, sorted. */
    public record Timing(double[] seconds) {
        public double median() {
            int n = seconds.length;
            return n % 2 == 1 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
        }

        public double min() {
            return seconds[0];
        }
    }

    /** Runs {@code job} {@code warmup} times untimed, then {@code repeat} times timed. */
    public static Timing time(Runnable job, int warmup, int repeat) {
        for (int i = 0; i < warmup; i++) job.run();
        double[] s = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long t = System.nanoTime();
            job.run();
            s[i] = (System.nanoTime() - t) / 1e9;
        }
        Arrays.sort(s);
        return new Timing(s);
    }

    /** Runs until at least {@code minSeconds} of warm-up passed (the JIT compiles the kernels meanwhile). */
    public static void warmUp(Runnable job, double minSeconds) {
        long end = System.nanoTime() + (long) (minSeconds * 1e9);
        do job.run(); while (System.nanoTime() < end);
    }

    public static double gemmFlops(int m, int n, int k) {
        return 2.0 * m * n * k;
    }

    /** {@code C[m,n] = A[m,k] · B[n,k]ᵀ} (B laid out as a PyTorch Linear weight) on random data. */
    public static Timing gemm(Backend backend, int m, int n, int k, int repeat, double warmupSeconds) {
        try (Arena arena = Arena.ofShared()) {
            Random r = new Random(1);
            Tensor a = random(arena, r, m, k), b = random(arena, r, n, k), c = Tensor.allocate(arena, m, n);
            Runnable job = () -> backend.matmul(a, b, true, null, c, m, n, k);
            warmUp(job, warmupSeconds);
            return time(job, 0, repeat);
        }
    }

    /** FLOP of one encoder forward pass over {@code batch × seq} tokens (GEMMs and attention). */
    public static double encoderFlops(BertConfig c, int batch, int seq) {
        double tokens = (double) batch * seq, h = c.hiddenSize(), i = c.intermediateSize();
        double perLayer = tokens * (2 * 4 * h * h + 2 * 2 * h * i) + batch * 2.0 * 2 * seq * (double) seq * h;
        return perLayer * c.numHiddenLayers();
    }

    /** A batch of random token ids (no padding) of the given shape. */
    public static Batch randomBatch(int batch, int seq, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[batch * seq], types = new int[batch * seq], lengths = new int[batch];
        float[] mask = new float[batch * seq];
        Arrays.fill(mask, 1f);
        Arrays.fill(lengths, seq);
        for (int i = 0; i < ids.length; i++) ids[i] = 1000 + r.nextInt(Math.max(1, vocab - 1000));
        for (int b = 0; b < batch; b++) {
            ids[b * seq] = 101;
            ids[b * seq + seq - 1] = 102;
        }
        return new Batch(batch, seq, ids, types, mask, lengths);
    }

    /** The encoder forward with pooling over a random batch of {@code batch × seq} tokens. */
    public static Timing encoder(BertEncoder encoder, int batch, int seq, int repeat, double warmupSeconds) {
        Batch input = randomBatch(batch, seq, encoder.config().vocabSize(), 7);
        Runnable job = () -> encoder.forwardPooled(input);
        warmUp(job, warmupSeconds);
        return time(job, 0, repeat);
    }

    /** One training step's compute: forward with saved activations and backward to all parameter gradients. */
    public static Timing trainStep(dev.univar.nn.BertTrainingGraph graph, dev.univar.nn.BertGradients grads,
                                   dev.univar.tensor.TrainingBackend backend, int batch, int seq, int repeat, double warmupSeconds) {
        Batch input = randomBatch(batch, seq, graph.config().vocabSize(), 7);
        int hidden = graph.config().hiddenSize();
        try (Arena arena = Arena.ofShared()) {
            Tensor dEmb = random(arena, new Random(3), batch, hidden);
            Runnable job = () -> {
                graph.forward(input);
                graph.backward(dEmb, grads);
            };
            warmUp(job, warmupSeconds);
            return time(job, 0, repeat);
        }
    }

    private static Tensor random(Arena arena, Random r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 2 - 1;
        return Tensor.of(arena, v, rows, cols);
    }
}
