package dev.univar.bench;

import dev.univar.cpu.CpuBackend;
import dev.univar.model.Weights;
import dev.univar.io.ModelStore;
import dev.univar.model.Encoder;
import dev.univar.perf.Bench;
import dev.univar.tensor.Backend;
import dev.univar.tensor.PackedMatrix;
import dev.univar.text.Batch;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a CPU encoder forward spends its time: the encoder runs on a {@link CpuBackend} seen through a proxy that
 * times every backend call (each call is synchronous: the pool's parts are done when it returns). Prints the best
 * whole forward of the timed runs and, per operation, the least time over those runs; dense products are told
 * apart by their weight's shape and activation ({@code linear/1536x384/GELU} is n x k).
 *
 * <p>Usage: {@code OpProfile [--threads 2] [--batch-size 32] [--seq-len 128] [--repeat 15]}
 */
public final class OpProfile {
    public static void main(String[] args) throws Exception {
        int threads = 2, batch = 32, seq = 128, repeat = 15;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--batch-size" -> batch = Integer.parseInt(args[i + 1]);
                case "--seq-len" -> seq = Integer.parseInt(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = ModelStore.resolve("minilm", System.err::println);
        Map<String, long[]> perRun = new TreeMap<>();
        boolean[] timing = {false};
        try (CpuBackend cpu = new CpuBackend(threads)) {
            Backend timed = (Backend) Proxy.newProxyInstance(OpProfile.class.getClassLoader(), new Class<?>[]{Backend.class},
                    (proxy, method, margs) -> {
                        long t0 = System.nanoTime();
                        try {
                            return method.invoke(cpu, margs);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        } finally {
                            if (timing[0]) {
                                String key = method.getName();
                                if (key.equals("linear") && margs[1] instanceof PackedMatrix w)
                                    key += "/" + w.n() + "x" + w.k() + "/" + margs[3];
                                long[] v = perRun.computeIfAbsent(key, x -> new long[2]);
                                v[0] += System.nanoTime() - t0;
                                v[1]++;
                            }
                        }
                    });
            var loaded = Weights.open(dir);
            Encoder encoder = new Encoder(loaded.weights(), timed);
            Batch input = Bench.randomBatch(batch, seq, loaded.config().vocabSize(), 7);
            Bench.warmUp(() -> encoder.forwardPooled(input), 3);
            timing[0] = true;
            long best = Long.MAX_VALUE;
            Map<String, long[]> least = new TreeMap<>();
            for (int r = 0; r < repeat; r++) {
                perRun.clear();
                long t0 = System.nanoTime();
                encoder.forwardPooled(input);
                best = Math.min(best, System.nanoTime() - t0);
                perRun.forEach((op, v) -> least.merge(op, v.clone(), (a, b) -> a[0] <= b[0] ? a : b));
            }
            System.out.printf(Locale.ROOT, "encoder forward %dx%d threads=%d, best of %d: %.1f ms%n", batch, seq, threads,
                    repeat, best / 1e6);
            System.out.printf(Locale.ROOT, "%-26s %10s %7s%n", "operation", "least ms", "calls");
            least.forEach((op, v) -> System.out.printf(Locale.ROOT, "%-26s %10.2f %7d%n", op, v[0] / 1e6, v[1]));
        }
    }
}
