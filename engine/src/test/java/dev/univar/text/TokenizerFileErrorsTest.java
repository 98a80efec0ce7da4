package dev.univar.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.univar.MiniLmFiles;
import dev.univar.data.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21: a malformed {@code tokenizer.json}, {@code vocab.txt} or {@code tokenizer_config.json} is one
 * {@link InputException} line saying which file, which field or line, and why; never a parser's or the JVM's
 * exception (JsonSyntaxException, "Not a JSON Object: null", NullPointerException, ArrayIndexOutOfBoundsException).
 */
class TokenizerFileErrorsTest {
    @TempDir
    Path dir;

    /** Loading the folder fails with an InputException whose one-line message is "FILE: " + expected. */
    private void assertFails(String fileName, String expected) {
        assertFailsAt(fileName, 0, expected);
    }

    /** As {@link #assertFails}, the message naming a line of the file: "FILE:LINE: " + expected. */
    private void assertFailsAt(String fileName, int line, String expected) {
        Path file = dir.resolve(fileName);
        InputException e = assertThrows(InputException.class, () -> Tokenizer.forModelDir(dir).close());
        String m = e.getMessage();
        assertEquals(file + (line > 0 ? ":" + line : "") + ": " + expected, m);
        assertEquals(file, e.file());
        for (String leak : List.of("\n", "Exception", "java.", "com.google", "$."))
            assertFalse(m.contains(leak), "'" + leak + "' in: " + m);
    }

