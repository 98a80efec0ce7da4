package dev.univar.perf;

import dev.univar.model.Encoder;
import dev.univar.model.Gradients;
import dev.univar.model.ModelConfig;
import dev.univar.model.TrainingGraph;
import dev.univar.model.Weights;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;
import dev.univar.train.AdamW;
import dev.univar.train.InfoNce;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Timing of the engine's hot paths for {@code univar bench}: warm-up runs, then repeated timed runs, median.
 * Figures are wall-clock; FLOP counts are the multiply-adds the operation needs (2 FLOP each).
 *
 * <p>Device backends (CUDA) queue work and return before it is done. For them the operands live in the
 * backend's memory ({@link Backend#allocate}, {@link Backend#resident}), every timed sample ends with
 * {@link Backend#synchronize}, and a sample repeats the job until it lasts at least {@link #DEVICE_SAMPLE_SECONDS},
 * so launch latency and the final wait are spread over many runs (as a loop of PyTorch calls followed by
 * {@code torch.cuda.synchronize()} measures). Host backends (cpu, scalar) run one job per sample, as before.
 */
public final class Bench {
    private Bench() {
    }

    /** Shortest timed sample on a device backend; each sample's time is divided by the runs it held. */
    public static final double DEVICE_SAMPLE_SECONDS = 0.05;

    /** Learning rate of the benchmarked AdamW steps: small, so random weights stay finite over many steps. */
    static final double BENCH_LR = 1e-5;

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

    /** Longest warm-up {@link #warmUp} allows itself while the JIT keeps compiling. */
    static final double MAX_WARMUP_SECONDS = 20;

    /** How long the JIT must have finished no compilation before {@link #warmUp} calls it quiet. */
    static final double QUIET_SECONDS = 3.0;

    /**
     * Runs {@code job} for at least {@code minSeconds}, and then on until the JIT has gone quiet: until it finished
     * no compilation (the JVM's total compilation time did not move) for two runs in a row and
     * {@link #QUIET_SECONDS}, or {@link #MAX_WARMUP_SECONDS}. A training step on 2 cores kept getting faster for
     * about 12 s (16 steps), as C2 worked through its queue; a fixed 2 s warm-up timed it 60% slow. A short job
     * needs the time as well as the two runs: a 2 ms forward passes two runs within one C2 compilation (which, with
     * the job on both cores, can take over a second: the MXBean counts only finished ones). A 1 x 16 encoder was
     * timed at 2.4-3.2 ms with two quiet runs, 2.1 ms with 1 s of quiet, and its steady 1.8-1.9 ms with 3 s.
     */
    public static void warmUp(Runnable job, double minSeconds) {
        warmUp(job, minSeconds, true);
    }

    /** {@link #warmUp}, waiting for the JIT to go quiet only if {@code untilJitQuiet}; else for {@code minSeconds}. */
    static void warmUp(Runnable job, double minSeconds, boolean untilJitQuiet) {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean watch = untilJitQuiet && jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime(), end = start + (long) (minSeconds * 1e9), cap = start + (long) (MAX_WARMUP_SECONDS * 1e9);
        long last = watch ? jit.getTotalCompilationTime() : 0, quietSince = start;
        int quiet = 0;
        boolean settled;
        do {
            job.run();
            long t = System.nanoTime();
            if (watch) {
                long now = jit.getTotalCompilationTime();
                if (now == last) {
                    quiet++;
                } else {
                    quiet = 0;
                    quietSince = t;
                }
                last = now;
            }
            settled = !watch || (quiet >= 2 && t - quietSince >= (long) (QUIET_SECONDS * 1e9));
        } while (System.nanoTime() < end || (!settled && System.nanoTime() < cap));
    }

    /**
     * Times {@code job} on {@code backend}: warm-up for {@code warmupSeconds} (at least one run), then
     * {@code repeat} samples, each closed by {@code backend.synchronize()}. On a device backend a sample runs the
     * job as often as it takes to fill {@link #DEVICE_SAMPLE_SECONDS} (measured after the warm-up); the
     * returned times are per run.
     */
    public static Timing measure(Backend backend, Runnable job, int repeat, double warmupSeconds) {
        Runnable synced = () -> {
            job.run();
            backend.synchronize();
        };
        // Host backends run the JIT-compiled kernels themselves: wait for C2. A device's host side is light, and a
        // device sample is short, so the given warm-up suffices there.
        warmUp(synced, warmupSeconds, isHost(backend));
        int runs = 1;
        if (!isHost(backend)) {
            long t = System.nanoTime();
            synced.run();
            double one = Math.max((System.nanoTime() - t) / 1e9, 1e-7);
            runs = (int) Math.min(100_000, Math.max(1, Math.ceil(DEVICE_SAMPLE_SECONDS / one)));
        }
        double[] s = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long t = System.nanoTime();
            for (int r = 0; r < runs; r++) job.run();
            backend.synchronize();
            s[i] = (System.nanoTime() - t) / 1e9 / runs;
        }
        Arrays.sort(s);
        return new Timing(s);
    }

    public static double gemmFlops(int m, int n, int k) {
        return 2.0 * m * n * k;
    }

    /** {@code C[m,n] = A[m,k] · B[n,k]ᵀ} (B laid out as a PyTorch Linear weight) on random data in the backend's memory. */
    public static Timing gemm(Backend backend, int m, int n, int k, int repeat, double warmupSeconds) {
        try (Arena arena = Arena.ofShared()) {
            Random r = new Random(1);
            Tensor a = backend.resident(arena, random(arena, r, m, k));
            Tensor b = backend.resident(arena, random(arena, r, n, k));
            Tensor c = backend.allocate(arena, m, n);
            return measure(backend, () -> backend.matmul(a, b, true, null, c, m, n, k), repeat, warmupSeconds);
        }
    }

    /** FLOP of one encoder forward pass over {@code batch × seq} tokens (GEMMs and attention). */
    public static double encoderFlops(ModelConfig c, int batch, int seq) {
        return c.forwardFlops(batch, seq);
    }

    /**
     * A batch of random token ids (no padding) of the given shape: ids from 1000 (or half the vocabulary, if
     * smaller) up, between BERT's [CLS] (101) and [SEP] (102) where the vocabulary has them.
     */
    public static Batch randomBatch(int batch, int seq, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[batch * seq], types = new int[batch * seq], lengths = new int[batch];
        float[] mask = new float[batch * seq];
        Arrays.fill(mask, 1f);
        Arrays.fill(lengths, seq);
        int lo = Math.min(1000, vocab / 2);
        for (int i = 0; i < ids.length; i++) ids[i] = lo + r.nextInt(Math.max(1, vocab - lo));
        if (vocab > 102) {
            for (int b = 0; b < batch; b++) {
                ids[b * seq] = 101;
                ids[b * seq + seq - 1] = 102;
            }
        }
        return new Batch(batch, seq, ids, types, mask, lengths);
    }

    /** The encoder forward with pooling over a random batch of {@code batch × seq} tokens. */
    public static Timing encoder(Encoder encoder, int batch, int seq, int repeat, double warmupSeconds) {
        Batch input = randomBatch(batch, seq, encoder.config().vocabSize(), 7);
        return measure(encoder.backend(), () -> encoder.forwardPooled(input), repeat, warmupSeconds);
    }

    /**
     * A training benchmark's result: the plain forward pass (with pooling), the training graph's forward and
     * backward alone (the dense work: 3 × the forward's FLOP), and a whole training step (plus loss, clipping, AdamW).
     */
    public record TrainTiming(ModelConfig config, Timing forward, Timing forwardBackward, Timing step) {
    }

    /**
     * Times, on the model in {@code modelDir}, the encoder's forward over {@code batch × seq} random tokens and a
     * whole training step over the same batch as {@code batch / 2} pairs of views ({@link #trainStep}).
     */
    public static TrainTiming train(Path modelDir, TrainingBackend backend, int batch, int seq, int repeat,
                                    double warmupSeconds) throws IOException {
        if (batch < 2 || batch % 2 != 0)
            throw new IllegalArgumentException("a training step takes pairs of views: --batch-size must be even, got " + batch);
        try (Weights.Loaded loaded = Weights.open(modelDir); Arena arena = Arena.ofShared()) {
            ModelConfig config = loaded.config();
            if (seq > config.maxPositions())
                throw new IllegalArgumentException("--seq-len " + seq + " exceeds the model's " + config.maxPositions() + " positions");
            Weights weights = loaded.weights().copy(arena, backend);
            Timing forward;
            try (Encoder encoder = new Encoder(weights, backend)) {
                forward = encoder(encoder, batch, seq, repeat, warmupSeconds);
            }
            try (TrainingGraph graph = new TrainingGraph(weights, backend);
                 Gradients grads = new Gradients(config, backend);
                 AdamW adam = new AdamW(backend)) {
                Batch input = randomBatch(batch, seq, config.vocabSize(), 7);
                Tensor dEmb = backend.allocate(arena, batch, config.hiddenSize());
                Tensor dFixed = backend.resident(arena, random(arena, new Random(3), batch, config.hiddenSize()));
                Timing fb = measure(backend, () -> {
                    graph.forward(input);
                    graph.backward(dFixed, grads);
                }, repeat, warmupSeconds);
                Runnable step = () -> trainStep(graph, grads, adam, weights, backend, input, dEmb);
                return new TrainTiming(config, forward, fb, measure(backend, step, repeat, warmupSeconds));
            }
        }
    }

    /**
     * One UniVaR training step as the trainer takes it when the batch fits one micro-batch: forward with saved
     * activations, mean pooling and L2 normalisation; symmetric InfoNCE at temperature 0.02 between rows
     * {@code i} and {@code batch/2 + i}; backward to every parameter gradient; global-norm clipping at 1; AdamW.
     * Returns the loss.
     */
    static double trainStep(TrainingGraph graph, Gradients grads, AdamW adam, Weights weights,
                            TrainingBackend backend, Batch input, Tensor dEmb) {
        int pairs = input.size() / 2, dim = graph.config().hiddenSize();
        grads.zero(backend);
        Tensor emb = graph.forward(input);
        double loss = hostInfoNce(backend, emb.rows(0, pairs), emb.rows(pairs, pairs), pairs, dim,
                InfoNce.DEFAULT_TEMPERATURE, dEmb.rows(0, pairs), dEmb.rows(pairs, pairs));
        graph.backward(dEmb, grads);
        AdamW.clipGlobalNorm(grads, 1.0, backend);
        adam.step(weights, grads, BENCH_LR);
        return loss;
    }

    /** Backends that compute synchronously in host memory: one run is one timed sample. */
    private static boolean isHost(Backend backend) {
        return switch (backend.name()) {
            case "cpu", "cpu-train", "scalar", "scalar-train" -> true;
            default -> false;
        };
    }

    /**
     * Symmetric InfoNCE on the host, as the trainer computes it, over tensors the backend allocated (readable by
     * the host once synchronised).
     */
    private static double hostInfoNce(Backend backend, Tensor a, Tensor b, int pairs, int dim, double temperature,
                                      Tensor dA, Tensor dB) {
        backend.synchronize();
        return InfoNce.lossAndGradients(a, b, pairs, dim, temperature, dA, dB);
    }

    private static Tensor random(Arena arena, Random r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 2 - 1;
        return Tensor.of(arena, v, rows, cols);
    }
}
