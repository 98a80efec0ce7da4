package dev.univar.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's WordPiece tokenizer, reproducing Hugging Face {@code tokenizers} id for id: added-token splitting,
 * {@code BertNormalizer}, {@code BertPreTokenizer}, greedy longest-match-first WordPiece, then the
 * {@code [CLS] A [SEP]} template.
 *
 * <p>Immutable, so one instance serves any number of threads.
 */
public final class WordPieceTokenizer implements Tokenizer {

    /** BERT's position-embedding limit, the default maximum length of {@link #encode(String)}. */
    public static final int DEFAULT_MAX_LENGTH = 512;

    private final String[] idToToken;
    private final Map<String, Integer> vocab;
    private final CharTrie wordStarts;
    private final CharTrie continuations;
    private final int unkId;
    private final int maxInputCharsPerWord;
    private final BertNormalizer normalizer;
    private final AddedTokenSplitter rawTokens;        // matched in the input as typed
    private final AddedTokenSplitter normalizedTokens; // matched after normalisation
    private final int[] prefixIds;                     // e.g. [CLS]
    private final int[] suffixIds;                     // e.g. [SEP]
    private final int padId;
    private final int maxLength;

    private WordPieceTokenizer(Map<String, Integer> vocab, String unkToken, String continuingPrefix,
                               int maxInputCharsPerWord, BertNormalizer normalizer, List<AddedToken> addedTokens,
                               int[] prefixIds, int[] suffixIds, int padId, int maxLength) {
        this.vocab = Map.copyOf(vocab);
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (AddedToken t : addedTokens) size = Math.max(size, t.id() + 1);
        this.idToToken = new String[size];
        vocab.forEach((token, id) -> idToToken[id] = token);
        for (AddedToken t : addedTokens) idToToken[t.id()] = t.content();
        this.wordStarts = new CharTrie(vocab, "");
        this.continuations = new CharTrie(vocab, continuingPrefix);
        Integer unk = vocab.get(unkToken);
        if (unk == null) throw new IllegalArgumentException("unknown token " + unkToken + " is not in the vocabulary");
        this.unkId = unk;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.normalizer = normalizer;
        List<AddedToken> raw = new ArrayList<>();
        List<String> rawPatterns = new ArrayList<>();
        List<AddedToken> normalized = new ArrayList<>();
        List<String> normalizedPatterns = new ArrayList<>();
        for (AddedToken t : addedTokens) {
            if (t.normalized()) {
                normalized.add(t);
                normalizedPatterns.add(normalizer.normalize(t.content()));
            } else {
                raw.add(t);
                rawPatterns.add(t.content());
            }
        }
        this.rawTokens = new AddedTokenSplitter(raw, rawPatterns);
        this.normalizedTokens = new AddedTokenSplitter(normalized, normalizedPatterns);
        this.prefixIds = prefixIds.clone();
        this.suffixIds = suffixIds.clone();
        this.padId = padId;
        if (maxLength < prefixIds.length + suffixIds.length)
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the special tokens");
        this.maxLength = maxLength;
    }

    // ---------------------------------------------------------------- loading

