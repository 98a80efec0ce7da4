package dev.univar.text;

import dev.univar.SharedData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The acceptance: ids identical to {@code spm_encode --output_format=id} on every question of
 * {@code shared/data/questions} (en, zh, de, ja) and every LLM answer and prompt of {@code shared/data/pct},
 * for a unigram and a BPE model trained by univar and a model trained by {@code spm_train}; and
 * {@code decode(encode(x))} equal to SentencePiece's normalised x ({@code spm_normalize}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SentencePieceParityTest {
    Path dir;
    List<String> texts;      // every text, line breaks turned into spaces (see SentencePieceSupport.oneLine)
    List<String> originals;  // the same texts as they are in the files
    Path textFile;
    int questionCount;

    @BeforeAll
    void trainModels() throws IOException {
        SentencePieceSupport.requireLibrary();
        SentencePieceSupport.requireCli();
        Path shared = SharedData.dir();
        originals = new ArrayList<>(SentencePieceSupport.questions(shared));
        questionCount = originals.size();
        originals.addAll(SentencePieceSupport.pctAnswers(shared, Integer.MAX_VALUE));
        texts = originals.stream().map(SentencePieceSupport::oneLine).toList();
        dir = Files.createTempDirectory("spm-parity");
        textFile = Files.write(dir.resolve("texts.txt"), texts, StandardCharsets.UTF_8);
        // Training corpus: all questions plus the first 60 answers of each LLM, so every language is covered.
        List<String> corpus = new ArrayList<>(texts.subList(0, questionCount));
        corpus.addAll(SentencePieceSupport.pctAnswers(shared, 60).stream().map(SentencePieceSupport::oneLine).toList());
        Path corpusFile = Files.write(dir.resolve("corpus.txt"), corpus, StandardCharsets.UTF_8);
        SentencePieceTrainer.train(new SentencePieceTrainer.Options(corpusFile, dir.resolve("uni"), 4000,
                SentencePieceTrainer.ModelType.UNIGRAM));
        SentencePieceTrainer.train(new SentencePieceTrainer.Options(corpusFile, dir.resolve("bpe"), 4000,
                SentencePieceTrainer.ModelType.BPE));
        try {
            SentencePieceSupport.run(null, "spm_train", "--input=" + corpusFile, "--model_prefix=" + dir.resolve("spm"),
                    "--vocab_size=3000", "--minloglevel=1");
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    void cleanUp() throws IOException {
        if (dir == null) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Test
    void univarUnigramMatchesSpmEncode() throws Exception {
        assertParity("uni", false);
    }

    @Test
    void univarBpeMatchesSpmEncode() throws Exception {
        assertParity("bpe", false);
    }

    @Test
    void spmTrainModelMatchesInUnivar() throws Exception {
        assertParity("spm", true);
    }

    /** @param extras also check line breaks and the pieces round trip (once is enough: it is the same library) */
    private void assertParity(String name, boolean extras) throws Exception {
        Path model = dir.resolve(name + ".model");
        assertTrue(Files.isRegularFile(dir.resolve(name + ".vocab")), name + ".vocab written");
        List<String> expected = SentencePieceSupport.run(textFile, "spm_encode", "--model=" + model,
                "--output_format=id");
        List<String> normalised = SentencePieceSupport.run(textFile, "spm_normalize", "--model=" + model);
        assertEquals(texts.size(), expected.size(), "spm_encode printed one line per text");
        assertEquals(texts.size(), normalised.size(), "spm_normalize printed one line per text");
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.fromModelFile(model)) {
            SentencePieceProcessor sp = tok.processor();
            int mismatches = 0, lineBreakDiffs = 0, decodeChecked = 0, withUnknown = 0;
            List<String> examples = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = tok.tokenIds(texts.get(i));
                if (!Arrays.equals(SentencePieceSupport.ids(expected.get(i)), ids)) {
                    if (mismatches++ < 3) examples.add("text " + i + ": " + texts.get(i) + "\n spm:    " + expected.get(i)
                            + "\n univar: " + Arrays.toString(ids));
                }
                if (extras && !texts.get(i).equals(originals.get(i)) && !Arrays.equals(ids, tok.tokenIds(originals.get(i))))
                    lineBreakDiffs++;
                // decode(encode(x)) is the normalised text, except that an unknown id decodes to " ⁇ "; decoding
                // the pieces keeps unknown characters, so that round trip must hold for every text.
                String want = normalised.get(i);
                if (extras)
                    assertEquals(want, sp.decodePieces(sp.encodePieces(texts.get(i))), "pieces round trip of text " + i);
                if (Arrays.stream(ids).anyMatch(sp::isUnknown)) {
                    withUnknown++;
                } else {
                    assertEquals(want, tok.decode(ids), "decode(encode(x)) of text " + i);
                    decodeChecked++;
                }
            }
            System.out.printf("SentencePiece parity %s (%d pieces): %d texts (%d questions, %d pct), %d mismatches; decode(encode(x)) == "
                            + "normalised x on %d texts without unknown ids (%d have some)%n",
                    name, sp.pieceSize(), texts.size(), questionCount, texts.size() - questionCount, mismatches, decodeChecked, withUnknown);
            assertEquals(0, mismatches, String.join("\n", examples));
            assertEquals(0, lineBreakDiffs, "texts whose ids change when line breaks become spaces");
            assertTrue(texts.size() > 10_000, "all questions and pct answers compared: " + texts.size());
        }
    }
}
