package dev.univar.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.univar.MiniLmFiles;
import dev.univar.SharedData;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Our WordPiece against Hugging Face {@code tokenizers} on the same all-MiniLM-L6-v2 tokenizer.json. */
class WordPieceParityTest {
    private static final int[] MAX_LENGTHS = {128, 256, 512};

    private static WordPieceTokenizer tokenizer;
    private static HfOracle oracle;

    @BeforeAll
    static void load() {
        tokenizer = WordPieceTokenizer.fromTokenizerJson(MiniLmFiles.tokenizerJson());
        oracle = new HfOracle(MiniLmFiles.tokenizerJson());
    }

    @AfterAll
    static void close() {
        if (oracle != null) oracle.close();
    }

    static List<String> edgeCases() {
        List<String> t = new ArrayList<>(List.of(
                "", " ", "   ", "\t\n ", "\r\n\r\n", "\u3000\u00a0\u2007\u202f\u2028\u2029\u0085",
                "Hello, world!", "Crème brûlée", "naïve café résumé", "Ångström Øre Łódź",
                "Tiếng Việt có dấu: Hà Nội, Thành phố Hồ Chí Minh, người Việt",
                "我爱北京天安门 and Beijing123中文", "日本語のテキストとカタカナ、ひらがな。", "ｶﾀｶﾅ ＦＵＬＬＷＩＤＴＨ １２３",
                "한국어 텍스트입니다. 안녕하세요!", "emoji 😀😃 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇩🇪🇯🇵 ❤️ #️⃣",
                "null\u0000byte bell\u0007 zero\u200bwidth soft\u00adhyphen \ufeffbom \ufffdreplacement",
                "rtl\u200fmark \u202eoverride\u202c joiner\u200d non\u200cjoiner \u2060wj",
                "a".repeat(300), "b".repeat(100), "c".repeat(101), "é".repeat(100), "é".repeat(101),
                "😀".repeat(100), "😀".repeat(101), "x" + "\u0301".repeat(150),
                "hello [MASK] world", "[CLS] starts [SEP] ends [PAD][UNK]", "a[MASK]b[mask]c [MASK ] [[MASK]]",
                "[CLS][CLS]", "[SEP]", "[MAS", "\u0130stanbul İİ ı I i ẞ ß ŉ ǅ Σίσυφος ΌΣΟΣ",
                "КИРИЛЛИЦА Ёлка Ǆ", "ΑΘΗΝΑ Ὀδυσσεύς ᾼ", "Türkçe İĞÜŞÖÇ ığüşöç",
                "مرحبا بالعالم، كيف حالك؟ ١٢٣", "עברית עם ניקוד: שָׁלוֹם", "हिन्दी देवनागरी", "ภาษาไทย",
                "3.14159, 1,000,000 $5.99 50% -273.15°C 10/10 1e-9 #1 @user v2.0.1", "e-mail: a.b@c.de; http://x.y/z?q=1&r=2",
                "don't can't won't — “quotes” ‘single’ «guillemets» …ellipsis", "a\u0000b\u0001c\u001fd\u007fe\u0080f\u009fg",
                "\ud835\udc00\ud835\udc01 math bold 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ℌ ℵ", "ﬁ ﬂ ﬀ ligatures Ⅻ ① ²³", "𠀀𠀁 𪜀 𫝀 𫠠 𬺰 𰀀 丽",
                "Zalgo: Z̷̢̧͈a̶̛͎l̸̨̛g̵̣̈ó̸͉", "tab\tseparated\tvalues\nnew line", "___ --- ... !!! ??? ¿¡",
                "<|assistant|>\nSure, here is my answer.", "mixedCASE CamelCaseWords UPPERCASE lowercase"));
        StringBuilder longText = new StringBuilder();
        for (int i = 0; i < 400; i++) longText.append("word").append(i).append(i % 7 == 0 ? ". " : " ");
        t.add(longText.toString());
        t.add("supercalifragilisticexpialidocious ".repeat(60));
        t.add("中".repeat(600));
        return t;
    }

