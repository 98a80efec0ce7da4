package dev.univar.bench;

import dev.univar.cpu.CpuBackend;
import dev.univar.perf.Bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * SGEMM, univar against OpenBLAS ({@code cblas_sgemm} through FFM, Debian's libopenblas0), same shapes,
 * same thread count, each engine's runs in a block after its own warm-up, medians. {@code C = A·Bᵀ} with row-major A[m,k], B[n,k], as the encoder
 * multiplies by PyTorch Linear weights.
 *
 * <p>Usage: {@code OpenBlasGemm [--threads 2] [--repeat 20] [--lib /usr/lib/x86_64-linux-gnu/libopenblas.so.0]}
 */
public final class OpenBlasGemm {
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    public static void main(String[] args) throws Throwable {
        int threads = 2, repeat = 20;
        String lib = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                case "--lib" -> lib = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path libPath = lib != null ? Path.of(lib) : List.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
                "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "/usr/lib/libopenblas.so.0").stream()
                .map(Path::of).filter(Files::exists).findFirst().orElseThrow(() ->
                        new IllegalStateException("libopenblas.so.0 not found: apt-get install libopenblas0 (or pass --lib)"));
        Linker linker = Linker.nativeLinker();
        SymbolLookup blas = SymbolLookup.libraryLookup(libPath, Arena.global());
        MethodHandle setThreads = linker.downcallHandle(blas.find("openblas_set_num_threads").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        MethodHandle getConfig = linker.downcallHandle(blas.find("openblas_get_config").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS));
        MethodHandle sgemm = linker.downcallHandle(blas.find("cblas_sgemm").orElseThrow(), FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        setThreads.invokeExact(threads);
        String config = ((MemorySegment) getConfig.invokeExact()).reinterpret(256).getString(0);
        System.out.printf(Locale.ROOT, "SGEMM C=A·Bᵀ, threads=%d, %d timed runs each, medians; OpenBLAS: %s (%s)%n",
                threads, repeat, config, libPath);
        System.out.printf(Locale.ROOT, "%-18s %14s %16s %7s%n", "m x n x k", "univar GFLOP/s", "OpenBLAS GFLOP/s", "ratio");
        int[][] shapes = {{1024, 1024, 1024}, {4096, 384, 384}, {4096, 1536, 384}, {4096, 384, 1536}};
        try (CpuBackend backend = new CpuBackend(threads); Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                var a = dev.univar.tensor.Tensor.allocate(arena, m, k);
                var b = dev.univar.tensor.Tensor.allocate(arena, n, k);
                var c = dev.univar.tensor.Tensor.allocate(arena, m, n);
                java.util.Random r = new java.util.Random(1);
                for (long i = 0; i < a.size(); i++) a.set(i, r.nextFloat() - 0.5f);
                for (long i = 0; i < b.size(); i++) b.set(i, r.nextFloat() - 0.5f);
                Runnable ours = () -> backend.matmul(a, b, true, null, c, m, n, k);
                Runnable theirs = () -> {
                    try {
                        sgemm.invokeExact(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, 1f, a.data(), k, b.data(), k, 0f, c.data(), n);
                    } catch (Throwable e) {
                        throw new RuntimeException(e);
                    }
                };
                // In blocks, not alternating: OpenBLAS's idle workers spin for a while after each call and would
                // take the cores from the next univar run (and univar's pool would do the same the other way).
                Bench.warmUp(ours, 1.5);
                Bench.Timing u = Bench.time(ours, 0, repeat);
                Bench.warmUp(theirs, 1.5);
                Bench.Timing o = Bench.time(theirs, 0, repeat);
                double flops = Bench.gemmFlops(m, n, k);
                double ug = flops / u.median() / 1e9, og = flops / o.median() / 1e9;
                System.out.printf(Locale.ROOT, "%-18s %14.1f %16.1f %7.2f%n", m + "x" + n + "x" + k, ug, og, ug / og);
            }
        }
    }
}
