package dev.univar.cli;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.univar.nn.EmbeddingModel;
import dev.univar.perf.Bench;
import dev.univar.tensor.BackendUnavailableException;
import dev.univar.tensor.Backends;
import dev.univar.tensor.Precision;
import dev.univar.tensor.TrainingBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark the engine on this machine: warm-up, then repeated runs; medians.",
                "  gemm:    C[m,n] = A[m,k]·B[n,k]ᵀ on random data, GFLOP/s",
                "  encoder: the forward pass and pooling on a random batch, sequences/s",
                "  train:   a whole training step, the batch as B/2 pairs of views (forward",
                "           saving activations, pooling, InfoNCE, backward, clipping, AdamW),",
                "           sequences/s; and the forward + backward alone, GFLOP/s (3 × the",
                "           forward's FLOP) and its ratio to the forward's GFLOP/s",
                "--device all runs every device this machine has (a line says why one is",
                "skipped; the cpu runs last) and ends with a line that puts them side by side,",
                "the cpu first, each other with its speed-up over the cpu. On a GPU the",
                "operands live in device memory and each",
                "timed sample ends with a synchronisation.",
                "On the cpu without --threads: a row per thread count from 1 to the number of",
                "cores (all cores only with --device all); the last line is the largest."})
final class BenchCommand implements Callable<Integer> {
    enum What { gemm, encoder, train }

