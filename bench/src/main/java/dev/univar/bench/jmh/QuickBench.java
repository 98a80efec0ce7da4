package dev.univar.bench.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.univar.cpu.CpuBackend;
import dev.univar.model.Weights;
import dev.univar.model.Encoder;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A fast, single-JVM companion to the JMH benchmarks for iterating on kernels: medians of repeated
 * {@code System.nanoTime} runs after a warm-up, univar and ONNX Runtime in the same process, plus a per-operation
 * profile of the encoder forward (a timing {@link Backend} wrapper). JMH numbers are the ones to quote; this is
 * for quick before/after checks.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
 * -cp bench/target/classes:$(cat /tmp/cp.txt) dev.univar.bench.jmh.QuickBench [gemm] [attention] [encoder] [ort] [profile]}
 */
public final class QuickBench {
    static final int THREADS = Integer.getInteger("threads", 2);
    static final double SECONDS = Double.parseDouble(System.getProperty("seconds", "3"));

    public static void main(String[] args) throws Exception {
        var what = Arrays.asList(args.length == 0 ? new String[]{"gemm", "attention", "encoder", "ort"} : args);
        try (Arena arena = Arena.ofShared(); CpuBackend cpu = new CpuBackend(THREADS)) {
            if (what.contains("gemm")) gemm(arena, cpu);
            if (what.contains("attention")) attention(arena, cpu);
            if (what.contains("ops")) ops(arena, cpu);
            if (what.contains("linear")) linear(arena, cpu);
            if (what.contains("encoder")) encoder(arena, cpu);
            if (what.contains("ort")) ort();
            if (what.contains("profile")) profile(arena, cpu);
            if (what.contains("alloc")) alloc(arena, cpu);
        }
    }

    static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /** CPU time of this thread and the kernels' workers (ns; clock_gettime, unlike the process total's 10 ms ticks). */
    static long cpuNow() {
        long sum = 0;
        for (long t : cpuThreads) sum += Math.max(0, MX.getThreadCpuTime(t));
        return sum;
    }

    static long[] cpuThreads = new long[0];

