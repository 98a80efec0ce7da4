package dev.univar.cli;

import dev.univar.cpu.CpuBackend;
import dev.univar.io.ModelStore;
import dev.univar.nn.EmbeddingModel;
import dev.univar.perf.Bench;
import dev.univar.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark the engine on this machine: warm-up, then repeated runs; medians.",
                "  gemm:    C[m,n] = A[m,k]·B[n,k]ᵀ on random data, GFLOP/s",
                "  encoder: the model's forward pass and pooling on a random batch, sequences/s",
                "  train:   a training step's forward (saving activations) and backward, sequences/s and GFLOP/s",
                "           (counted as 3 × the forward's FLOP), beside the forward alone",
                "Without --threads, a row per thread count from 1 to the number of cores; the last line is the",
                "largest thread count."})
final class BenchCommand implements Callable<Integer> {
    enum What { gemm, encoder, train }

    @Parameters(index = "0", paramLabel = "gemm|encoder|train", description = "What to benchmark.")
    What what;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu", description = "Backend. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "Thread count (default: 1 to all cores).")
    Integer threads;

    @Option(names = "--m", defaultValue = "1024", description = "gemm rows of A and C. Default: ${DEFAULT-VALUE}.")
    int m;

    @Option(names = "--n", defaultValue = "1024", description = "gemm columns of C. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--k", defaultValue = "1024", description = "gemm inner dimension. Default: ${DEFAULT-VALUE}.")
    int k;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "B", description = "encoder batch. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "T", description = "encoder tokens per sequence. Default: ${DEFAULT-VALUE}.")
    int seq;

    @Option(names = "--model", defaultValue = "minilm", paramLabel = "minilm|DIR", description = "encoder model. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--repeat", defaultValue = "10", paramLabel = "R", description = "Timed runs. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(names = "--warmup", defaultValue = "2", paramLabel = "SECONDS", description = "Warm-up per configuration. Default: ${DEFAULT-VALUE}.")
    double warmup;

    @Override
    public Integer call() throws Exception {
        if (!device.equals("cpu"))
            throw new IllegalArgumentException("device '" + device + "' is not available: this build of univar has only the cpu backend");
        if (repeat < 1 || m < 1 || n < 1 || k < 1 || batch < 1 || seq < 1)
            throw new IllegalArgumentException("sizes and --repeat must be positive");
        List<Integer> threadCounts = new ArrayList<>();
        if (threads != null) threadCounts.add(threads);
        else for (int t = 1; t <= Runtime.getRuntime().availableProcessors(); t++) threadCounts.add(t);
        PrintStream out = System.out;
        String last = "";
        if (what == What.gemm) {
            double flops = Bench.gemmFlops(m, n, k);
            out.printf(Locale.ROOT, "%-8s %10s %10s %12s%n", "threads", "median ms", "min ms", "GFLOP/s");
            for (int t : threadCounts) {
                try (Backend b = new CpuBackend(t)) {
                    Bench.Timing r = Bench.gemm(b, m, n, k, repeat, warmup);
                    out.printf(Locale.ROOT, "%-8d %10.3f %10.3f %12.1f%n", t, r.median() * 1e3, r.min() * 1e3, flops / r.median() / 1e9);
                    last = String.format(Locale.ROOT, "gemm %dx%dx%d threads=%d: %.1f GFLOP/s", m, n, k, t, flops / r.median() / 1e9);
                }
            }
        } else if (what == What.train) {
            var dir = ModelStore.resolve(model, msg -> System.err.println("univar: " + msg));
            out.printf(Locale.ROOT, "%-8s %12s %12s %14s %14s %8s%n", "threads", "fwd ms", "fwd+bwd ms", "fwd GFLOP/s", "train GFLOP/s", "ratio");
            for (int t : threadCounts) {
                try (var backend = new dev.univar.cpu.CpuTrainingBackend(t);
                     var loaded = dev.univar.io.BertWeights.open(dir);
                     var arena = java.lang.foreign.Arena.ofShared()) {
                    var config = loaded.config();
                    if (seq > config.maxPositionEmbeddings()) throw new IllegalArgumentException("--seq-len exceeds the model's positions");
                    var weights = dev.univar.nn.BertParameters.copyOf(loaded.weights(), arena);
                    try (var encoder = new dev.univar.nn.BertEncoder(config, weights, backend);
                         var graph = new dev.univar.nn.BertTrainingGraph(config, weights, backend);
                         var grads = new dev.univar.nn.BertGradients(config)) {
                        double flops = Bench.encoderFlops(config, batch, seq);
                        Bench.Timing f = Bench.encoder(encoder, batch, seq, repeat, warmup);
                        Bench.Timing r = Bench.trainStep(graph, grads, backend, batch, seq, repeat, warmup);
                        double fg = flops / f.median() / 1e9, tg = 3 * flops / r.median() / 1e9;
                        out.printf(Locale.ROOT, "%-8d %12.2f %12.2f %14.1f %14.1f %8.2f%n", t, f.median() * 1e3, r.median() * 1e3, fg, tg, tg / fg);
                        last = String.format(Locale.ROOT, "train %dx%d threads=%d: %.1f seq/s, %.1f GFLOP/s = %.0f%% of the forward's %.1f",
                                batch, seq, t, batch / r.median(), tg, 100 * tg / fg, fg);
                    }
                }
            }
        } else {
            var dir = ModelStore.resolve(model, msg -> System.err.println("univar: " + msg));
            out.printf(Locale.ROOT, "%-8s %10s %10s %10s %10s%n", "threads", "median ms", "min ms", "seq/s", "GFLOP/s");
            for (int t : threadCounts) {
                try (EmbeddingModel em = EmbeddingModel.load(dir, new CpuBackend(t))) {
                    if (seq > em.maxPositions()) throw new IllegalArgumentException("--seq-len exceeds the model's " + em.maxPositions() + " positions");
                    double flops = Bench.encoderFlops(em.config(), batch, seq);
                    Bench.Timing r = Bench.encoder(em.encoder(), batch, seq, repeat, warmup);
                    out.printf(Locale.ROOT, "%-8d %10.3f %10.3f %10.1f %10.1f%n", t, r.median() * 1e3, r.min() * 1e3,
                            batch / r.median(), flops / r.median() / 1e9);
                    last = String.format(Locale.ROOT, "encoder %s %dx%d threads=%d: %.1f seq/s (%.2f ms per batch)",
                            model.equals("minilm") ? "minilm" : dir.getFileName(), batch, seq, t, batch / r.median(), r.median() * 1e3);
                }
            }
        }
        out.println(last);
        return 0;
    }
}
