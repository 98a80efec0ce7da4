package dev.univar.cuda;

import dev.univar.MiniLmFiles;
import dev.univar.cpu.CpuBackend;
import dev.univar.io.OnnxBertImporter;
import dev.univar.model.BertConfig;
import dev.univar.model.Encoder;
import dev.univar.nn.EmbeddingModel;
import dev.univar.perf.Bench;
import dev.univar.tensor.Precision;
import dev.univar.text.Batch;
import dev.univar.text.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * all-MiniLM-L6-v2 on the CUDA backend against the CPU backend: fp32 within 1e-4 (pooled embeddings and the last
 * hidden state), TF32 and BF16 products with a cosine of at least 0.999 per text; batches of 1, 7 and 32 mixing
 * short and long texts, so padding is exercised. Prints one line of numbers per check, and the forward time at
 * batch 128 × 128 per precision (for the log; the benchmark proper is {@code univar bench}). Skipped without a
 * CUDA driver.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaEncoderTest {
    private static final int MAX_LENGTH = 256;
    private Path modelDir;
    private String modelKind;
    private EmbeddingModel cpu;
    private List<String> texts;
    private List<float[]> cpuEmbeddings;

    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeDriver();
    }

    @BeforeAll
    void setUp() throws Exception {
        if (!CudaContext.available()) return; // each test reports itself skipped
        modelDir = Files.createTempDirectory("univar-cuda-parity").resolve("minilm");
        if (CudaEncoderTest.class.getResource(MiniLmFiles.ONNX_RESOURCE) != null) {
            OnnxBertImporter.importModel(MiniLmFiles.onnx(), MiniLmFiles.tokenizerJson(), modelDir);
            modelKind = "all-MiniLM-L6-v2";
        } else {
            // The GPU bundle (bench/gpu-prepare.sh) leaves out the 83 MB MiniLM jar: the same shapes with random
            // weights compare the two backends just as well.
            modelDir = randomMiniLm(modelDir.getParent());
            modelKind = "random weights of all-MiniLM-L6-v2's shape";
        }
        System.out.println("CUDA check encoder model: " + modelKind);
        cpu = EmbeddingModel.load(modelDir, new CpuBackend());
        texts = texts();
        cpuEmbeddings = new ArrayList<>();
        for (String t : texts) cpuEmbeddings.add(cpu.embed(List.of(t), MAX_LENGTH)[0]);
    }

    @AfterAll
    void tearDown() {
        if (cpu != null) cpu.close();
    }

    /**
     * A BERT folder of all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12 heads, FFN 1536, 30,522 ids, 512
     * positions) with random weights and a WordPiece vocabulary made up here: the special tokens, single
     * characters (ASCII and the CJK/German characters of {@link #texts}), the texts' words and numbered fillers.
     */
    static Path randomMiniLm(Path parent) throws java.io.IOException {
        java.util.LinkedHashSet<String> vocab = new java.util.LinkedHashSet<>(List.of("[PAD]"));
        for (int i = 1; i < 100; i++) vocab.add("[unused" + i + "]");
        vocab.addAll(List.of("[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (char c = '!'; c <= '~'; c++) {
            vocab.add(String.valueOf(Character.toLowerCase(c)));
            vocab.add("##" + Character.toLowerCase(c));
        }
        for (String t : texts()) {
            for (String w : t.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) if (!w.isEmpty()) vocab.add(w);
            t.codePoints().filter(Character::isLetter).forEach(cp -> vocab.add(new String(Character.toChars(Character.toLowerCase(cp)))));
        }
        for (int i = 0; vocab.size() < 30522; i++) vocab.add("filler" + i);
        Path vocabFile = parent.resolve("vocab.txt");
        Files.write(vocabFile, vocab);
        Path dir = parent.resolve("minilm-random");
        dev.univar.nn.ModelInit.create(vocabFile, v -> BertConfig.initial(v.size(), v.padId(), 6, 384, 12, 1536, 512), dir, 42);
        return dir;
    }

    /** Short, long (truncated at 256 tokens), empty and non-Latin texts, shuffled so that batches mix lengths. */
    private static List<String> texts() {
        List<String> texts = new ArrayList<>(List.of(
                "The quick brown fox jumps over the lazy dog.", "", "Hi", "   ",
                "Should the death penalty be abolished? I believe every human life has intrinsic value.",
                "人工智能应该受到监管吗？", "Künstliche Intelligenz sollte reguliert werden.", "🙂 emoji 🚀 test",
                "word ".repeat(400), "A long answer. ".repeat(60)));
        Random r = new Random(3);
        String[] words = {"freedom", "tradition", "equality", "security", "the", "of", "and", "people", "should",
                "government", "values", "family", "power", "achievement", "benevolence", "universalism", "conformity"};
        for (int i = 0; i < 50; i++) {
            StringBuilder b = new StringBuilder("Q: what matters most? A:");
            for (int w = 0, n = 1 + r.nextInt(i % 5 == 0 ? 200 : 40); w < n; w++) b.append(' ').append(words[r.nextInt(words.length)]);
            texts.add(b.toString());
        }
        Collections.shuffle(texts, new Random(7));
        return texts;
    }

    @Test
    void fp32MatchesTheCpuWithin1e4() throws Exception {
        try (EmbeddingModel gpu = EmbeddingModel.load(modelDir, CudaBackend.open(0, Precision.FP32))) {
            for (int batchSize : new int[]{1, 7, 32}) {
                double[] stats = compare(gpu, batchSize); // {min cosine, max |diff|}
                System.out.printf(Locale.ROOT, "CUDA check encoder fp32 vs cpu, %d texts, batch %d: pooled max |diff| %.3e, min cos %.7f%n",
                        texts.size(), batchSize, stats[1], stats[0]);
                assertTrue(stats[1] <= 1e-4, "batch " + batchSize + ": max |diff| " + stats[1]);
                assertTrue(stats[0] >= 0.9999, "batch " + batchSize + ": min cosine " + stats[0]);
            }
            // The last hidden state itself, for one padded batch of 32.
            Encoding[] enc = texts.subList(0, 32).stream().map(t -> cpu.tokenizer().encode(t, MAX_LENGTH)).toArray(Encoding[]::new);
            Batch batch = Batch.pad(enc, cpu.tokenizer().padId());
            float[] expected = cpu.encoder().forward(batch).toArray(), actual = gpu.encoder().forward(batch).toArray();
            double maxDiff = 0;
            for (int i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
            System.out.printf(Locale.ROOT, "CUDA check encoder fp32 vs cpu, last hidden state [32 x %d x 384]: max |diff| %.3e%n",
                    batch.seqLen(), maxDiff);
            assertTrue(maxDiff <= 1e-4, "last hidden state: max |diff| " + maxDiff);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void reducedPrecisionKeepsCosine0999(Precision precision) throws Exception {
        try (EmbeddingModel gpu = EmbeddingModel.load(modelDir, CudaBackend.open(0, precision))) {
            for (int batchSize : new int[]{7, 32}) {
                double[] stats = compare(gpu, batchSize);
                System.out.printf(Locale.ROOT, "CUDA check encoder %s vs cpu, %d texts, batch %d: min cos %.7f, pooled max |diff| %.3e%n",
                        precision.name().toLowerCase(Locale.ROOT), texts.size(), batchSize, stats[0], stats[1]);
                assertTrue(stats[0] >= 0.999, precision + " batch " + batchSize + ": min cosine " + stats[0]);
            }
        }
    }

    /** {min cosine, max |diff|} of the model's embeddings against the CPU's, texts embedded in batches. */
    private double[] compare(EmbeddingModel gpu, int batchSize) {
        double minCos = 1, maxDiff = 0;
        for (int from = 0; from < texts.size(); from += batchSize) {
            List<String> chunk = texts.subList(from, Math.min(texts.size(), from + batchSize));
            float[][] got = gpu.embed(chunk, MAX_LENGTH);
            for (int j = 0; j < chunk.size(); j++) {
                float[] ref = cpuEmbeddings.get(from + j);
                double dot = 0, n1 = 0, n2 = 0;
                for (int d = 0; d < ref.length; d++) {
                    dot += (double) got[j][d] * ref[d];
                    n1 += (double) got[j][d] * got[j][d];
                    n2 += (double) ref[d] * ref[d];
                    maxDiff = Math.max(maxDiff, Math.abs(got[j][d] - ref[d]));
                }
                minCos = Math.min(minCos, dot / Math.sqrt(n1 * n2));
            }
        }
        return new double[]{minCos, maxDiff};
    }

    /** Not a check: the forward time at batch 128 × 128 per precision, so the GPU run's log has it. */
    @ParameterizedTest
    @EnumSource(Precision.class)
    void forwardTimeAt128x128(Precision precision) throws Exception {
        try (EmbeddingModel gpu = EmbeddingModel.load(modelDir, CudaBackend.open(0, precision))) {
            Encoder encoder = gpu.encoder();
            Bench.Timing t = Bench.encoder(encoder, 128, 128, 10, 1.0);
            System.out.printf(Locale.ROOT, "CUDA timing encoder %s, batch 128 x 128: median %.2f ms, %.0f sequences/s%n",
                    precision.name().toLowerCase(Locale.ROOT), t.median() * 1e3, 128 / t.median());
        }
    }
}
