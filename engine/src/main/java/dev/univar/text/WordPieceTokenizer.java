package dev.univar.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import dev.univar.data.InputException;
import dev.univar.io.JsonInput;

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

    private static final String HF_TOKENIZER = "a Hugging Face tokenizer file";

    /**
     * Ids from this one on are refused: an id sizes the id-to-token table, and the largest vocabularies hold a few
     * hundred thousand tokens.
     */
    static final int MAX_ID = 1 << 24;

    /**
     * Loads the tokenizer of a model folder: its {@code tokenizer.json}, or else its {@code vocab.txt}
     * (with {@code tokenizer_config.json}'s {@code do_lower_case} where present, lowercasing otherwise).
     * A malformed file is an {@link InputException} of one line naming the file, the field or line, and the reason.
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
                JsonInput.Obj c = JsonInput.readObject(config, "a Hugging Face tokenizer config");
                lowercase = c.bool("do_lower_case", true);
                stripAccents = c.optBool("strip_accents");
                chinese = c.bool("tokenize_chinese_chars", true);
            }
            return fromVocabTxt(vocabTxt, lowercase, stripAccents == null ? lowercase : stripAccents, chinese);
        }
        throw new IllegalArgumentException("no tokenizer in " + dir.toAbsolutePath()
                + ": expected tokenizer.json or vocab.txt there");
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json} whose model is WordPiece. A malformed file is an
     * {@link InputException} naming the file and the field: "tokenizer.json: model.vocab: id -5 for '[UNK]' is
     * negative".
     */
    public static WordPieceTokenizer fromTokenizerJson(Path file) {
        JsonInput.Obj root = JsonInput.readObject(file, HF_TOKENIZER);
        JsonInput.Obj model = root.object("model", "expected " + HF_TOKENIZER);
        String type = model.string("type", "WordPiece");
        if (!type.equals("WordPiece"))
            throw model.error("type", "model type " + type + " is not supported; expected WordPiece (a BERT tokenizer)");
        JsonInput.Obj vocabJson = model.object("vocab", "a WordPiece model lists its tokens and their ids there");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : vocabJson.json().entrySet()) {
            String token = e.getKey();
            int id = vocabJson.integer(vocabJson.path() + ": id of '" + token + "'", e.getValue());
            checkId(vocabJson, null, token, id);
            vocab.put(token, id);
        }
        if (vocab.isEmpty()) throw model.error("vocab", "empty; a WordPiece model lists its tokens and their ids there");

        BertNormalizer normalizer = new BertNormalizer(false, false, false, false);
        JsonInput.Obj n = root.optObject("normalizer");
        if (n != null) {
            String nType = n.string("type", "");
            if (!nType.equals("BertNormalizer"))
                throw n.error("type", "normalizer " + nType + " is not supported; expected BertNormalizer");
            boolean lowercase = n.bool("lowercase", true);
            Boolean strip = n.optBool("strip_accents");
            normalizer = new BertNormalizer(n.bool("clean_text", true), n.bool("handle_chinese_chars", true),
                    strip == null ? lowercase : strip, lowercase);
        }
        JsonInput.Obj pre = root.optObject("pre_tokenizer");
        if (pre != null && !pre.string("type", "").equals("BertPreTokenizer"))
            throw pre.error("type", "pre-tokenizer " + pre.string("type", "") + " is not supported; expected BertPreTokenizer");

        List<AddedToken> added = new ArrayList<>();
        JsonArray addedJson = root.optArray("added_tokens");
        if (addedJson != null) {
            for (int i = 0; i < addedJson.size(); i++) {
                JsonInput.Obj t = root.element("added_tokens", addedJson, i);
                String content = t.string("content");
                int id = t.integer("id");
                checkId(t, "id", content, id);
                added.add(new AddedToken(content, id, t.bool("single_word", false), t.bool("lstrip", false),
                        t.bool("rstrip", false), t.bool("normalized", true), t.bool("special", false)));
            }
        }
        Map<String, Integer> ids = new HashMap<>(vocab);
        for (AddedToken t : added) ids.putIfAbsent(t.content(), t.id());
        int size = 0;
        for (int id : ids.values()) size = Math.max(size, id + 1);
        for (AddedToken t : added) size = Math.max(size, t.id() + 1);

        int[][] template = template(root, ids, size);
        JsonInput.Obj padding = root.optObject("padding");
        String padToken = padding == null ? "[PAD]" : padding.string("pad_token", "[PAD]");
        int padId = ids.getOrDefault(padToken, 0);

        String unk = model.string("unk_token", "[UNK]");
        if (!vocab.containsKey(unk)) throw model.error("unk_token", "'" + unk + "' is not in model.vocab");
        int maxChars = model.integer("max_input_chars_per_word", 100);
        if (maxChars < 0) throw model.error("max_input_chars_per_word", "must not be negative, got " + maxChars);
        return new WordPieceTokenizer(vocab, unk, model.string("continuing_subword_prefix", "##"), maxChars,
                normalizer, added, template[0], template[1], padId, DEFAULT_MAX_LENGTH);
    }

    /** An id of {@code token} must index a table: not negative, below {@link #MAX_ID}. */
    private static void checkId(JsonInput.Obj where, String key, String token, int id) {
        if (id < 0) throw where.error(key, "id " + id + " for '" + token + "' is negative");
        if (id >= MAX_ID)
            throw where.error(key, "id " + id + " for '" + token + "' is too large (ids index the embedding table; "
                    + "at most " + (MAX_ID - 1) + " is accepted)");
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
        String text = JsonInput.readText(file);
        if (text.isBlank()) throw new InputException(file, 0, "empty file; expected one token per line");
        // As HF reads vocab.txt: id = line number, trailing whitespace trimmed, a repeated token keeps its last line.
        Map<String, Integer> vocab = new LinkedHashMap<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) vocab.put(lines.get(i).stripTrailing(), i);
        List<AddedToken> added = new ArrayList<>();
        for (String special : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            Integer id = vocab.get(special);
            if (id != null) added.add(AddedToken.special(special, id));
        }
        int cls = requireLine(vocab, "[CLS]", file);
        int sep = requireLine(vocab, "[SEP]", file);
        requireLine(vocab, "[UNK]", file);
        return new WordPieceTokenizer(vocab, "[UNK]", "##", 100,
                new BertNormalizer(true, chinese, stripAccents, lowercase), added,
                new int[]{cls}, new int[]{sep}, vocab.getOrDefault("[PAD]", 0), DEFAULT_MAX_LENGTH);
    }

    private static int requireLine(Map<String, Integer> vocab, String token, Path file) {
        Integer id = vocab.get(token);
        if (id == null)
            throw new InputException(file, 0, "no line holds " + token + ", which a BERT vocabulary needs "
                    + "([CLS], [SEP] and [UNK])");
        return id;
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

    /**
     * The special ids the post-processor puts before and after the text: {prefix, suffix}; each must be an id of
     * the vocabulary ({@code 0 <= id < size}).
     */
    private static int[][] template(JsonInput.Obj root, Map<String, Integer> ids, int size) {
        JsonInput.Obj o = root.optObject("post_processor");
        if (o == null) return new int[][]{{}, {}};
        String type = o.string("type", "");
        int[][] template = switch (type) {
            case "BertProcessing" -> new int[][]{{specialPair(o, "cls")}, {specialPair(o, "sep")}};
            case "TemplateProcessing" -> {
                JsonInput.Obj specials = o.optObject("special_tokens");
                List<Integer> before = new ArrayList<>();
                List<Integer> after = new ArrayList<>();
                boolean seenSequence = false;
                JsonArray single = o.array("single");
                for (int i = 0; i < single.size(); i++) {
                    JsonInput.Obj piece = o.element("single", single, i);
                    if (piece.has("Sequence")) {
                        seenSequence = true;
                        continue;
                    }
                    String name = piece.object("SpecialToken", "each piece is a Sequence or a SpecialToken").string("id");
                    List<Integer> target = seenSequence ? after : before;
                    JsonInput.Obj special = specials == null ? null : specials.optObject(name);
                    if (special != null) {
                        JsonArray list = special.array("ids");
                        for (int k = 0; k < list.size(); k++)
                            target.add(special.integer(special.field("ids") + "[" + k + "]", list.get(k)));
                    } else {
                        Integer id = ids.get(name);
                        if (id == null)
                            throw o.error("single", "special token " + name + " is in neither the vocabulary nor "
                                    + o.field("special_tokens"));
                        target.add(id);
                    }
                }
                yield new int[][]{toArray(before), toArray(after)};
            }
            default -> throw o.error("type", "post-processor " + type + " is not supported; expected "
                    + "TemplateProcessing or BertProcessing");
        };
        for (int[] part : template)
            for (int id : part)
                if (id < 0 || id >= size)
                    throw o.error(null, "special token id " + id + " is not an id of the vocabulary (0 to "
                            + (size - 1) + ")");
        return template;
    }

    /** BertProcessing's {@code cls} / {@code sep}: a {@code [token, id]} pair; the id. */
    private static int specialPair(JsonInput.Obj o, String key) {
        JsonArray pair = o.array(key);
        if (pair.size() != 2) throw o.error(key, "expected a [token, id] pair, found " + JsonInput.describe(pair));
        return o.integer(o.field(key) + "[1]", pair.get(1));
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
}
