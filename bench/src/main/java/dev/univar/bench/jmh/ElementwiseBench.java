package dev.univar.bench.jmh;

import dev.univar.cpu.CpuBackend;
import dev.univar.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * Residual + layer norm over {@code [4096, 384]} and GELU over {@code [4096, 1536]} (the 32x128 batch's sizes).
 *
 * <p>Run: {@code java -cp bench/target/classes:$(cat /tmp/cp.txt) org.openjdk.jmh.Main ElementwiseBench} (see GemmBench).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseBench {

    @Param({"2"})
    public int threads;

    static final int ROWS = 4096, HIDDEN = 384, INTER = 1536;
    Arena arena;
    CpuBackend cpu;
    Tensor x, residual, gamma, beta, out, ffn, ffnOut;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        cpu = new CpuBackend(threads);
        x = BenchData.random(arena, 1, 2, ROWS, HIDDEN);
        residual = BenchData.random(arena, 2, 2, ROWS, HIDDEN);
        gamma = BenchData.random(arena, 3, 1, HIDDEN);
        beta = BenchData.random(arena, 4, 1, HIDDEN);
        out = Tensor.allocate(arena, ROWS, HIDDEN);
        ffn = BenchData.random(arena, 5, 4, ROWS, INTER);
        ffnOut = Tensor.allocate(arena, ROWS, INTER);
    }

    @TearDown
    public void tearDown() {
        cpu.close();
        arena.close();
    }

    @Benchmark
    public Tensor layerNormResidual() {
        cpu.layerNorm(x, residual, gamma, beta, 1e-12f, out, ROWS, HIDDEN);
        return out;
    }

    @Benchmark
    public Tensor gelu() {
        cpu.gelu(ffn, ffnOut, (long) ROWS * INTER);
        return ffnOut;
    }
}
