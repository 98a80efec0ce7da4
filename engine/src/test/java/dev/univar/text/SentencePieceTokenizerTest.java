package dev.univar.text;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link SentencePieceTokenizer} on a small model trained here (no shared data needed): the Tokenizer
 * contract, the fairseq / XLM-R id convention, threads, native lifetime and errors.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SentencePieceTokenizerTest {
    @TempDir
    static Path dir;
    Path model;
    SentencePieceTokenizer plain;

    static final List<String> SAMPLES = List.of("Hello world.", "", "  spaced   out  ", "Ünïcödé ﬁne ＡＢＣ",
            "日本語のテキストです。", "中文文本", "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
            "tab\there", "emoji 🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢");

    @BeforeAll
    void train() throws IOException {
        SentencePieceSupport.requireLibrary();
        List<String> corpus = new ArrayList<>();
        String[] words = {"value", "values", "human", "fair", "fairness", "model", "language", "answer", "question",
                "freedom", "equality", "tradition", "der", "die", "das", "und", "Wert", "日本", "語", "中文", "文本"};
        for (int i = 0; i < 3000; i++) {
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < 8; w++) s.append(words[(i * 7 + w * 13 + w * i) % words.length]).append(w % 3 == 2 ? ". " : " ");
            corpus.add(s.toString().strip());
        }
        corpus.addAll(SAMPLES);
        Path corpusFile = Files.write(dir.resolve("corpus.txt"), corpus, StandardCharsets.UTF_8);
        SentencePieceTrainer.train(new SentencePieceTrainer.Options(corpusFile, dir.resolve("m"), 100,
                SentencePieceTrainer.ModelType.UNIGRAM, 1.0, true, java.util.Map.of()));
        model = dir.resolve("m.model");
        plain = SentencePieceTokenizer.fromModelFile(model);
    }

    @AfterAll
    void close() {
        if (plain != null) plain.close();
    }

    @Test
    void plainModelAddsNoSpecialTokensAndReportsTheModelsSpecials() {
        SentencePieceProcessor sp = plain.processor();
        assertEquals(0, sp.unkId());
        assertEquals(1, sp.bosId());
        assertEquals(2, sp.eosId());
        assertEquals(-1, sp.padId());
        assertEquals(100, plain.vocabSize());
        assertEquals(sp.unkId(), plain.padId(), "no <pad> in the model: the unknown id pads (masked anyway)");
        for (String s : SAMPLES) assertArrayEquals(sp.encodeIds(s), plain.encode(s, 10_000).ids(), s);
        assertEquals(0, plain.encode("", 8).length());
        assertEquals("<unk>", plain.token(0));
        assertEquals(0, plain.tokenId("<unk>"));
        assertEquals(-1, plain.tokenId("no such piece"));
        assertNull(plain.token(100));
        for (int id = 3; id < plain.vocabSize(); id++) assertEquals(id, plain.tokenId(plain.token(id)));
    }

    @Test
    void bosEosTruncationAndBatching() {
        try (SentencePieceTokenizer t = SentencePieceTokenizer.fromModelFile(model, true, 16)) {
            String text = "human values and fairness of the language model answer";
            int[] content = t.tokenIds(text);
            assertTrue(content.length > 6, Arrays.toString(content));
            Encoding full = t.encode(text, 1000);
            assertEquals(content.length + 2, full.length());
            assertEquals(1, full.id(0));
            assertEquals(2, full.id(full.length() - 1));
            assertFalse(full.truncated());
            Encoding cut = t.encode(text, 6);
            assertArrayEquals(new int[]{1, content[0], content[1], content[2], content[3], 2}, cut.ids());
            assertTrue(cut.truncated());
            assertEquals(content.length + 2, cut.fullLength());
            assertThrows(IllegalArgumentException.class, () -> t.encode(text, 1));

            Batch b = t.encodeBatch(List.of("fair", text, ""), 1000);
            assertEquals(3, b.size());
            assertEquals(content.length + 2, b.seqLen());
            assertArrayEquals(new int[]{t.encode("fair", 1000).length(), content.length + 2, 2}, b.lengths());
            assertEquals(t.padId(), b.row(2)[2]);
            assertEquals(0f, b.mask()[2 * b.seqLen() + 2]);
            assertEquals(1f, b.mask()[2 * b.seqLen() + 1]);
        }
    }

    /** Issue 21: a bad tokenizer_config.json is one line naming the file and the field, not a parser's exception. */
    @Test
    void badTokenizerConfigIsOneLineNamingFileAndField() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("xlmr-bad-config"));
        Files.copy(model, folder.resolve(SentencePieceTokenizer.XLMR_MODEL_FILE));
        Path config = folder.resolve("tokenizer_config.json");
        String[][] cases = {
                {"{\"model_max_length\": 64", "not valid JSON (line 1 column 24: end of input)"},
                {"", "empty file"},
                {"[64]", "not a JSON object; expected a Hugging Face tokenizer config"},
                {"{\"model_max_length\": \"long\"}", "model_max_length: expected a number, found the string \"long\""},
                {"{\"model_max_length\": 12.5}", "model_max_length: expected a whole number, found 12.5"},
                {"{\"model_max_length\": 1}", "model_max_length: 1 leaves no room for <s> and </s>"}};
        for (String[] c : cases) {
            Files.writeString(config, c[0]);
            dev.univar.data.InputException e = assertThrows(dev.univar.data.InputException.class,
                    () -> SentencePieceTokenizer.fromModelDir(folder).close());
            assertEquals(config + ": " + c[1], e.getMessage());
        }
        Files.writeString(config, "{\"model_max_length\": 1000000000000000019884624838656}");
        try (SentencePieceTokenizer x = SentencePieceTokenizer.fromModelDir(folder)) {
            assertEquals(SentencePieceTokenizer.DEFAULT_MAX_LENGTH, x.maxLength(), "HF's no-limit sentinel");
        }
    }

    @Test
    void fairseqConventionAsXlmRobertaTokenizer() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("xlmr"));
        Files.copy(model, folder.resolve(SentencePieceTokenizer.XLMR_MODEL_FILE));
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"model_max_length\": 64}");
        assertTrue(SentencePieceTokenizer.isModelDir(folder));
        try (SentencePieceTokenizer x = SentencePieceTokenizer.fromModelDir(folder)) {
            assertTrue(x.isFairseq());
            assertEquals(64, x.maxLength());
            // HF XLMRobertaTokenizer: <s>=0 <pad>=1 </s>=2 <unk>=3, spm ids + 1, <mask> = len(sp_model) + 1.
            assertEquals(0, x.tokenId("<s>"));
            assertEquals(1, x.tokenId("<pad>"));
            assertEquals(2, x.tokenId("</s>"));
            assertEquals(3, x.tokenId("<unk>"));
            assertEquals(101, x.tokenId("<mask>"));
            assertEquals(101, x.maskId());
            assertEquals(102, x.vocabSize());
            assertEquals(1, x.padId());
            assertEquals(3, x.unkId());
            assertEquals("<mask>", x.token(101));
            assertNull(x.token(102));
            for (String s : SAMPLES) {
                int[] spm = plain.tokenIds(s);
                int[] expected = new int[spm.length + 2];
                expected[0] = 0;
                for (int i = 0; i < spm.length; i++) expected[i + 1] = spm[i] == 0 ? 3 : spm[i] + 1;
                expected[spm.length + 1] = 2;
                assertArrayEquals(expected, x.encode(s), s);
                assertEquals(plain.decode(spm), x.decode(x.encode(s)), s);
            }
            int piece = plain.tokenId("▁value");
            assertTrue(piece > 2);
            assertEquals(piece + 1, x.tokenId("▁value"));
            assertEquals("▁value", x.token(piece + 1));
            assertEquals(-1, x.tokenId("no such piece"));
            // An unknown character is fairseq's <unk> (3), and decodes as SentencePiece's unknown surface.
            int[] ids = x.tokenIds("☃");
            assertTrue(Arrays.stream(ids).anyMatch(i -> i == 3), Arrays.toString(ids));
            assertTrue(x.decode(x.encode("☃")).contains("⁇"));
            assertEquals("", x.decode(new int[]{0, 1, 2, 101}), "specials decode to nothing");
        }
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertFalse(SentencePieceTokenizer.isModelDir(empty));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.fromModelDir(empty));
        assertTrue(e.getMessage().contains("sentencepiece.bpe.model"), e.getMessage());
    }

    @Test
    void piecesAndDecoding() {
        SentencePieceProcessor sp = plain.processor();
        for (String s : SAMPLES) {
            List<String> pieces = sp.encodePieces(s);
            int[] ids = sp.encodeIds(s);
            assertEquals(ids.length, pieces.size(), s);
            for (int i = 0; i < ids.length; i++)
                if (!sp.isUnknown(ids[i])) assertEquals(sp.idToPiece(ids[i]), pieces.get(i), s);
            if (Arrays.stream(ids).noneMatch(sp::isUnknown)) assertEquals(sp.decodeIds(ids), sp.decodePieces(pieces), s);
        }
        // nmt_nfkc normalisation: NFKC, runs of whitespace (tabs too) become one space, ends trimmed.
        assertEquals("spaced out", sp.decodePieces(sp.encodePieces("  spaced   out  ")));
        assertEquals("tab here", sp.decodePieces(sp.encodePieces("tab\there")));
        assertEquals("Ünïcödé fine ABC", sp.decodePieces(sp.encodePieces("Ünïcödé ﬁne ＡＢＣ")));
        assertEquals("", sp.decodeIds(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> sp.decodeIds(new int[]{100}));
        assertThrows(IllegalArgumentException.class, () -> sp.decodeIds(new int[]{-1}));
        // A text far longer than the first-guess buffers still comes back whole.
        String longText = "fairness ".repeat(20_000);
        assertEquals(longText.strip(), sp.decodeIds(sp.encodeIds(longText)));
        assertEquals(longText.strip(), sp.decodePieces(sp.encodePieces(longText)));
    }

    @Test
    void loadsFromBytesLikeFromFile() throws IOException {
        try (SentencePieceTokenizer b = SentencePieceTokenizer.fromModelBytes(Files.readAllBytes(model), false, 512)) {
            for (String s : SAMPLES) assertArrayEquals(plain.tokenIds(s), b.tokenIds(s), s);
        }
    }

    @Test
    void concurrentEncodingEqualsSerial() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 400; i++) texts.add(SAMPLES.get(i % SAMPLES.size()) + " value " + i + " fair".repeat(i % 17));
        List<int[]> serial = texts.stream().map(plain::tokenIds).toList();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int offset = w;
                results.add(pool.submit(() -> {
                    for (int r = 0; r < 5; r++)
                        for (int i = 0; i < texts.size(); i++) {
                            int k = (i + offset * 97) % texts.size();
                            if (!Arrays.equals(serial.get(k), plain.tokenIds(texts.get(k)))) return false;
                        }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        }
    }

    @Test
    void closeFreesOnceAndLaterCallsThrow() {
        SentencePieceTokenizer t = SentencePieceTokenizer.fromModelFile(model);
        assertArrayEquals(plain.tokenIds("fair"), t.tokenIds("fair"));
        t.close();
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.tokenIds("fair"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void badModelsAndBadTrainingAreExceptionsNotCrashes() throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.model"), "not a model");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.fromModelFile(junk));
        assertTrue(e.getMessage().contains("junk.model"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.fromModelFile(dir.resolve("missing.model")));
        assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.fromModelBytes(new byte[]{1, 2, 3}, false, 8));

        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "a b c\n");
        e = assertThrows(IllegalArgumentException.class, () -> SentencePieceTrainer.train(new SentencePieceTrainer.Options(
                tiny, dir.resolve("toolarge"), 5000, SentencePieceTrainer.ModelType.UNIGRAM)));
        assertTrue(e.getMessage().contains("SentencePiece training failed"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SentencePieceTrainer.train(new SentencePieceTrainer.Options(
                dir.resolve("no-such-input.txt"), dir.resolve("x"), 100, SentencePieceTrainer.ModelType.BPE)));
    }
}
