package dev.univar.text;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.univar.MiniLmFiles;
import dev.univar.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The same parity checks on variants of the MiniLM tokenizer.json, so the settings MiniLM does not use
 * (cased, accents kept, no CJK spacing, added tokens with lstrip/rstrip/single_word or normalized) are held to
 * Hugging Face's behaviour too.
 */
class WordPieceVariantParityTest {
    @TempDir
    Path dir;

    @Test
    void casedWithAccents() throws IOException {
        check("cased", root -> {
            JsonObject n = root.getAsJsonObject("normalizer");
            n.addProperty("lowercase", false);
        }, true);
    }

    @Test
    void lowercaseKeepingAccentsWithoutCjkSpacing() throws IOException {
        check("lowercase-accents", root -> {
            JsonObject n = root.getAsJsonObject("normalizer");
            n.addProperty("strip_accents", false);
            n.addProperty("handle_chinese_chars", false);
        }, true);
    }

    @Test
    void noCleaning() throws IOException {
        check("raw", root -> root.getAsJsonObject("normalizer").addProperty("clean_text", false), false);
    }

    @Test
    void addedTokenFlags() throws IOException {
        WordPieceTokenizer tokenizer = check("added-flags", root -> {
            var added = root.getAsJsonArray("added_tokens");
            for (var e : added) {
                JsonObject t = e.getAsJsonObject();
                switch (t.get("content").getAsString()) {
                    case "[MASK]" -> {
                        t.addProperty("lstrip", true);
                        t.addProperty("rstrip", true);
                    }
                    case "[SEP]" -> t.addProperty("single_word", true);
                    case "[PAD]" -> t.addProperty("normalized", true);
                    default -> { }
                }
            }
            JsonObject word = new JsonObject();
            word.addProperty("id", 30522);
            word.addProperty("content", "Univar Rocks");
            word.addProperty("single_word", false);
            word.addProperty("lstrip", false);
            word.addProperty("rstrip", false);
            word.addProperty("normalized", true);
            word.addProperty("special", false);
            added.add(word);
        }, false);
        // The flags must have taken effect, or agreeing with HF would prove little.
        assertArrayEquals(new int[]{101, 1060, 103, 1061, 102}, tokenizer.encode("x \t[MASK]  y"));
        assertArrayEquals(new int[]{101, 30522, 999, 102}, tokenizer.encode("UNIVAR ROCKS!"));
        assertArrayEquals(new int[]{101, 1037, 1031, 19802, 1033, 1038, 102}, tokenizer.encode("a[SEP]b"));
    }

    private WordPieceTokenizer check(String name, Consumer<JsonObject> edit, boolean everyCodePoint) throws IOException {
        JsonObject root = JsonParser.parseString(Files.readString(MiniLmFiles.tokenizerJson(), StandardCharsets.UTF_8))
                .getAsJsonObject();
        edit.accept(root);
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, root.toString(), StandardCharsets.UTF_8);
        WordPieceTokenizer tokenizer = WordPieceTokenizer.fromTokenizerJson(file);
        List<String> texts = new ArrayList<>(WordPieceParityTest.edgeCases());
        texts.addAll(List.of("x [MASK] y", "x[MASK]y", "x  [MASK]\t\ny", "a[SEP]b", "a [SEP] b", "[SEP]a", "a_[SEP]",
                "é[SEP]", "[SEP]", "[pad] [PAD] x[PAD]", "univar rocks! UNIVAR ROCKS, Univar Rocks.", "ÜnivarRocks"));
        try (HfOracle oracle = new HfOracle(file)) {
            WordPieceParityTest.assertParity(tokenizer, oracle, texts, name + " edge cases");
            WordPieceParityTest.assertParity(tokenizer, oracle, WordPieceParityTest.questionTexts(SharedData.dir()),
                    name + " questions");
            if (everyCodePoint) WordPieceParityTest.assertEveryCodePoint(tokenizer, oracle);
        }
        return tokenizer;
    }
}