    static List<String> pctTexts(Path data) throws IOException {
        List<String> texts = new ArrayList<>();
        try (Stream<Path> files = Files.list(data.resolve("pct"))) {
            for (Path csv : files.filter(p -> p.toString().endsWith(".csv")).sorted().toList()) {
                try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
                     var parser = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                    List<String> columns = parser.getHeaderNames();
                    for (CSVRecord row : parser) {
                        for (String column : List.of("full_prompt", "completion"))
                            if (columns.contains(column) && row.isSet(column)) texts.add(row.get(column));
                    }
                }
            }
        }
        return texts;
    }

    static List<String> questionTexts(Path data) throws IOException {
        List<String> texts = new ArrayList<>();
        try (Stream<Path> files = Files.list(data.resolve("questions"))) {
            for (Path jsonl : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    var o = JsonParser.parseString(line).getAsJsonObject();
                    for (String field : List.of("question", "statement", "original")) {
                        JsonElement e = o.get(field);
                        if (e != null && e.isJsonPrimitive()) texts.add(e.getAsString());
                    }
                }
            }
        }
        return texts;
    }

    @Test
    void edgeCasesMatch() {
        assertParity(edgeCases(), "edge cases");
    }

    @Test
    void pctAnswersAndPromptsMatch() throws IOException {
        List<String> texts = pctTexts(SharedData.dir());
        assertTrue(texts.size() > 4000, "expected the pct completions and prompts, got " + texts.size());
        assertParity(texts, "pct");
    }

    @Test
    void multilingualQuestionsMatch() throws IOException {
        List<String> texts = questionTexts(SharedData.dir());
        assertTrue(texts.size() > 500, "expected the questions, got " + texts.size());
        assertParity(texts, "questions");
    }

    /**
     * Every code point, between two letters, so that each character class decision shows in the ids: dropped
     * (control) joins "a" and "b", whitespace and punctuation split them, anything else makes one word.
     */
    @Test
    void everyCodePointMatches() {
        assertEveryCodePoint(tokenizer, oracle);
    }

    static void assertEveryCodePoint(WordPieceTokenizer tokenizer, HfOracle oracle) {
        List<String> texts = new ArrayList<>();
        List<int[]> ranges = new ArrayList<>();
        final int perText = 64;
        for (int start = 0; start <= Character.MAX_CODE_POINT; start += perText) {
            StringBuilder sb = new StringBuilder();
            for (int c = start; c < start + perText && c <= Character.MAX_CODE_POINT; c++) {
                if (Character.getType(c) == Character.SURROGATE) continue;
                sb.append(" a").appendCodePoint(c).append("b ");
            }
            texts.add(sb.toString());
            ranges.add(new int[]{start, Math.min(start + perText, Character.MAX_CODE_POINT + 1)});
        }
        int[][] expected = oracle.encode(texts, HfOracle.UNLIMITED);
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            if (Arrays.equals(expected[i], withSpecials(tokenizer, texts.get(i)))) continue;
            // Some character of this group differs: find which, one by one.
            for (int c = ranges.get(i)[0]; c < ranges.get(i)[1]; c++) {
                if (Character.getType(c) == Character.SURROGATE) continue;
                String one = "a" + Character.toString(c) + "b";
                int[] want = oracle.encode(one, HfOracle.UNLIMITED);
                int[] got = withSpecials(tokenizer, one);
                if (!Arrays.equals(want, got))
                    mismatches.add(String.format("U+%04X type=%d hf=%s ours=%s", c, Character.getType(c),
                            Arrays.toString(want), Arrays.toString(got)));
            }
        }
        if (!mismatches.isEmpty())
            fail(mismatches.size() + " code points differ:\n" + String.join("\n", mismatches));
    }

    private static int[] withSpecials(WordPieceTokenizer tokenizer, String text) {
        return tokenizer.encode(text, Integer.MAX_VALUE).ids();
    }

    private static void assertParity(List<String> texts, String what) {
        assertParity(tokenizer, oracle, texts, what);
    }

    static void assertParity(WordPieceTokenizer tokenizer, HfOracle oracle, List<String> texts, String what) {
        List<String> mismatches = new ArrayList<>();
        int[][] full = oracle.encode(texts, HfOracle.UNLIMITED);
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = tokenizer.encode(texts.get(i), Integer.MAX_VALUE);
            if (!Arrays.equals(full[i], e.ids())) mismatches.add(describe(tokenizer, texts.get(i), "no limit", full[i], e.ids()));
        }
        for (int maxLength : MAX_LENGTHS) {
            int[][] expected = oracle.encode(texts, maxLength);
            for (int i = 0; i < texts.size(); i++) {
                Encoding e = tokenizer.encode(texts.get(i), maxLength);
                if (!Arrays.equals(expected[i], e.ids()))
                    mismatches.add(describe(tokenizer, texts.get(i), "max " + maxLength, expected[i], e.ids()));
                assertEquals(full[i].length > maxLength, e.truncated(), "truncated flag of " + texts.get(i));
                assertEquals(full[i].length, e.fullLength(), "untruncated length of " + texts.get(i));
            }
        }
        System.out.printf("WordPiece parity, %s: %d texts x %d lengths, %d mismatches%n", what, texts.size(),
                MAX_LENGTHS.length + 1, mismatches.size());
        if (!mismatches.isEmpty())
            fail(mismatches.size() + " mismatches in " + what + ", first ones:\n"
                    + String.join("\n", mismatches.subList(0, Math.min(20, mismatches.size()))));
    }

    private static String describe(WordPieceTokenizer tokenizer, String text, String limit, int[] expected, int[] actual) {
        String shown = text.length() > 300 ? text.substring(0, 300) + "..." : text;
        return "text (" + limit + "): " + escape(shown) + "\n  hf:   " + Arrays.toString(expected)
                + "\n  ours: " + Arrays.toString(actual) + "\n  ours as tokens: " + tokenizer.tokens(text);
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c < 0x20 || (c >= 0x7F && c < 0xA0) || Character.getType(c) == Character.FORMAT)
                b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        });
        return b.toString();
    }
}
