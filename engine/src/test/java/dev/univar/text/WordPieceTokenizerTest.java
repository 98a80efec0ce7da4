package dev.univar.text;

import dev.univar.MiniLmFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WordPieceTokenizerTest {
    @TempDir
    Path dir;

    /** ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 then the words. */
    private static final List<String> TINY_VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "hello", "world", "un", "##aff", "##able", "!", ",", "cafe", "café", "中", "Hello");

    private Path tinyVocab() throws IOException {
        Path file = dir.resolve("vocab.txt");
        Files.write(file, TINY_VOCAB);
        return file;
    }

    @Test
    void vocabTxtUncased() throws IOException {
        WordPieceTokenizer t = WordPieceTokenizer.fromVocabTxt(tinyVocab(), true);
        assertEquals(16, t.vocabSize());
        assertEquals(0, t.padId());
        assertEquals(1, t.unkId());
        assertArrayEquals(new int[]{2, 5, 11, 6, 10, 3}, t.encode("Hello, WORLD!"));
        assertArrayEquals(new int[]{2, 7, 8, 9, 3}, t.encode("unaffable"));
        assertArrayEquals(new int[]{2, 1, 3}, t.encode("unaffablex"), "one unknown piece makes the whole word [UNK]");
        assertArrayEquals(new int[]{2, 12, 3}, t.encode("Café"), "accents are stripped when lowercasing");
        assertArrayEquals(new int[]{2, 5, 14, 6, 3}, t.encode("hello中world"), "CJK ideographs are words");
        assertArrayEquals(new int[]{2, 5, 4, 6, 3}, t.encode("hello[MASK]world"), "special tokens match as typed");
        assertArrayEquals(new int[]{2, 3}, t.encode(" \t\n\u0000\u200b "));
        assertEquals("##aff", t.token(8));
        assertEquals(9, t.tokenId("##able"));
        assertEquals(-1, t.tokenId("nope"));
    }

    @Test
    void vocabTxtCasedThroughModelDir() throws IOException {
        tinyVocab();
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false}");
        WordPieceTokenizer t = WordPieceTokenizer.fromModelDir(dir);
        assertArrayEquals(new int[]{2, 15, 1, 3}, t.encode("Hello WORLD"));
        assertArrayEquals(new int[]{2, 13, 3}, t.encode("café"), "accents are kept when not lowercasing");
    }

    @Test
    void modelDirPrefersTokenizerJson() throws IOException {
        tinyVocab();
        Files.copy(MiniLmFiles.tokenizerJson(), dir.resolve("tokenizer.json"));
        assertEquals(30522, WordPieceTokenizer.fromModelDir(dir).vocabSize());
    }

    @Test
    void modelDirWithoutTokenizerNamesWhatIsMissing() {
        var e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.fromModelDir(dir));
        assertTrue(e.getMessage().contains(dir.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("vocab.txt"), e.getMessage());
    }

    @Test
    void truncationKeepsTheFirstTokensAndReportsIt() throws IOException {
        WordPieceTokenizer t = WordPieceTokenizer.fromVocabTxt(tinyVocab(), true);
        Encoding e = t.encode("hello world hello world", 4);
        assertArrayEquals(new int[]{2, 5, 6, 3}, e.ids());
        assertTrue(e.truncated());
        assertEquals(6, e.fullLength());
        Encoding fits = t.encode("hello world", 4);
        assertFalse(fits.truncated());
        assertEquals(4, fits.fullLength());
        assertArrayEquals(new int[]{2, 3}, t.encode("hello", 2).ids());
        assertThrows(IllegalArgumentException.class, () -> t.encode("hello", 1));
        assertArrayEquals(new int[]{2, 5, 3}, t.withMaxLength(3).encode("hello world"));
    }

    @Test
    void batchIsPaddedToTheLongestText() throws IOException {
        WordPieceTokenizer t = WordPieceTokenizer.fromVocabTxt(tinyVocab(), true);
        Batch b = t.encodeBatch(List.of("hello world!", "", "hello world hello world hello"), 6);
        assertEquals(3, b.size());
        assertEquals(6, b.seqLen());
        assertArrayEquals(new int[]{5, 2, 6}, b.lengths());
        assertArrayEquals(new int[]{
                2, 5, 6, 10, 3, 0,
                2, 3, 0, 0, 0, 0,
                2, 5, 6, 5, 6, 3}, b.ids());
        assertArrayEquals(new float[]{
                1, 1, 1, 1, 1, 0,
                1, 1, 0, 0, 0, 0,
                1, 1, 1, 1, 1, 1}, b.mask());
        assertArrayEquals(new int[18], b.typeIds());
        assertArrayEquals(new int[]{2, 3, 0, 0, 0, 0}, b.row(1));

        Batch empty = t.encodeBatch(List.of(), 8);
        assertEquals(0, empty.size());
        assertEquals(0, empty.seqLen());
    }

    @Test
    void sharedAcrossThreads() {
        WordPieceTokenizer t = WordPieceTokenizer.fromTokenizerJson(MiniLmFiles.tokenizerJson());
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) texts.add("Text number " + i + ": naïve café, 東京 " + "word".repeat(i % 30));
        List<int[]> sequential = texts.stream().map(t::encode).toList();
        List<int[]> parallel = texts.parallelStream().map(t::encode).toList();
        IntStream.range(0, texts.size()).forEach(i -> assertArrayEquals(sequential.get(i), parallel.get(i)));
    }
}