    /**
     * Loads the tokenizer of a model folder: its {@code tokenizer.json}, or else its {@code vocab.txt}
     * (with {@code tokenizer_config.json}'s {@code do_lower_case} where present, lowercasing otherwise).
     */
    public static WordPieceTokenizer fromModelDir(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) return fromTokenizerJson(json);
        Path vocabTxt = dir.resolve("vocab.txt");
        if (Files.isRegularFile(vocabTxt)) {
            boolean lowercase = true;
            Boolean stripAccents = null;
            boolean chinese = true;
            Path config = dir.resolve("tokenizer_config.json");
            if (Files.isRegularFile(config)) {
                JsonObject c = readJson(config);
                lowercase = bool(c, "do_lower_case", true);
                if (c.has("strip_accents") && !c.get("strip_accents").isJsonNull())
                    stripAccents = c.get("strip_accents").getAsBoolean();
                chinese = bool(c, "tokenize_chinese_chars", true);
            }
            return fromVocabTxt(vocabTxt, lowercase, stripAccents == null ? lowercase : stripAccents, chinese);
        }
        throw new IllegalArgumentException("no tokenizer in " + dir.toAbsolutePath()
                + ": expected tokenizer.json or vocab.txt there");
    }

    /** Loads a Hugging Face {@code tokenizer.json} whose model is WordPiece. */
    public static WordPieceTokenizer fromTokenizerJson(Path file) {
        JsonObject root = readJson(file);
        JsonObject model = root.getAsJsonObject("model");
        String type = string(model, "type", "WordPiece");
        if (!type.equals("WordPiece"))
            throw new IllegalArgumentException(file + ": model type " + type + ", expected WordPiece");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject("vocab").entrySet())
            vocab.put(e.getKey(), e.getValue().getAsInt());

        BertNormalizer normalizer = new BertNormalizer(false, false, false, false);
        JsonElement n = root.get("normalizer");
        if (n != null && !n.isJsonNull()) {
            JsonObject o = n.getAsJsonObject();
            String nType = string(o, "type", "");
            if (!nType.equals("BertNormalizer"))
                throw new IllegalArgumentException(file + ": normalizer " + nType + " is not supported");
            boolean lowercase = bool(o, "lowercase", true);
            JsonElement strip = o.get("strip_accents");
            boolean stripAccents = strip == null || strip.isJsonNull() ? lowercase : strip.getAsBoolean();
            normalizer = new BertNormalizer(bool(o, "clean_text", true), bool(o, "handle_chinese_chars", true),
                    stripAccents, lowercase);
        }
        JsonElement pre = root.get("pre_tokenizer");
        if (pre != null && !pre.isJsonNull() && !string(pre.getAsJsonObject(), "type", "").equals("BertPreTokenizer"))
            throw new IllegalArgumentException(file + ": pre-tokenizer " + pre + " is not supported");

        List<AddedToken> added = new ArrayList<>();
        JsonElement addedJson = root.get("added_tokens");
        if (addedJson != null && addedJson.isJsonArray()) {
            for (JsonElement e : addedJson.getAsJsonArray()) {
                JsonObject t = e.getAsJsonObject();
                added.add(new AddedToken(t.get("content").getAsString(), t.get("id").getAsInt(),
                        bool(t, "single_word", false), bool(t, "lstrip", false), bool(t, "rstrip", false),
                        bool(t, "normalized", true), bool(t, "special", false)));
            }
        }
        Map<String, Integer> ids = new HashMap<>(vocab);
        for (AddedToken t : added) ids.putIfAbsent(t.content(), t.id());

        int[][] template = template(root.get("post_processor"), ids, file);
        String padToken = "[PAD]";
        JsonElement padding = root.get("padding");
        if (padding != null && padding.isJsonObject() && padding.getAsJsonObject().has("pad_token"))
            padToken = padding.getAsJsonObject().get("pad_token").getAsString();
        int padId = ids.getOrDefault(padToken, 0);

        return new WordPieceTokenizer(vocab, string(model, "unk_token", "[UNK]"),
                string(model, "continuing_subword_prefix", "##"),
                model.has("max_input_chars_per_word") ? model.get("max_input_chars_per_word").getAsInt() : 100,
                normalizer, added, template[0], template[1], padId, DEFAULT_MAX_LENGTH);
    }

    /**
     * Loads a BERT {@code vocab.txt} (one token per line, the line number is the id) with the defaults of
     * Hugging Face's BERT tokenizer: clean text, isolate CJK ideographs, [UNK], "##", 100 chars per word,
     * [CLS] A [SEP], and [PAD] [UNK] [CLS] [SEP] [MASK] matched literally in the input.
     */
    public static WordPieceTokenizer fromVocabTxt(Path file, boolean lowercase) {
        return fromVocabTxt(file, lowercase, lowercase, true);
    }

    private static WordPieceTokenizer fromVocabTxt(Path file, boolean lowercase, boolean stripAccents,
                                                   boolean chinese) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        try {
            // As HF reads vocab.txt: id = line number, trailing whitespace trimmed, a repeated token keeps
            // its last line.
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) vocab.put(lines.get(i).stripTrailing(), i);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<AddedToken> added = new ArrayList<>();
        for (String special : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            Integer id = vocab.get(special);
            if (id != null) added.add(AddedToken.special(special, id));
        }
        int cls = require(vocab, "[CLS]", file);
        int sep = require(vocab, "[SEP]", file);
        require(vocab, "[UNK]", file);
        return new WordPieceTokenizer(vocab, "[UNK]", "##", 100,
                new BertNormalizer(true, chinese, stripAccents, lowercase), added,
                new int[]{cls}, new int[]{sep}, vocab.getOrDefault("[PAD]", 0), DEFAULT_MAX_LENGTH);
    }

    /** This tokenizer with another default maximum length for {@link #encode(String)}. */
    public WordPieceTokenizer withMaxLength(int maxLength) {
        return new WordPieceTokenizer(this, maxLength);
    }

    private WordPieceTokenizer(WordPieceTokenizer o, int maxLength) {
        this.idToToken = o.idToToken;
        this.vocab = o.vocab;
        this.wordStarts = o.wordStarts;
        this.continuations = o.continuations;
        this.unkId = o.unkId;
        this.maxInputCharsPerWord = o.maxInputCharsPerWord;
        this.normalizer = o.normalizer;
        this.rawTokens = o.rawTokens;
        this.normalizedTokens = o.normalizedTokens;
        this.prefixIds = o.prefixIds;
        this.suffixIds = o.suffixIds;
        this.padId = o.padId;
        if (maxLength < prefixIds.length + suffixIds.length)
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the special tokens");
        this.maxLength = maxLength;
    }

    /** The special ids the post-processor puts before and after the text: {prefix, suffix}. */
    private static int[][] template(JsonElement pp, Map<String, Integer> ids, Path file) {
        if (pp == null || pp.isJsonNull()) return new int[][]{{}, {}};
        JsonObject o = pp.getAsJsonObject();
        String type = string(o, "type", "");
        switch (type) {
            case "BertProcessing" -> {
                return new int[][]{{o.getAsJsonArray("cls").get(1).getAsInt()},
                        {o.getAsJsonArray("sep").get(1).getAsInt()}};
            }
            case "TemplateProcessing" -> {
                JsonObject specials = o.getAsJsonObject("special_tokens");
                List<Integer> before = new ArrayList<>();
                List<Integer> after = new ArrayList<>();
                boolean seenSequence = false;
                for (JsonElement piece : o.getAsJsonArray("single")) {
                    JsonObject p = piece.getAsJsonObject();
                    if (p.has("Sequence")) {
                        seenSequence = true;
                        continue;
                    }
                    String name = p.getAsJsonObject("SpecialToken").get("id").getAsString();
                    List<Integer> target = seenSequence ? after : before;
                    if (specials != null && specials.has(name)) {
                        for (JsonElement id : specials.getAsJsonObject(name).getAsJsonArray("ids"))
                            target.add(id.getAsInt());
                    } else {
                        target.add(require(ids, name, file));
                    }
                }
                return new int[][]{toArray(before), toArray(after)};
            }
            default -> throw new IllegalArgumentException(file + ": post-processor " + type + " is not supported");
        }
    }

    // ---------------------------------------------------------------- encoding

    @Override
    public Encoding encode(String text, int maxLength) {
        int specials = prefixIds.length + suffixIds.length;
        if (maxLength < specials)
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the special tokens");
        IntList content = tokenize(text);
        int room = maxLength - specials;
        boolean truncated = content.size > room;
        int kept = Math.min(content.size, room);
        int[] ids = new int[kept + specials];
        System.arraycopy(prefixIds, 0, ids, 0, prefixIds.length);
        System.arraycopy(content.values, 0, ids, prefixIds.length, kept);
        System.arraycopy(suffixIds, 0, ids, prefixIds.length + kept, suffixIds.length);
        return new Encoding(ids, truncated, content.size + specials);
    }

    /** The ids of {@code text} without special tokens or truncation. */
    public int[] tokenIds(String text) {
        IntList ids = tokenize(text);
        return Arrays.copyOf(ids.values, ids.size);
    }

    /** The token strings of {@code text} without special tokens or truncation (for diagnostics). */
    public List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        for (int id : tokenIds(text)) out.add(token(id));
        return out;
    }

    private IntList tokenize(String text) {
        IntList out = new IntList();
        IntList word = new IntList();
        rawTokens.split(text, new AddedTokenSplitter.Sink() {
            @Override
            public void text(String s, int start, int end) {
                String normalized = normalizer.normalize(s.substring(start, end));
                if (normalizedTokens.isEmpty()) {
                    preTokenizeAndModel(normalized, 0, normalized.length(), out, word);
                    return;
                }
                normalizedTokens.split(normalized, new AddedTokenSplitter.Sink() {
                    @Override
                    public void text(String n, int from, int to) {
                        preTokenizeAndModel(n, from, to, out, word);
                    }

                    @Override
                    public void token(int id) {
                        out.add(id);
                    }
                });
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
        return out;
    }

    /**
     * BertPreTokenizer then WordPiece over {@code s[start, end)}: words end at whitespace (dropped) and at
     * punctuation, each punctuation char being a word of its own.
     */
    private void preTokenizeAndModel(String s, int start, int end, IntList out, IntList scratch) {
        int wordStart = start;
        int i = start;
        while (i < end) {
            int c = s.codePointAt(i);
            int next = i + Character.charCount(c);
            if (HfUnicode.isWhitespace(c)) {
                if (i > wordStart) wordPiece(s, wordStart, i, out, scratch);
                wordStart = next;
            } else if (HfUnicode.isPunctuation(c)) {
                if (i > wordStart) wordPiece(s, wordStart, i, out, scratch);
                wordPiece(s, i, next, out, scratch);
                wordStart = next;
            }
            i = next;
        }
        if (end > wordStart) wordPiece(s, wordStart, end, out, scratch);
    }

    /** Greedy longest-match-first split of one word; the whole word is [UNK] if any part has no match. */
    private void wordPiece(String s, int start, int end, IntList out, IntList pieces) {
        if (Character.codePointCount(s, start, end) > maxInputCharsPerWord) {
            out.add(unkId);
            return;
        }
        pieces.size = 0;
        int pos = start;
        while (pos < end) {
            long match = (pos == start ? wordStarts : continuations).longestMatch(s, pos, end);
            if (match < 0) {
                out.add(unkId);
                return;
            }
            pieces.add((int) match);
            pos = (int) (match >>> 32);
        }
        out.addAll(pieces);
    }

    // ---------------------------------------------------------------- accessors

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public int unkId() {
        return unkId;
    }

    /** The ids put before the text ({@code [CLS]} for BERT). */
    public int[] prefixIds() {
        return prefixIds.clone();
    }

    /** The ids put after the text ({@code [SEP]} for BERT). */
    public int[] suffixIds() {
        return suffixIds.clone();
    }

    @Override
    public int tokenId(String token) {
        Integer id = vocab.get(token);
        if (id != null) return id;
        for (int i = 0; i < idToToken.length; i++) if (token.equals(idToToken[i])) return i;
        return -1;
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    // ---------------------------------------------------------------- helpers

    /** A growable int array, to collect ids without boxing. */
    private static final class IntList {
        int[] values = new int[64];
        int size;

        void add(int v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        void addAll(IntList o) {
            for (int i = 0; i < o.size; i++) add(o.values[i]);
        }
    }

    private static int[] toArray(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int require(Map<String, Integer> ids, String token, Path file) {
        Integer id = ids.get(token);
        if (id == null) throw new IllegalArgumentException(file + ": token " + token + " is not in the vocabulary");
        return id;
    }

    private static JsonObject readJson(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return JsonParser.parseReader(r).getAsJsonObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static boolean bool(JsonObject o, String key, boolean fallback) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? fallback : e.getAsBoolean();
    }

    private static String string(JsonObject o, String key, String fallback) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? fallback : e.getAsString();
    }
}