    @Parameters(index = "0", paramLabel = "gemm|encoder|train", description = "What to benchmark.")
    What what;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda|all",
            description = "Backend: cpu, cuda (cuda:N for the N-th GPU) or all. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|tf32|bf16", split = ",", splitSynopsisLabel = ",",
            converter = DeviceOptions.PrecisionConverter.class,
            description = "Precisions of the GPU's dense products, one row each (the cpu computes in fp32). Default: ${DEFAULT-VALUE}.")
    List<Precision> precisions;

    @Option(names = "--threads", paramLabel = "N", description = "CPU thread count (default: 1 to all cores).")
    Integer threads;

    @Option(names = "--m", defaultValue = "1024", description = "gemm rows of A and C. Default: ${DEFAULT-VALUE}.")
    int m;

    @Option(names = "--n", defaultValue = "1024", description = "gemm columns of C. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--k", defaultValue = "1024", description = "gemm inner dimension. Default: ${DEFAULT-VALUE}.")
    int k;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "B", description = "encoder/train batch. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "T", description = "encoder/train tokens per sequence. Default: ${DEFAULT-VALUE}.")
    int seq;

    @Option(names = "--model", defaultValue = "minilm", paramLabel = "minilm|DIR|ORG/NAME", description = "encoder model. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--repeat", defaultValue = "10", paramLabel = "R", description = "Timed runs. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(names = "--warmup", defaultValue = "2", paramLabel = "SECONDS", description = "Warm-up per configuration. Default: ${DEFAULT-VALUE}.")
    double warmup;

    @Option(names = "--json", paramLabel = "FILE.jsonl",
            description = "Also append one JSON object per measurement to this file (what bench/gpu-check.sh compares).")
    Path json;

    /** One measured configuration: its label, its figure for the last line, and the number ratios are taken of. */
    private record Result(String label, String figure, double rate) {
    }

    @Override
    public Integer call() throws Exception {
        Check.atLeast("--repeat", repeat, 1);
        Check.atLeast("--m", m, 1);
        Check.atLeast("--n", n, 1);
        Check.atLeast("--k", k, 1);
        Check.atLeast("--batch-size", batch, 1);
        Check.atLeast("--seq-len", seq, 1);
        Check.nonNegative("--warmup", warmup);
        if (threads != null) Check.threads("--threads", threads);
        List<Device> devices = devices();
        // The classic table is a cpu thread sweep; anything else (all, cuda, several precisions) is by device.
        boolean byDevice = device.equalsIgnoreCase("all") || devices.stream().anyMatch(d -> !d.isCpu());
        PrintStream out = System.out;
        String single = "";
        List<Result> results = new ArrayList<>();
        java.nio.file.Path dir = what == What.gemm ? null : Models.resolve(model);
        String modelName = what == What.gemm ? null : Outputs.modelInput(model) != null ? dir.getFileName().toString() : model;
        String first = byDevice ? "device" : "threads";
        String col = byDevice ? "%-16s" : "%-8s"; // the classic cpu sweep keeps its narrow first column
        switch (what) {
            case gemm -> out.printf(Locale.ROOT, col + " %10s %10s %12s%n", first, "median ms", "min ms", "GFLOP/s");
            case encoder -> out.printf(Locale.ROOT, col + " %10s %10s %10s %10s%n", first, "median ms", "min ms", "seq/s", "GFLOP/s");
            case train -> out.printf(Locale.ROOT, col + " %10s %12s %10s %12s %14s %8s%n", first, "fwd ms", "fwd+bwd ms", "step ms",
                    "fwd GFLOP/s", "f+b GFLOP/s", "ratio");
        }
        for (Device d : devices) {
            String row = byDevice ? d.label() : String.valueOf(d.threads());
            switch (what) {
                case gemm -> {
                    try (TrainingBackend backend = d.open()) {
                        double flops = Bench.gemmFlops(m, n, k);
                        Bench.Timing r = Bench.gemm(backend, m, n, k, repeat, warmup);
                        double gflops = flops / r.median() / 1e9;
                        out.printf(Locale.ROOT, col + " %10.3f %10.3f %12.1f%n", row, r.median() * 1e3, r.min() * 1e3, gflops);
                        single = String.format(Locale.ROOT, "gemm %dx%dx%d %s: %.1f GFLOP/s", m, n, k, shortLabel(d, byDevice), gflops);
                        results.add(new Result(d.label(), String.format(Locale.ROOT, "%.1f GFLOP/s", gflops), gflops));
                        record(d, r, json -> {
                            json.addProperty("m", m);
                            json.addProperty("n", n);
                            json.addProperty("k", k);
                            json.addProperty("gflops", gflops);
                        });
                    }
                }
                case encoder -> {
                    try (EmbeddingModel em = Embeddings.load(model, d, System.err)) { // the model closes the backend
                        if (seq > em.maxPositions()) throw new IllegalArgumentException("--seq-len exceeds the model's " + em.maxPositions() + " positions");
                        double flops = Bench.encoderFlops(em.config(), batch, seq);
                        Bench.Timing r = Bench.encoder(em.encoder(), batch, seq, repeat, warmup);
                        double seqs = batch / r.median();
                        out.printf(Locale.ROOT, col + " %10.3f %10.3f %10.1f %10.1f%n", row, r.median() * 1e3, r.min() * 1e3,
                                seqs, flops / r.median() / 1e9);
                        single = String.format(Locale.ROOT, "encoder %s %dx%d %s: %.1f seq/s (%.2f ms per batch)",
                                modelName, batch, seq, shortLabel(d, byDevice), seqs, r.median() * 1e3);
                        results.add(new Result(d.label(), String.format(Locale.ROOT, "%.1f seq/s", seqs), seqs));
                        recordSequences(d, r, modelName, seqs, flops / r.median() / 1e9, null);
                    }
                }
                case train -> {
                    try (TrainingBackend backend = d.open()) {
                        Bench.TrainTiming t = Bench.train(dir, backend, batch, seq, repeat, warmup);
                        double flops = Bench.encoderFlops(t.config(), batch, seq);
                        // fwd+bwd is 3 × the forward's FLOP (the backward's products are twice the forward's).
                        double fg = flops / t.forward().median() / 1e9, tg = 3 * flops / t.forwardBackward().median() / 1e9;
                        double seqs = batch / t.step().median();
                        out.printf(Locale.ROOT, col + " %10.2f %12.2f %10.2f %12.1f %14.1f %8.2f%n", row, t.forward().median() * 1e3,
                                t.forwardBackward().median() * 1e3, t.step().median() * 1e3, fg, tg, tg / fg);
                        single = String.format(Locale.ROOT, "train %dx%d %s: %.1f seq/s per whole step; forward+backward %.1f GFLOP/s = %.0f%% of the forward's %.1f",
                                batch, seq, shortLabel(d, byDevice), seqs, tg, 100 * tg / fg, fg);
                        results.add(new Result(d.label(), String.format(Locale.ROOT, "%.1f seq/s", seqs), seqs));
                        recordSequences(d, t.step(), modelName, seqs, 3 * flops / t.step().median() / 1e9, t.forward().median() * 1e3);
                    }
                }
            }
        }
        // Side by side with the cpu first (measured last), so each ratio is a speed-up over the cpu.
        results.sort(java.util.Comparator.comparing((Result r) -> !r.label().startsWith("cpu")));
        out.println(byDevice && results.size() > 1 ? sideBySide(results, modelName) : single);
        return 0;
    }

    /** "threads=2" in the classic cpu sweep, else the device's label ("cpu threads=16", "cuda bf16"). */
    private static String shortLabel(Device d, boolean byDevice) {
        return byDevice ? d.label() : "threads=" + d.threads();
    }

    /** {@code gemm 1024x1024x1024 cpu threads=2: 250.0 GFLOP/s | cuda fp32: 45000.0 GFLOP/s (180.0x)}. */
    private String sideBySide(List<Result> results, String modelName) {
        String head = switch (what) {
            case gemm -> String.format(Locale.ROOT, "gemm %dx%dx%d", m, n, k);
            case encoder -> String.format(Locale.ROOT, "encoder %s %dx%d", modelName, batch, seq);
            case train -> String.format(Locale.ROOT, "train %dx%d", batch, seq);
        };
        StringBuilder sb = new StringBuilder(head);
        Result base = results.getFirst();
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            sb.append(i == 0 ? " " : " | ").append(r.label()).append(": ").append(r.figure());
            if (i > 0) sb.append(String.format(Locale.ROOT, " (%.1fx)", r.rate() / base.rate()));
        }
        return sb.toString();
    }

    /**
     * The devices to run, in order. {@code all}: each device this build knows other than the cpu, at each
     * --precision (one that cannot be opened here is skipped with a one-line note), then the cpu (all cores, or
     * --threads). A named
     * device that cannot be opened fails the command (exit 2) with its reason.
     */
    private List<Device> devices() {
        int cores = Runtime.getRuntime().availableProcessors();
        List<Precision> precs = List.copyOf(new LinkedHashSet<>(precisions));
        List<Device> list = new ArrayList<>();
        if (device.equalsIgnoreCase("all")) {
            if (precs.stream().anyMatch(p -> p != Precision.FP32))
                System.err.println("univar bench: the cpu computes in fp32; --precision applies to the other devices");
            for (String name : Backends.names()) {
                if (name.equals("cpu")) continue;
                Device d = new Device(name, 0, precs.getFirst(), 0);
                try {
                    d.check();
                } catch (BackendUnavailableException e) {
                    System.err.println("univar bench: " + name + " skipped: " + e.getMessage());
                    continue;
                }
                for (Precision p : precs) list.add(new Device(name, 0, p, 0));
            }
            // The cpu last: on a GPU machine its runs are the slow ones, and a time limit that cuts the command short
            // should cost the cpu figures rather than the accelerator's (each is recorded as soon as measured).
            list.add(Device.cpu(threads != null ? threads : cores));
            return list;
        }
        Device named = Device.parse(device, precs.getFirst(), threads != null ? threads : cores);
        if (named.isCpu()) {
            if (precs.size() > 1 || precs.getFirst() != Precision.FP32) named.check(); // says the cpu is fp32-only
            if (threads != null) list.add(named);
            else for (int t = 1; t <= cores; t++) list.add(Device.cpu(t));
            return list;
        }
        named.check();
        for (Precision p : precs) list.add(new Device(named.name(), named.ordinal(), p, 0));
        return list;
    }

    /** An encoder or train record: the model, the batch shape, sequences/s, GFLOP/s and the forward's ms (train). */
    private void recordSequences(Device d, Bench.Timing r, String modelName, double seqs, double gflops, Double forwardMs)
            throws IOException {
        record(d, r, json -> {
            json.addProperty("model", modelName);
            json.addProperty("batch", batch);
            json.addProperty("seq", seq);
            json.addProperty("seq_per_s", seqs);
            json.addProperty("gflops", gflops);
            if (forwardMs != null) json.addProperty("forward_ms", forwardMs);
        });
    }

    private void record(Device d, Bench.Timing r, java.util.function.Consumer<JsonObject> fields) throws IOException {
        if (json == null) return;
        JsonObject o = new JsonObject();
        o.addProperty("tool", "univar");
        o.addProperty("bench", what.name());
        o.addProperty("device", d.name());
        o.addProperty("precision", d.precision().name().toLowerCase(Locale.ROOT));
        if (d.isCpu()) o.addProperty("threads", d.threads());
        fields.accept(o);
        o.addProperty("median_ms", r.median() * 1e3);
        o.addProperty("min_ms", r.min() * 1e3);
        o.addProperty("repeat", r.seconds().length);
        Files.writeString(json, new Gson().toJson(o) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
