package dev.univar.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.univar.cpu.CpuBackend;
import dev.univar.io.ModelStore;
import dev.univar.nn.EmbeddingModel;
import dev.univar.perf.Bench;
import dev.univar.text.Batch;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The encoder forward pass, univar against ONNX Runtime on the same ONNX file, same random token ids, same
 * thread count, in one JVM, each engine's timed runs in a block after its own warm-up. Medians; the ratio is
 * univar's throughput over ORT's.
 *
 * <p>Usage: {@code EncoderComparison [--threads 2] [--repeat 20] [--shapes 32x128,8x512,1x16]}
 */
public final class EncoderComparison {
    public static void main(String[] args) throws Exception {
        int threads = 2, repeat = 20;
        String shapes = "32x128,8x128,32x32,8x512,1x16";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                case "--shapes" -> shapes = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = ModelStore.resolve("minilm", System.err::println);
        Path onnx = EmbedComparison.extract("/all-minilm-l6-v2.onnx");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        System.out.printf(Locale.ROOT, "encoder all-MiniLM-L6-v2, threads=%d, %d cores, %d timed runs each, medians%n",
                threads, Runtime.getRuntime().availableProcessors(), repeat);
        System.out.printf(Locale.ROOT, "%-8s %12s %12s %12s %12s %7s%n", "shape", "univar ms", "ORT ms", "univar seq/s", "ORT seq/s", "ratio");
        try (EmbeddingModel model = EmbeddingModel.load(dir, new CpuBackend(threads));
             OrtSession session = env.createSession(onnx.toString(), so)) {
            for (String shape : shapes.split(",")) {
                String[] bs = shape.split("x");
                int batch = Integer.parseInt(bs[0]), seq = Integer.parseInt(bs[1]);
                Batch input = Bench.randomBatch(batch, seq, model.config().vocabSize(), 11);
                long[][] ids = new long[batch][seq], mask = new long[batch][seq], types = new long[batch][seq];
                for (int b = 0; b < batch; b++) {
                    for (int s = 0; s < seq; s++) ids[b][s] = input.ids()[b * seq + s];
                    Arrays.fill(mask[b], 1);
                }
                try (OnnxTensor a = OnnxTensor.createTensor(env, ids); OnnxTensor m = OnnxTensor.createTensor(env, mask);
                     OnnxTensor t = OnnxTensor.createTensor(env, types)) {
                    Map<String, OnnxTensor> feed = Map.of("input_ids", a, "attention_mask", m, "token_type_ids", t);
                    Runnable ours = () -> model.encoder().forwardPooled(input);
                    Runnable theirs = () -> {
                        try (OrtSession.Result r = session.run(feed)) {
                            r.get(0);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    };
                    // In blocks, each after its own warm-up: ONNX Runtime's idle workers spin after a run and
                    // would take the cores from a univar run that followed at once (and the other way round).
                    Bench.warmUp(ours, 2);
                    double um = Bench.time(ours, 0, repeat).median();
                    Bench.warmUp(theirs, 2);
                    double om = Bench.time(theirs, 0, repeat).median();
                    System.out.printf(Locale.ROOT, "%-8s %12.2f %12.2f %12.1f %12.1f %7.2f%n", shape, um * 1e3, om * 1e3,
                            batch / um, batch / om, om / um);
                }
            }
        }
    }
}
