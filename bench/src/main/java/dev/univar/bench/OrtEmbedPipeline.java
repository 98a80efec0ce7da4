package dev.univar.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.univar.data.NpyWriter;
import dev.univar.data.TextRecord;
import dev.univar.data.TextSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The job {@code univar embed} does, done by the engines a user would otherwise reach for: Hugging Face
 * tokenizers (DJL) and ONNX Runtime on the same ONNX file, reading the same input, sorting each window of 2,048
 * texts by length into batches, mean pooling, L2 normalisation, and writing the same {@code .npy}. It is the
 * reference for the end-to-end comparison in {@code bench/embed-e2e.sh}, timed as a whole process like univar.
 *
 * <p>Usage: {@code OrtEmbedPipeline INPUT OUTPUT.npy [--max-length 128] [--batch-size 32] [--threads 2] [--text-field text]}
 */
public final class OrtEmbedPipeline {
    public static void main(String[] args) throws Exception {
        Path input = Path.of(args[0]), output = Path.of(args[1]);
        int maxLen = 128, batch = 32, threads = Runtime.getRuntime().availableProcessors();
        String field = "text";
        for (int i = 2; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--max-length" -> maxLen = Integer.parseInt(args[i + 1]);
                case "--batch-size" -> batch = Integer.parseInt(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--text-field" -> field = args[i + 1];
                default -> throw new IllegalArgumentException(args[i]);
            }
        }
        long start = System.nanoTime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        Path onnx = EmbedComparison.extract("/all-minilm-l6-v2.onnx"), tok = EmbedComparison.extract("/all-minilm-l6-v2-tokenizer.json");
        long n = 0;
        try (OrtSession session = env.createSession(onnx.toString(), so);
             HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(tok, Map.of(
                     "maxLength", String.valueOf(maxLen), "truncation", "true", "padding", "false"));
             TextSource source = TextSource.open(input, field);
             NpyWriter writer = new NpyWriter(output, 384)) {
            List<String> window = new ArrayList<>();
            while (true) {
                window.clear();
                while (window.size() < 2048 && source.hasNext()) {
                    TextRecord r = source.next();
                    window.add(r.text());
                }
                if (window.isEmpty()) break;
                Encoding[] enc = tokenizer.batchEncode(window);
                Integer[] order = new Integer[enc.length];
                for (int i = 0; i < order.length; i++) order[i] = i;
                Arrays.sort(order, Comparator.comparingInt(i -> enc[i].getIds().length));
                float[][] rows = new float[enc.length][];
                for (int from = 0; from < order.length; from += batch) {
                    int to = Math.min(order.length, from + batch);
                    List<String> texts = new ArrayList<>();
                    for (int j = from; j < to; j++) texts.add(window.get(order[j]));
                    float[][] out = EmbedComparison.ortEmbed(env, session, tokenizer, texts);
                    for (int j = from; j < to; j++) rows[order[j]] = out[j - from];
                }
                for (float[] row : rows) writer.writeRow(row);
                n += rows.length;
            }
            writer.commit();
        }
        System.err.printf("ORT pipeline: %d texts in %.2f s (in-process)%n", n, (System.nanoTime() - start) / 1e9);
    }
}