    private void tokenizerJson(String text) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), text, StandardCharsets.UTF_8);
    }

    /** MiniLM's tokenizer.json with {@code edit} applied. */
    private void tokenizerJson(Consumer<JsonObject> edit) throws IOException {
        JsonObject root = JsonParser.parseString(Files.readString(MiniLmFiles.tokenizerJson(), StandardCharsets.UTF_8))
                .getAsJsonObject();
        edit.accept(root);
        tokenizerJson(root.toString());
    }

    private static JsonObject vocab(JsonObject root) {
        return root.getAsJsonObject("model").getAsJsonObject("vocab");
    }

    @Test
    void tokenizerJsonThatIsNotATokenizerFile() throws IOException {
        tokenizerJson("{\"model\": {\n  \"type\": \"WordPiece\",\n  \"vocab\": {\"a\": 1,}\n}");
        assertFails("tokenizer.json", "not valid JSON (line 3 column 21: expected name)");
        tokenizerJson("{\"model\": {\"vocab\": {\"a\": 1");
        assertFails("tokenizer.json", "not valid JSON (line 1 column 28: end of input)");
        tokenizerJson("");
        assertFails("tokenizer.json", "empty file");
        tokenizerJson(" \n\t\n");
        assertFails("tokenizer.json", "empty file");
        tokenizerJson("{}");
        assertFails("tokenizer.json", "no 'model' object; expected a Hugging Face tokenizer file");
        tokenizerJson("[1, 2]");
        assertFails("tokenizer.json", "not a JSON object; expected a Hugging Face tokenizer file");
        tokenizerJson("null");
        assertFails("tokenizer.json", "not a JSON object; expected a Hugging Face tokenizer file");
        tokenizerJson("{\"model\": \"WordPiece\"}");
        assertFails("tokenizer.json", "model: expected an object, found the string \"WordPiece\"");
        tokenizerJson("{\"model\": {\"type\": \"WordPiece\"}}");
        assertFails("tokenizer.json", "no 'model.vocab' object; a WordPiece model lists its tokens and their ids there");
        tokenizerJson("{\"model\": {\"vocab\": {}}}");
        assertFails("tokenizer.json", "model.vocab: empty; a WordPiece model lists its tokens and their ids there");
        Files.write(dir.resolve("tokenizer.json"), new byte[]{'{', '\n', '"', 'm', (byte) 0xc3, '"', '}'});
        assertFailsAt("tokenizer.json", 2, "not valid UTF-8 text");
    }

    @Test
    void tokenizerJsonVocabularyIds() throws IOException {
        tokenizerJson(r -> vocab(r).addProperty("[UNK]", -5));
        assertFails("tokenizer.json", "model.vocab: id -5 for '[UNK]' is negative");
        tokenizerJson(r -> vocab(r).addProperty("hello", "x"));
        assertFails("tokenizer.json", "model.vocab: id of 'hello': expected an integer, found the string \"x\"");
        tokenizerJson(r -> vocab(r).addProperty("hello", 2147483648L));
        assertFails("tokenizer.json", "model.vocab: id of 'hello': expected an integer, found the number 2147483648");
        tokenizerJson(r -> vocab(r).addProperty("hello", 1.5));
        assertFails("tokenizer.json", "model.vocab: id of 'hello': expected an integer, found the number 1.5");
        tokenizerJson(r -> vocab(r).addProperty("hello", 99_999_999));
        assertFails("tokenizer.json", "model.vocab: id 99999999 for 'hello' is too large (ids index the embedding table; "
                + "at most 16777215 is accepted)");
        tokenizerJson(r -> r.getAsJsonObject("model").addProperty("unk_token", "<unk>"));
        assertFails("tokenizer.json", "model.unk_token: '<unk>' is not in model.vocab");
        tokenizerJson(r -> r.getAsJsonObject("model").addProperty("type", "BPE"));
        assertFails("tokenizer.json", "model.type: model type BPE is not supported; expected WordPiece (a BERT tokenizer)");
        tokenizerJson(r -> r.getAsJsonObject("model").addProperty("max_input_chars_per_word", -1));
        assertFails("tokenizer.json", "model.max_input_chars_per_word: must not be negative, got -1");
    }

    @Test
    void tokenizerJsonOtherSections() throws IOException {
        tokenizerJson(r -> r.getAsJsonArray("added_tokens").get(0).getAsJsonObject().addProperty("id", -1));
        assertFails("tokenizer.json", "added_tokens[0].id: id -1 for '[PAD]' is negative");
        tokenizerJson(r -> r.getAsJsonArray("added_tokens").get(1).getAsJsonObject().remove("content"));
        assertFails("tokenizer.json", "added_tokens[1].content: missing");
        tokenizerJson(r -> r.getAsJsonArray("added_tokens").set(2, new JsonPrimitive("[CLS]")));
        assertFails("tokenizer.json", "added_tokens[2]: expected an object, found the string \"[CLS]\"");
        tokenizerJson(r -> r.add("added_tokens", new JsonObject()));
        assertFails("tokenizer.json", "added_tokens: expected an array, found an object");
        tokenizerJson(r -> r.getAsJsonObject("normalizer").addProperty("lowercase", "yes"));
        assertFails("tokenizer.json", "normalizer.lowercase: expected true or false, found the string \"yes\"");
        tokenizerJson(r -> r.addProperty("normalizer", 3));
        assertFails("tokenizer.json", "normalizer: expected an object, found the number 3");
        tokenizerJson(r -> r.getAsJsonObject("pre_tokenizer").addProperty("type", "Whitespace"));
        assertFails("tokenizer.json", "pre_tokenizer.type: pre-tokenizer Whitespace is not supported; expected BertPreTokenizer");
        tokenizerJson(r -> {
            JsonArray ids = new JsonArray();
            ids.add(-3);
            r.getAsJsonObject("post_processor").getAsJsonObject("special_tokens").getAsJsonObject("[CLS]").add("ids", ids);
        });
        assertFails("tokenizer.json", "post_processor: special token id -3 is not an id of the vocabulary (0 to 30521)");
        tokenizerJson(r -> r.getAsJsonObject("post_processor").addProperty("single", 5));
        assertFails("tokenizer.json", "post_processor.single: expected an array, found the number 5");
        tokenizerJson(r -> r.getAsJsonObject("post_processor").getAsJsonArray("single").get(0).getAsJsonObject()
                .getAsJsonObject("SpecialToken").addProperty("id", "[NOPE]"));
        assertFails("tokenizer.json", "post_processor.single: special token [NOPE] is in neither the vocabulary nor "
                + "post_processor.special_tokens");
        tokenizerJson(r -> r.getAsJsonObject("padding").add("pad_token", new JsonArray()));
        assertFails("tokenizer.json", "padding.pad_token: expected a string, found an array");
    }

    @Test
    void vocabTxtAndTokenizerConfig() throws IOException {
        Path vocab = dir.resolve("vocab.txt");
        Files.writeString(vocab, "");
        assertFails("vocab.txt", "empty file; expected one token per line");
        Files.write(vocab, List.of("[PAD]", "[UNK]", "[SEP]", "hello"));
        assertFails("vocab.txt", "no line holds [CLS], which a BERT vocabulary needs ([CLS], [SEP] and [UNK])");
        byte[] bad = "[PAD]\n[UNK]\n[CLS]\nh\u00e9llo\n[SEP]\n".getBytes(StandardCharsets.ISO_8859_1); // é as Latin-1
        Files.write(vocab, bad);
        assertFailsAt("vocab.txt", 4, "not valid UTF-8 text");
        Files.write(vocab, List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"));
        assertEquals(5, Tokenizer.forModelDir(dir).vocabSize());

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false");
        assertFails("tokenizer_config.json", "not valid JSON (line 1 column 24: end of input)");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": \"no\"}");
        assertFails("tokenizer_config.json", "do_lower_case: expected true or false, found the string \"no\"");
    }
}
