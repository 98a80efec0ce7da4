package dev.univar.bench;

import dev.univar.bench.jmh.BenchData;
import dev.univar.cpu.CpuBackend;
import dev.univar.perf.Bench;
import dev.univar.tensor.Activation;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * The encoder's four dense products at 32 x 128 tokens, as the encoder calls them ({@code linear} with prepacked
 * weights, GELU fused into the first FFN product), each alone after a warm-up of all four in rotation. Medians.
 *
 * <p>Usage: {@code Products [--threads 2] [--rows 4096] [--repeat 20]}
 */
public final class Products {
    public static void main(String[] args) {
        int threads = 2, rows = 4096, repeat = 20;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--rows" -> rows = Integer.parseInt(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        int[][] nk = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};
        Activation[] act = {Activation.NONE, Activation.NONE, Activation.GELU, Activation.NONE};
        String[] name = {"QKV", "output projection", "FFN in + GELU", "FFN out"};
        int m = rows;
        try (CpuBackend cpu = new CpuBackend(threads); Arena arena = Arena.ofShared()) {
            Runnable[] jobs = new Runnable[nk.length];
            for (int s = 0; s < nk.length; s++) {
                int n = nk[s][0], k = nk[s][1];
                Tensor a = BenchData.random(arena, 3 * s, 0.5f, m, k), w = BenchData.random(arena, 3 * s + 1, 0.5f, n, k);
                Tensor bias = BenchData.random(arena, 3 * s + 2, 0.5f, n);
                Tensor c = Tensor.allocate(arena, m, n);
                PackedMatrix packed = cpu.pack(w, true, n, k);
                Activation f = act[s];
                jobs[s] = () -> cpu.linear(a, packed, bias, f, c, m);
            }
            Bench.warmUp(() -> {
                for (Runnable j : jobs) j.run();
            }, 3);
            System.out.printf(Locale.ROOT, "dense products, %d rows, threads=%d, %d timed runs each, medians%n", m, threads, repeat);
            System.out.printf(Locale.ROOT, "%-18s %-16s %9s %9s%n", "product", "m x n x k", "ms", "GFLOP/s");
            for (int s = 0; s < nk.length; s++) {
                Bench.Timing t = Bench.time(jobs[s], 2, repeat);
                double ms = t.median() * 1e3;
                System.out.printf(Locale.ROOT, "%-18s %-16s %9.3f %9.1f%n", name[s], m + "x" + nk[s][0] + "x" + nk[s][1], ms,
                        Bench.gemmFlops(m, nk[s][0], nk[s][1]) / (ms * 1e6));
            }
        }
    }
}
