package dev.univar.bench.jmh;

import dev.univar.cpu.CpuBackend;
import dev.univar.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * SGEMM on the encoder's shapes ({@code [tokens x in] · W[out x in]ᵀ}, transB as PyTorch Linear weights, with bias)
 * and 1024³. GFLOP/s = 2·m·n·k / time.
 *
 * <p>Run (from the repository root, after {@code ./mvnw -o -q -pl bench -am compile dependency:build-classpath
 * -Dmdep.outputFile=/tmp/cp.txt}):
 * {@code java -cp bench/target/classes:$(cat /tmp/cp.txt) org.openjdk.jmh.Main GemmBench}
 * ({@code -p shape=4096x384x384 -f 1 -wi 3 -i 5} for a quick look).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench {

    /** m x n x k. */
    @Param({"4096x384x384", "4096x1536x384", "4096x384x1536", "1024x1024x1024"})
    public String shape;
    @Param({"true"})
    public boolean transB;
    @Param({"2"})
    public int threads;

    int m, n, k;
    Arena arena;
    CpuBackend cpu;
    Tensor a, b, bias, c;

    @Setup
    public void setUp() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        arena = Arena.ofShared();
        cpu = new CpuBackend(threads);
        a = BenchData.random(arena, 1, 1, m, k);
        b = BenchData.random(arena, 2, 1, transB ? n : k, transB ? k : n);
        bias = BenchData.random(arena, 3, 1, n);
        c = Tensor.allocate(arena, m, n);
    }

    @TearDown
    public void tearDown() {
        cpu.close();
        arena.close();
    }

    @Benchmark
    public Tensor matmul() {
        cpu.matmul(a, b, transB, bias, c, m, n, k);
        return c;
    }
}
