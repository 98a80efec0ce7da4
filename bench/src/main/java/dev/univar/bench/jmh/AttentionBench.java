package dev.univar.bench.jmh;

import dev.univar.cpu.CpuBackend;
import dev.univar.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * Multi-head attention of one MiniLM layer (12 heads x 32), no padding. FLOPs = 4·batch·heads·seq²·headDim.
 *
 * <p>Run: {@code java -cp bench/target/classes:$(cat /tmp/cp.txt) org.openjdk.jmh.Main AttentionBench} (see GemmBench).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBench {

    /** batch x seq. */
    @Param({"32x128", "8x512"})
    public String shape;
    @Param({"2"})
    public int threads;

    static final int HEADS = 12, HEAD_DIM = 32;
    int batch, seq;
    Arena arena;
    CpuBackend cpu;
    Tensor q, k, v, mask, out;

    @Setup
    public void setUp() {
        String[] p = shape.split("x");
        batch = Integer.parseInt(p[0]);
        seq = Integer.parseInt(p[1]);
        arena = Arena.ofShared();
        cpu = new CpuBackend(threads);
        int tokens = batch * seq, width = HEADS * HEAD_DIM;
        q = BenchData.random(arena, 1, 1, tokens, width);
        k = BenchData.random(arena, 2, 1, tokens, width);
        v = BenchData.random(arena, 3, 1, tokens, width);
        mask = Tensor.allocate(arena, batch, seq);
        mask.fill(1f);
        out = Tensor.allocate(arena, tokens, width);
    }

    @TearDown
    public void tearDown() {
        cpu.close();
        arena.close();
    }

    @Benchmark
    public Tensor attention() {
        cpu.attention(q, k, v, mask, out, batch, seq, HEADS, HEAD_DIM);
        return out;
    }
}
