package dev.univar.bench.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.openjdk.jmh.annotations.*;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * ONNX Runtime on all-MiniLM-L6-v2 (last hidden state) for the same batch shapes as {@link EncoderBench}, to
 * compare on the same machine in the same session. The model file comes from {@code -Dunivar.onnx=...}
 * (default {@code /tmp/minilm/all-minilm-l6-v2.onnx}).
 *
 * <p>Run: {@code java -cp bench/target/classes:$(cat /tmp/cp.txt) org.openjdk.jmh.Main OrtEncoderBench} (see GemmBench).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OrtEncoderBench {

    @Param({"32x128", "8x512", "1x16"})
    public String shape;
    @Param({"2"})
    public int threads;

    OrtEnvironment env;
    OrtSession session;
    Map<String, OnnxTensor> inputs = new HashMap<>();

    @Setup
    public void setUp() throws OrtException {
        String[] p = shape.split("x");
        int bs = Integer.parseInt(p[0]), seq = Integer.parseInt(p[1]);
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        session = env.createSession(System.getProperty("univar.onnx", "/tmp/minilm/all-minilm-l6-v2.onnx"), so);
        long[][] ids = new long[bs][seq], mask = new long[bs][seq], types = new long[bs][seq];
        Random r = new Random(11);
        for (int b = 0; b < bs; b++)
            for (int t = 0; t < seq; t++) {
                ids[b][t] = 1000 + r.nextInt(29000);
                mask[b][t] = 1;
            }
        for (String name : session.getInputNames()) {
            inputs.put(name, OnnxTensor.createTensor(env, switch (name) {
                case "input_ids" -> ids;
                case "attention_mask" -> mask;
                case "token_type_ids" -> types;
                default -> throw new IllegalStateException("unexpected input " + name);
            }));
        }
    }

    @TearDown
    public void tearDown() throws OrtException {
        for (OnnxTensor t : inputs.values()) t.close();
        session.close();
    }

    @Benchmark
    public float run() throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }
}