    static void findThreads() {
        cpuThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t == Thread.currentThread() || t.getName().startsWith("univar-cpu"))
                .mapToLong(Thread::threadId).toArray();
    }
    /** Median process CPU time per run of the last {@link #median} call, divided by THREADS (ns). */
    static double lastCpu;

    /**
     * Median wall time in ns of {@code body} over about SECONDS after as long a warm-up. Also records in
     * {@link #lastCpu} the median process CPU time per run divided by the thread count: on this shared machine,
     * where other builds steal cores, that is the steadier figure (spin-waiting counts as CPU time too).
     */
    static double median(Runnable body) {
        long end = System.nanoTime() + (long) (SECONDS * 0.7e9);
        while (System.nanoTime() < end) body.run();
        findThreads();
        double[] t = new double[10_000], c = new double[10_000];
        int n = 0;
        end = System.nanoTime() + (long) (SECONDS * 1e9);
        while ((n < 5 || System.nanoTime() < end) && n < t.length) {
            long c0 = cpuNow();
            long t0 = System.nanoTime();
            body.run();
            t[n] = System.nanoTime() - t0;
            c[n++] = (cpuNow() - c0) / (double) THREADS;
        }
        Arrays.sort(t, 0, n);
        Arrays.sort(c, 0, n);
        lastCpu = c[n / 2];
        return t[n / 2];
    }

    static void gemm(Arena arena, CpuBackend cpu) {
        int[][] shapes = {{4096, 384, 384}, {4096, 1152, 384}, {4096, 1536, 384}, {4096, 384, 1536}, {1024, 1024, 1024}, {16, 384, 384}, {16, 1536, 384}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            Tensor a = BenchData.random(arena, 1, 1, m, k), b = BenchData.random(arena, 2, 1, n, k);
            Tensor bias = BenchData.random(arena, 3, 1, n), c = Tensor.allocate(arena, m, n);
            double ns = median(() -> cpu.matmul(a, b, true, bias, c, m, n, k));
            System.out.printf(Locale.ROOT, "gemm %4dx%4dx%4d transB: %8.3f ms  %6.1f GFLOP/s  (cpu-time/threads: %6.1f GFLOP/s)%n",
                    m, n, k, ns / 1e6, 2.0 * m * n * k / ns, 2.0 * m * n * k / lastCpu);
        }
    }

    /** The encoder's packed products at 4096 tokens (32x128), each alone, through {@code linear}. */
    static void linear(Arena arena, CpuBackend cpu) {
        int m = 4096;
        int[][] shapes = {{1152, 384, 0}, {384, 384, 0}, {1536, 384, 1}, {1536, 384, 0}, {384, 1536, 0}};
        for (int[] s : shapes) {
            int n = s[0], k = s[1];
            boolean gelu = s[2] == 1;
            Tensor a = BenchData.random(arena, 1, 1, m, k), b = BenchData.random(arena, 2, 1, n, k);
            Tensor bias = BenchData.random(arena, 3, 1, n), c = Tensor.allocate(arena, m, n);
            try (var p = cpu.pack(b, true, n, k)) {
                var act = gelu ? dev.univar.tensor.Activation.GELU : dev.univar.tensor.Activation.NONE;
                double ns = median(() -> cpu.linear(a, p, bias, act, c, m));
                System.out.printf(Locale.ROOT, "linear %4dx%4dx%4d%s: %8.3f ms  %6.1f GFLOP/s  (cpu-time/threads: %6.1f GFLOP/s)%n",
                        m, n, k, gelu ? " +gelu" : "      ", ns / 1e6, 2.0 * m * n * k / ns, 2.0 * m * n * k / lastCpu);
            }
        }
    }

    static void attention(Arena arena, CpuBackend cpu) {
        for (int[] s : new int[][]{{32, 128}, {8, 512}, {1, 16}, {2, 128}, {1, 512}}) {
            int bs = s[0], seq = s[1], tokens = bs * seq;
            Tensor q = BenchData.random(arena, 1, 1, tokens, 384), k = BenchData.random(arena, 2, 1, tokens, 384);
            Tensor v = BenchData.random(arena, 3, 1, tokens, 384), out = Tensor.allocate(arena, tokens, 384);
            Tensor mask = Tensor.allocate(arena, bs, seq);
            mask.fill(1);
            double ns = median(() -> cpu.attention(q, k, v, mask, out, bs, seq, 12, 32));
            System.out.printf(Locale.ROOT, "attention %dx%d: %8.3f ms  %6.1f GFLOP/s  (cpu/threads %8.3f ms)%n", bs, seq, ns / 1e6,
                    4.0 * bs * 12 * seq * seq * 32 / ns, lastCpu / 1e6);
        }
    }

    static void ops(Arena arena, CpuBackend cpu) {
        int rows = 4096;
        Tensor x = BenchData.random(arena, 1, 2, rows, 384), r = BenchData.random(arena, 2, 2, rows, 384);
        Tensor g = BenchData.random(arena, 3, 1, 384), o = Tensor.allocate(arena, rows, 384);
        Tensor f = BenchData.random(arena, 4, 4, rows, 1536), fo = Tensor.allocate(arena, rows, 1536);
        double ln = median(() -> cpu.layerNorm(x, r, g, g, 1e-12f, o, rows, 384));
        System.out.printf(Locale.ROOT, "layerNorm+residual [4096,384]: %8.3f ms (cpu/threads %8.3f ms)%n", ln / 1e6, lastCpu / 1e6);
        double ge = median(() -> cpu.gelu(f, fo, (long) rows * 1536));
        System.out.printf(Locale.ROOT, "gelu [4096,1536]: %8.3f ms (cpu/threads %8.3f ms)%n", ge / 1e6, lastCpu / 1e6);
        double gi = median(() -> cpu.gelu(fo, fo, (long) rows * 1536));
        System.out.printf(Locale.ROOT, "gelu [4096,1536] in place: %8.3f ms (cpu/threads %8.3f ms)%n", gi / 1e6, lastCpu / 1e6);
    }

    static final int[][] ENCODER_SHAPES = {{32, 128}, {8, 512}, {1, 16}};

    static void encoder(Arena arena, CpuBackend cpu) {
        Weights w = BenchData.randomWeights(arena, BenchData.MINILM, 7);
        try (Encoder enc = new Encoder(w, cpu)) {
            for (int[] s : ENCODER_SHAPES) {
                Batch batch = BenchData.randomBatch(s[0], s[1], BenchData.MINILM.vocabSize(), 11);
                double ns = median(() -> enc.forwardPooled(batch));
                System.out.printf(Locale.ROOT, "univar encoder %dx%d: %8.3f ms  %7.2f seq/s  (cpu/threads %8.3f ms)%n", s[0], s[1],
                        ns / 1e6, s[0] * 1e9 / ns, lastCpu / 1e6);
            }
        }
    }

    static void ort() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(THREADS);
        so.setInterOpNumThreads(1);
        try (OrtSession session = env.createSession(System.getProperty("univar.onnx", "/tmp/minilm/all-minilm-l6-v2.onnx"), so)) {
            for (int[] s : ENCODER_SHAPES) {
                int bs = s[0], seq = s[1];
                long[][] ids = new long[bs][seq], mask = new long[bs][seq], types = new long[bs][seq];
                Random r = new Random(11);
                for (int b = 0; b < bs; b++)
                    for (int t = 0; t < seq; t++) {
                        ids[b][t] = 1000 + r.nextInt(29000);
                        mask[b][t] = 1;
                    }
                Map<String, OnnxTensor> in = new HashMap<>();
                for (String name : session.getInputNames())
                    in.put(name, OnnxTensor.createTensor(env, switch (name) {
                        case "input_ids" -> ids;
                        case "attention_mask" -> mask;
                        default -> types;
                    }));
                double ns = median(() -> {
                    try (OrtSession.Result res = session.run(in)) {
                        res.get(0);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                System.out.printf(Locale.ROOT, "ORT    encoder %dx%d: %8.3f ms  %7.2f seq/s  (cpu/threads %8.3f ms)%n", bs, seq,
                        ns / 1e6, bs * 1e9 / ns, lastCpu / 1e6);
                for (OnnxTensor t : in.values()) t.close();
            }
        }
    }

    /** Heap bytes allocated (all threads) per call of each operation, after warm-up: should be 0. */
    static void alloc(Arena arena, CpuBackend cpu) {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int tokens = 4096;
        Tensor x = BenchData.random(arena, 1, 1, tokens, 384), y = BenchData.random(arena, 2, 1, tokens, 384);
        Tensor z = BenchData.random(arena, 3, 1, tokens, 384), o = Tensor.allocate(arena, tokens, 384);
        Tensor w = BenchData.random(arena, 4, 1, 1536, 384), f = BenchData.random(arena, 5, 1, tokens, 1536);
        Tensor g = BenchData.random(arena, 6, 1, 1536), mask = Tensor.allocate(arena, 32, 128);
        mask.fill(1);
        Map<String, Runnable> ops = new java.util.LinkedHashMap<>();
        ops.put("matmul", () -> cpu.matmul(x, w, true, g, f, tokens, 1536, 384));
        ops.put("attention", () -> cpu.attention(x, y, z, mask, o, 32, 128, 12, 32));
        ops.put("gelu", () -> cpu.gelu(f, f, (long) tokens * 1536));
        ops.put("maskedSoftmax", () -> cpu.maskedSoftmax(f, mask, 32, 1536, 128));
        ops.put("layerNorm", () -> cpu.layerNorm(x, y, g, g, 1e-12f, o, tokens, 384));
        Weights bw = BenchData.randomWeights(arena, BenchData.MINILM, 7);
        Encoder enc = new Encoder(bw, cpu);
        Batch batch = BenchData.randomBatch(32, 128, BenchData.MINILM.vocabSize(), 11);
        ops.put("encoder 32x128", () -> enc.forwardPooled(batch));
        Batch small = BenchData.randomBatch(1, 16, BenchData.MINILM.vocabSize(), 11);
        ops.put("encoder 1x16", () -> enc.forwardPooled(small));
        ops.forEach((name, op) -> {
            for (int i = 0; i < 30; i++) op.run();
            long b0 = mx.getTotalThreadAllocatedBytes();
            for (int i = 0; i < 10; i++) op.run();
            System.out.printf(Locale.ROOT, "alloc %-16s %12d bytes/call%n", name, (mx.getTotalThreadAllocatedBytes() - b0) / 10);
        });
        enc.close();
    }

    /** Per-operation wall time of the encoder forward through a timing Backend wrapper. */
    static void profile(Arena arena, CpuBackend cpu) {
        Weights w = BenchData.randomWeights(arena, BenchData.MINILM, 7);
        for (int[] s : ENCODER_SHAPES) {
            Timing timing = new Timing(cpu);
            try (Encoder enc = new Encoder(w, timing)) {
                Batch batch = BenchData.randomBatch(s[0], s[1], BenchData.MINILM.vocabSize(), 11);
                int warm = s[0] * s[1] > 1000 ? 20 : 300, runs = warm;
                for (int i = 0; i < warm; i++) enc.forwardPooled(batch);
                timing.totals.clear();
                long t0 = System.nanoTime();
                for (int i = 0; i < runs; i++) enc.forwardPooled(batch);
                double total = (System.nanoTime() - t0) / 1e6 / runs;
                System.out.printf(Locale.ROOT, "profile %dx%d: %.3f ms per forward%n", s[0], s[1], total);
                timing.totals.forEach((op, ns) -> System.out.printf(Locale.ROOT, "  %-22s %8.3f ms %5.1f%%%n",
                        op, ns / 1e6 / runs, 100 * ns / 1e6 / runs / total));
            }
        }
    }

    /** Delegates to a backend and adds up the wall time of each operation (by name and shape class). */
    static final class Timing implements Backend {
        final Backend d;
        final Map<String, Double> totals = new TreeMap<>();

        Timing(Backend d) {
            this.d = d;
        }

        void add(String op, long t0) {
            totals.merge(op, (double) (System.nanoTime() - t0), Double::sum);
        }

        public String name() {
            return "timing(" + d.name() + ")";
        }

        public void matmul(Tensor a, Tensor b, boolean transB, Tensor bias, Tensor out, int m, int n, int k) {
            long t0 = System.nanoTime();
            d.matmul(a, b, transB, bias, out, m, n, k);
            add("matmul n" + n + " k" + k, t0);
        }

        public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean accumulate, Tensor out, int m, int n, int k) {
            long t0 = System.nanoTime();
            d.gemm(a, transA, b, transB, bias, accumulate, out, m, n, k);
            add("gemm n" + n + " k" + k, t0);
        }

        public dev.univar.tensor.PackedMatrix pack(Tensor b, boolean transB, int n, int k) {
            return d.pack(b, transB, n, k);
        }

        public void linear(Tensor a, dev.univar.tensor.PackedMatrix b, Tensor bias, dev.univar.tensor.Activation act, Tensor out, int m) {
            long t0 = System.nanoTime();
            d.linear(a, b, bias, act, out, m);
            add("linear n" + b.n() + " k" + b.k() + (act == dev.univar.tensor.Activation.GELU ? " +gelu" : ""), t0);
        }

        public void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
            long t0 = System.nanoTime();
            d.attention(qkv, mask, out, batch, seq, heads, headDim);
            add("attention(qkv)", t0);
        }

        public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, int rows, int dim) {
            long t0 = System.nanoTime();
            d.layerNorm(x, residual, gamma, beta, eps, out, rows, dim);
            add("layerNorm", t0);
        }

        public void gelu(Tensor x, Tensor out, long n) {
            long t0 = System.nanoTime();
            d.gelu(x, out, n);
            add("gelu", t0);
        }

        public void maskedSoftmax(Tensor x, Tensor mask, int batch, int rowsPerBatch, int cols) {
            long t0 = System.nanoTime();
            d.maskedSoftmax(x, mask, batch, rowsPerBatch, cols);
            add("maskedSoftmax", t0);
        }

        public void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
            long t0 = System.nanoTime();
            d.attention(q, k, v, mask, out, batch, seq, heads, headDim);
            add("attention", t0);
        }

        public void embeddings(int[] ids, int[] typeIds, Tensor word, Tensor position, Tensor tokenType, Tensor out, int batch, int seq, int hidden) {
            long t0 = System.nanoTime();
            d.embeddings(ids, typeIds, word, position, tokenType, out, batch, seq, hidden);
            add("embeddings", t0);
        }

        public void meanPool(Tensor x, Tensor mask, Tensor out, int batch, int seq, int dim) {
            long t0 = System.nanoTime();
            d.meanPool(x, mask, out, batch, seq, dim);
            add("meanPool", t0);
        }

        public void l2Normalize(Tensor x, int rows, int dim) {
            long t0 = System.nanoTime();
            d.l2Normalize(x, rows, dim);
            add("l2Normalize", t0);
        }

        public void add(Tensor a, Tensor b, Tensor out, long n) {
            long t0 = System.nanoTime();
            d.add(a, b, out, n);
            add("add", t0);
        }
    }
}
