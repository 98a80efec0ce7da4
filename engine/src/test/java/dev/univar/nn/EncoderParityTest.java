package dev.univar.nn;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.univar.MiniLmFiles;
import dev.univar.SharedData;
import dev.univar.cpu.CpuBackend;
import dev.univar.cpu.ScalarBackend;
import dev.univar.io.OnnxBertImporter;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The encoder against ONNX Runtime on the same ONNX file: ORT embeds each text alone (no padding), univar in
 * batches of 1, 7 and 32 that mix short and long texts, so padding must not change a text's vector.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EncoderParityTest {
    static final int MAX_LENGTH = 256;
    Path modelDir;
    EmbeddingModel model;
    OrtEnvironment env;
    OrtSession session;

    @BeforeAll
    void setUp() throws Exception {
        modelDir = Files.createTempDirectory("univar-parity").resolve("minilm");
        OnnxBertImporter.importModel(MiniLmFiles.onnx(), MiniLmFiles.tokenizerJson(), modelDir);
        model = EmbeddingModel.load(modelDir, new CpuBackend(2));
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(2);
        session = env.createSession(MiniLmFiles.onnx().toString(), options);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (model != null) model.close();
        if (session != null) session.close();
    }

    /** ORT's last hidden state for one unpadded text, mean-pooled and L2-normalised in double. */
    double[] reference(int[] ids) throws Exception {
        long[][] idArr = new long[1][ids.length], mask = new long[1][ids.length], types = new long[1][ids.length];
        for (int i = 0; i < ids.length; i++) {
            idArr[0][i] = ids[i];
            mask[0][i] = 1;
        }
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try (OnnxTensor a = OnnxTensor.createTensor(env, idArr);
             OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, types)) {
            for (String name : session.getInputNames()) {
                inputs.put(name, switch (name) {
                    case "input_ids" -> a;
                    case "attention_mask" -> b;
                    case "token_type_ids" -> c;
                    default -> throw new IllegalStateException("unexpected ONNX input " + name);
                });
            }
            try (OrtSession.Result r = session.run(inputs)) {
                float[][][] hidden = (float[][][]) r.get(0).getValue();
                int dim = hidden[0][0].length;
                double[] pooled = new double[dim];
                for (float[] token : hidden[0]) for (int d = 0; d < dim; d++) pooled[d] += token[d];
                double norm = 0;
                for (int d = 0; d < dim; d++) {
                    pooled[d] /= ids.length;
                    norm += pooled[d] * pooled[d];
                }
                norm = Math.max(Math.sqrt(norm), 1e-12);
                for (int d = 0; d < dim; d++) pooled[d] /= norm;
                return pooled;
            }
        }
    }

    static List<String> texts() {
        List<String> texts = new ArrayList<>(List.of(
                "The quick brown fox jumps over the lazy dog.", "", "Hi", "   ",
                "Should the death penalty be abolished? I believe every human life has intrinsic value.",
                "人工智能应该受到监管吗？", "Künstliche Intelligenz sollte reguliert werden.", "🙂 emoji 🚀 test",
                "word ".repeat(400), "A long answer. ".repeat(60)));
        try {
            Path pct = SharedData.dir().resolve("pct").resolve("zephyr-7b-beta.csv");
            try (Reader r = Files.newBufferedReader(pct, StandardCharsets.UTF_8)) {
                int n = 0;
                for (CSVRecord row : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                    if (n++ % 9 == 0) texts.add(row.get("completion"));
                    if (texts.size() >= 90) break;
                }
            }
        } catch (org.opentest4j.TestAbortedException | java.io.IOException absent) {
            for (int i = 0; i < 40; i++) texts.add("Generated sentence number " + i + ". ".repeat(i % 7) + "values ".repeat(i * 3));
        }
        return texts;
    }

    @Test
    void knownEmbeddingOfAPangram() {
        float[] e = model.embed(List.of("The quick brown fox jumps over the lazy dog."), MAX_LENGTH)[0];
        float[] expected = {0.04393f, 0.05893f, 0.04818f, 0.07755f, 0.02674f};
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], e[i], 1e-5, "element " + i);
    }

    @Test
    void matchesOnnxRuntimeForBatchSizes1_7_32() throws Exception {
        List<String> texts = texts();
        Collections.shuffle(texts, new Random(7)); // batches mix short and long texts
        List<int[]> ids = texts.stream().map(t -> model.tokenizer().encode(t, MAX_LENGTH).ids()).toList();
        List<double[]> refs = new ArrayList<>();
        for (int[] x : ids) refs.add(reference(x));
        for (int batchSize : new int[]{1, 7, 32}) {
            double minCos = 1, maxDiff = 0;
            for (int from = 0; from < texts.size(); from += batchSize) {
                List<String> chunk = texts.subList(from, Math.min(texts.size(), from + batchSize));
                float[][] got = model.embed(chunk, MAX_LENGTH);
                for (int j = 0; j < chunk.size(); j++) {
                    double[] ref = refs.get(from + j);
                    double dot = 0, n1 = 0, n2 = 0;
                    for (int d = 0; d < ref.length; d++) {
                        dot += got[j][d] * ref[d];
                        n1 += (double) got[j][d] * got[j][d];
                        n2 += ref[d] * ref[d];
                        maxDiff = Math.max(maxDiff, Math.abs(got[j][d] - ref[d]));
                    }
                    minCos = Math.min(minCos, dot / Math.sqrt(n1 * n2));
                }
            }
            System.out.printf("parity vs ONNX Runtime, %d texts, batch %d: min cos %.7f, max |diff| %.2e%n",
                    texts.size(), batchSize, minCos, maxDiff);
            assertTrue(minCos >= 0.9999, "batch " + batchSize + ": min cosine " + minCos);
            assertTrue(maxDiff <= 1e-4, "batch " + batchSize + ": max |diff| " + maxDiff);
        }
    }

    /** One short text as a whole job takes the reference kernels (EmbeddingModel.embed(batch, true)): same parity. */
    @Test
    void oneShotPathMatchesOnnxRuntime() throws Exception {
        int checked = 0;
        double minCos = 1, maxDiff = 0;
        for (String text : texts()) {
            var enc = model.tokenizer().encode(text, MAX_LENGTH);
            if (enc.ids().length > EmbeddingModel.ONE_SHOT_MAX_POSITIONS) continue;
            float[] got = model.embed(dev.univar.text.Batch.pad(new dev.univar.text.Encoding[]{enc}, model.tokenizer().padId()), true)[0];
            double[] ref = reference(enc.ids());
            double dot = 0, n1 = 0, n2 = 0;
            for (int d = 0; d < ref.length; d++) {
                dot += got[d] * ref[d];
                n1 += (double) got[d] * got[d];
                n2 += ref[d] * ref[d];
                maxDiff = Math.max(maxDiff, Math.abs(got[d] - ref[d]));
            }
            minCos = Math.min(minCos, dot / Math.sqrt(n1 * n2));
            checked++;
        }
        System.out.printf("one-shot path vs ONNX Runtime, %d short texts: min cos %.7f, max |diff| %.2e%n", checked, minCos, maxDiff);
        assertTrue(checked >= 3, "short texts checked: " + checked);
        assertTrue(minCos >= 0.9999, "min cosine " + minCos);
        assertTrue(maxDiff <= 1e-4, "max |diff| " + maxDiff);
    }

    @Test
    void scalarAndCpuBackendsRunTheSameEncoder() throws Exception {
        List<String> texts = List.of("Short one.", "A somewhat longer sentence about values and fairness.", "中文 text");
        try (EmbeddingModel scalar = EmbeddingModel.load(modelDir, new ScalarBackend())) {
            float[][] a = scalar.embed(texts, MAX_LENGTH), b = model.embed(texts, MAX_LENGTH);
            for (int i = 0; i < texts.size(); i++)
                for (int d = 0; d < a[i].length; d++) assertEquals(a[i][d], b[i][d], 2e-5, "text " + i + " dim " + d);
        }
    }
}
