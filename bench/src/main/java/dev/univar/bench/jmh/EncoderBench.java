package dev.univar.bench.jmh;

import dev.univar.cpu.CpuBackend;
import dev.univar.model.Weights;
import dev.univar.model.Encoder;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;
import org.openjdk.jmh.annotations.*;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * The whole encoder (embeddings, 6 layers, mean pooling, L2 norm) on random weights of MiniLM's shapes, batches of
 * random tokens without padding. seq/s = batch / time.
 *
 * <p>Run: {@code java -cp bench/target/classes:$(cat /tmp/cp.txt) org.openjdk.jmh.Main EncoderBench} (see GemmBench);
 * {@link OrtEncoderBench} is ONNX Runtime on the same shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class EncoderBench {

    /** batch x seq. */
    @Param({"32x128", "8x512", "1x16"})
    public String shape;
    @Param({"2"})
    public int threads;

    Arena arena;
    CpuBackend cpu;
    Encoder encoder;
    Batch batch;

    @Setup
    public void setUp() {
        String[] p = shape.split("x");
        arena = Arena.ofShared();
        cpu = new CpuBackend(threads);
        Weights w = BenchData.randomWeights(arena, BenchData.MINILM, 7);
        encoder = new Encoder(w, cpu);
        batch = BenchData.randomBatch(Integer.parseInt(p[0]), Integer.parseInt(p[1]), BenchData.MINILM.vocabSize(), 11);
    }

    @TearDown
    public void tearDown() {
        encoder.close();
        cpu.close();
        arena.close();
    }

    @Benchmark
    public Tensor forwardPooled() {
        return encoder.forwardPooled(batch);
    }
}
