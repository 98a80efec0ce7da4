package dev.univar.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.univar.cpu.CpuBackend;
import dev.univar.io.ModelStore;
import dev.univar.nn.EmbeddingModel;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * univar against ONNX Runtime + Hugging Face tokenizers on the same texts, model, batch size, length limit and
 * thread count, in one run: tokenise, embed (mean pooling, L2 normalisation), texts sorted by length into batches
 * for both. Prints texts/s of each, their ratio, and the largest difference between the two embeddings.
 *
 * <p>Usage: {@code EmbedComparison [--data DIR_WITH_PCT_CSVS] [--texts 2000] [--max-length 128] [--batch-size 32] [--threads 2]}
 */
public final class EmbedComparison {
    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>(Map.of("--data", "../shared/data/pct", "--texts", "2000",
                "--max-length", "128", "--batch-size", "32", "--threads", "2"));
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        int n = Integer.parseInt(opt.get("--texts")), maxLen = Integer.parseInt(opt.get("--max-length"));
        int batch = Integer.parseInt(opt.get("--batch-size")), threads = Integer.parseInt(opt.get("--threads"));
        List<String> texts = readAnswers(Path.of(opt.get("--data")), n);
        System.out.printf(Locale.ROOT, "%d texts, max length %d, batch %d, threads %d, %s, %d cores%n",
                texts.size(), maxLen, batch, threads, System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors());

        Path modelDir = ModelStore.resolve("minilm", System.err::println);
        long t0 = System.nanoTime();
        float[][] ours;
        try (EmbeddingModel model = EmbeddingModel.load(modelDir, new CpuBackend(threads))) {
            model.embed(texts.subList(0, Math.min(64, texts.size())), maxLen); // warm-up, as for ORT below
            t0 = System.nanoTime();
            ours = embedSorted(texts, batch, chunk -> model.embed(chunk, maxLen));
        }
        double univarSecs = (System.nanoTime() - t0) / 1e9;

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        Path onnx = extract("/all-minilm-l6-v2.onnx"), tokJson = extract("/all-minilm-l6-v2-tokenizer.json");
        float[][] theirs;
        double ortSecs;
        try (OrtSession session = env.createSession(onnx.toString(), so);
             HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(tokJson, Map.of(
                     "maxLength", String.valueOf(maxLen), "truncation", "true", "padding", "false"))) {
            Embedder ort = chunk -> ortEmbed(env, session, tok, chunk);
            ort.embed(texts.subList(0, Math.min(64, texts.size())));
            long t1 = System.nanoTime();
            theirs = embedSorted(texts, batch, ort);
            ortSecs = (System.nanoTime() - t1) / 1e9;
        }
        double maxDiff = 0, minCos = 1;
        for (int i = 0; i < ours.length; i++) {
            double dot = 0;
            for (int d = 0; d < ours[i].length; d++) {
                maxDiff = Math.max(maxDiff, Math.abs(ours[i][d] - theirs[i][d]));
                dot += ours[i][d] * theirs[i][d];
            }
            minCos = Math.min(minCos, dot);
        }
        System.out.printf(Locale.ROOT, "univar                      : %8.1f texts/s (%.2f s)%n", texts.size() / univarSecs, univarSecs);
        System.out.printf(Locale.ROOT, "ONNX Runtime + HF tokenizers: %8.1f texts/s (%.2f s)%n", texts.size() / ortSecs, ortSecs);
        System.out.printf(Locale.ROOT, "ratio univar/ORT: %.2f; agreement: min cos %.6f, max |diff| %.2e%n",
                ortSecs / univarSecs, minCos, maxDiff);
    }

    interface Embedder {
        float[][] embed(List<String> texts) throws Exception;
    }

    static float[][] embedSorted(List<String> texts, int batch, Embedder e) throws Exception {
        Integer[] order = new Integer[texts.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> texts.get(i).length()));
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < order.length; from += batch) {
            List<String> chunk = new ArrayList<>();
            int to = Math.min(order.length, from + batch);
            for (int j = from; j < to; j++) chunk.add(texts.get(order[j]));
            float[][] rows = e.embed(chunk);
            for (int j = from; j < to; j++) out[order[j]] = rows[j - from];
        }
        return out;
    }

    static float[][] ortEmbed(OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tok, List<String> texts) throws Exception {
        Encoding[] enc = tok.batchEncode(texts);
        int seq = Arrays.stream(enc).mapToInt(x -> x.getIds().length).max().orElse(0);
        long[][] ids = new long[enc.length][seq], mask = new long[enc.length][seq], types = new long[enc.length][seq];
        for (int b = 0; b < enc.length; b++) {
            long[] x = enc[b].getIds();
            System.arraycopy(x, 0, ids[b], 0, x.length);
            Arrays.fill(mask[b], 0, x.length, 1);
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids); OnnxTensor m = OnnxTensor.createTensor(env, mask);
             OnnxTensor t = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", t))) {
            float[][][] hidden = (float[][][]) r.get(0).getValue();
            float[][] out = new float[enc.length][];
            for (int b = 0; b < enc.length; b++) {
                int dim = hidden[b][0].length;
                double[] sum = new double[dim];
                int count = 0;
                for (int s = 0; s < seq; s++) {
                    if (mask[b][s] == 0) continue;
                    count++;
                    for (int d = 0; d < dim; d++) sum[d] += hidden[b][s][d];
                }
                double norm = 0;
                for (int d = 0; d < dim; d++) norm += (sum[d] / count) * (sum[d] / count);
                norm = Math.max(1e-12, Math.sqrt(norm));
                out[b] = new float[dim];
                for (int d = 0; d < dim; d++) out[b][d] = (float) (sum[d] / count / norm);
            }
            return out;
        }
    }

    static List<String> readAnswers(Path dir, int n) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".csv") && !p.getFileName().toString().startsWith("pct_")).sorted().toList();
        }
        List<List<String>> perFile = new ArrayList<>();
        for (Path f : files) {
            List<String> answers = new ArrayList<>();
            try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                for (CSVRecord row : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r))
                    answers.add(row.get("completion"));
            }
            perFile.add(answers);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; out.size() < n; i++) { // round-robin over the LLMs
            boolean any = false;
            for (List<String> a : perFile) {
                if (i < a.size() && out.size() < n) { out.add(a.get(i)); any = true; }
            }
            if (!any) break;
        }
        return out;
    }

    static Path extract(String resource) throws Exception {
        Path p = Files.createTempFile("univar-bench", resource.substring(resource.lastIndexOf('.')));
        p.toFile().deleteOnExit();
        try (InputStream in = EmbedComparison.class.getResourceAsStream(resource)) {
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
        }
        return p;
    }
}
