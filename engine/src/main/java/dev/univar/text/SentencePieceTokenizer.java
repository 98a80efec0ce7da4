package dev.univar.text;

import dev.univar.io.JsonInput;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A SentencePiece tokenizer behind the {@link Tokenizer} interface, running the real {@code libsentencepiece}
 * ({@link SentencePieceProcessor}). Two id conventions:
 *
 * <ul>
 *   <li><b>plain</b> ({@link #fromModelFile}): SentencePiece's own ids, exactly {@code spm_encode
 *       --output_format=id}; optionally {@code <s>} / {@code </s>} around the text where the model defines them;</li>
 *   <li><b>fairseq</b> ({@link #fromModelDir} on a Hugging Face XLM-R folder with {@code sentencepiece.bpe.model}):
 *       as Hugging Face's {@code XLMRobertaTokenizer}: {@code <s>}=0, {@code <pad>}=1, {@code </s>}=2,
 *       {@code <unk>}=3, every other SentencePiece id shifted up by one, {@code <mask>} last
 *       (SentencePiece size + 1), and {@code <s> A </s>} around the text.</li>
 * </ul>
 *
 * <p>Thread-safe (SentencePiece encodes concurrently on one loaded model). It owns native memory: close it, and
 * do not close it while another thread still uses it.
 */
public final class SentencePieceTokenizer implements Tokenizer, AutoCloseable {

    /** The file name Hugging Face XLM-R folders carry their SentencePiece model under. */
    public static final String XLMR_MODEL_FILE = "sentencepiece.bpe.model";
    /** XLM-R's position limit (514 positions, 2 reserved by fairseq): the default maximum length. */
    public static final int DEFAULT_MAX_LENGTH = 512;

    // fairseq's dictionary puts these four first; SentencePiece's pieces follow, shifted by FAIRSEQ_OFFSET.
    private static final int FS_BOS = 0, FS_PAD = 1, FS_EOS = 2, FS_UNK = 3, FAIRSEQ_OFFSET = 1;

    private final SentencePieceProcessor sp;
    private final boolean fairseq;
    private final int[] prefixIds;
    private final int[] suffixIds;
    private final int padId;
    private final int unkId;
    private final int vocabSize;
    private final int maxLength;

    private SentencePieceTokenizer(SentencePieceProcessor sp, boolean fairseq, int[] prefixIds, int[] suffixIds,
                                   int padId, int unkId, int vocabSize, int maxLength) {
        this.sp = sp;
        this.fairseq = fairseq;
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        this.padId = padId;
        this.unkId = unkId;
        this.vocabSize = vocabSize;
        if (maxLength < prefixIds.length + suffixIds.length)
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the special tokens");
        this.maxLength = maxLength;
    }

    // ---------------------------------------------------------------- loading

    /** A {@code .model} file with SentencePiece's own ids and no special tokens added: {@code spm_encode}'s ids. */
    public static SentencePieceTokenizer fromModelFile(Path model) {
        return fromModelFile(model, false, DEFAULT_MAX_LENGTH);
    }

    /**
     * A {@code .model} file with SentencePiece's own ids.
     *
     * @param addBosEos put the model's {@code <s>} before and {@code </s>} after every text (where the model
     *                  defines them), as an encoder trained from scratch with those markers expects
     */
    public static SentencePieceTokenizer fromModelFile(Path model, boolean addBosEos, int maxLength) {
        return plain(SentencePieceProcessor.load(model), addBosEos, maxLength);
    }

    /** As {@link #fromModelFile(Path, boolean, int)}, from the bytes of a {@code .model} file. */
    public static SentencePieceTokenizer fromModelBytes(byte[] model, boolean addBosEos, int maxLength) {
        return plain(SentencePieceProcessor.load(model), addBosEos, maxLength);
    }

    private static SentencePieceTokenizer plain(SentencePieceProcessor sp, boolean addBosEos, int maxLength) {
        try {
            int bos = sp.bosId(), eos = sp.eosId();
            int[] prefix = addBosEos && bos >= 0 ? new int[]{bos} : new int[0];
            int[] suffix = addBosEos && eos >= 0 ? new int[]{eos} : new int[0];
            // SentencePiece models have no <pad> unless trained with --pad_id; padding is masked out anyway,
            // so the unknown id stands in for it then.
            int pad = sp.padId() >= 0 ? sp.padId() : sp.unkId();
            return new SentencePieceTokenizer(sp, false, prefix, suffix, pad, sp.unkId(), sp.pieceSize(), maxLength);
        } catch (RuntimeException e) {
            sp.close();
            throw e;
        }
    }

    /** Whether {@code dir} is a Hugging Face folder whose tokenizer this class loads ({@value #XLMR_MODEL_FILE}). */
    public static boolean isModelDir(Path dir) {
        return Files.isRegularFile(dir.resolve(XLMR_MODEL_FILE));
    }

    /**
     * The tokenizer of a Hugging Face XLM-R folder: {@value #XLMR_MODEL_FILE} under the fairseq convention
     * (see the class comment), maximum length from {@code tokenizer_config.json}'s {@code model_max_length}
     * where present.
     */
    public static SentencePieceTokenizer fromModelDir(Path dir) {
        Path model = dir.resolve(XLMR_MODEL_FILE);
        if (!Files.isRegularFile(model))
            throw new IllegalArgumentException("no SentencePiece tokenizer in " + dir.toAbsolutePath()
                    + ": expected " + XLMR_MODEL_FILE + " there");
        int maxLength = maxLengthOf(dir); // before loading, so that a bad config leaks no native model
        return fairseq(SentencePieceProcessor.load(model), maxLength);
    }

    /** The fairseq / XLM-R convention over any SentencePiece model (as Hugging Face applies it to XLM-R's). */
    public static SentencePieceTokenizer fairseq(Path model, int maxLength) {
        return fairseq(SentencePieceProcessor.load(model), maxLength);
    }

    private static SentencePieceTokenizer fairseq(SentencePieceProcessor sp, int maxLength) {
        // HF: vocab_size = len(sp_model) + fairseq_offset + 1 (the +1 is <mask>).
        return new SentencePieceTokenizer(sp, true, new int[]{FS_BOS}, new int[]{FS_EOS}, FS_PAD, FS_UNK,
                sp.pieceSize() + FAIRSEQ_OFFSET + 1, maxLength);
    }

    private static int maxLengthOf(Path dir) {
        Path config = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(config)) return DEFAULT_MAX_LENGTH;
        JsonInput.Obj o = JsonInput.readObject(config, "a Hugging Face tokenizer config");
        BigDecimal m = o.optNumber("model_max_length");
        // HF writes a huge sentinel (1e30) when the model sets no limit.
        if (m == null || m.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) return DEFAULT_MAX_LENGTH;
        int length;
        try {
            length = m.intValueExact();
        } catch (ArithmeticException e) {
            throw o.error("model_max_length", "expected a whole number, found " + m.toPlainString());
        }
        if (length < 2) throw o.error("model_max_length", length + " leaves no room for <s> and </s>");
        return length;
    }

    // ---------------------------------------------------------------- encoding

    @Override
    public Encoding encode(String text, int maxLength) {
        int specials = prefixIds.length + suffixIds.length;
        if (maxLength < specials)
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the special tokens");
        int[] content = tokenIds(text);
        int room = maxLength - specials;
        boolean truncated = content.length > room;
        int kept = Math.min(content.length, room);
        int[] ids = new int[kept + specials];
        System.arraycopy(prefixIds, 0, ids, 0, prefixIds.length);
        System.arraycopy(content, 0, ids, prefixIds.length, kept);
        System.arraycopy(suffixIds, 0, ids, prefixIds.length + kept, suffixIds.length);
        return new Encoding(ids, truncated, content.length + specials);
    }

    /** The ids of {@code text} in this tokenizer's convention, without special tokens or truncation. */
    public int[] tokenIds(String text) {
        int[] ids = sp.encodeIds(text);
        if (fairseq) for (int i = 0; i < ids.length; i++) ids[i] = toFairseq(ids[i]);
        return ids;
    }

    /** The pieces of {@code text} (for diagnostics), as {@code spm_encode --output_format=piece}. */
    public List<String> tokens(String text) {
        return sp.encodePieces(text);
    }

    /**
     * The text of {@code ids}, special tokens ({@code <s>}, {@code </s>}, {@code <pad>}, {@code <mask>} and other
     * control pieces) dropped; an unknown id reads " ⁇ " as in SentencePiece.
     */
    public String decode(int[] ids) {
        if (!fairseq) return sp.decodeIds(ids);
        int[] spIds = new int[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id == FS_UNK) spIds[n++] = sp.unkId();
            else if (id > FS_UNK && id < vocabSize - 1) spIds[n++] = id - FAIRSEQ_OFFSET;
            else if (id < 0 || id >= vocabSize)
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        return sp.decodeIds(Arrays.copyOf(spIds, n));
    }

    /** HF's XLMRobertaTokenizer: {@code spm_id + fairseq_offset if spm_id else unk_token_id}. */
    private int toFairseq(int spmId) {
        return spmId == 0 ? FS_UNK : spmId + FAIRSEQ_OFFSET;
    }

    // ---------------------------------------------------------------- accessors

    /** The SentencePiece model under this tokenizer (owned by it: closing the tokenizer closes it). */
    public SentencePieceProcessor processor() {
        return sp;
    }

    /** Whether ids follow the fairseq / XLM-R convention rather than SentencePiece's own. */
    public boolean isFairseq() {
        return fairseq;
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public int unkId() {
        return unkId;
    }

    /** The {@code <mask>} id of the fairseq convention, or -1 for plain SentencePiece ids. */
    public int maskId() {
        return fairseq ? vocabSize - 1 : -1;
    }

    /** The ids put before the text. */
    public int[] prefixIds() {
        return prefixIds.clone();
    }

    /** The ids put after the text. */
    public int[] suffixIds() {
        return suffixIds.clone();
    }

    @Override
    public int tokenId(String token) {
        if (fairseq) {
            switch (token) {
                case "<s>": return FS_BOS;
                case "<pad>": return FS_PAD;
                case "</s>": return FS_EOS;
                case "<unk>": return FS_UNK;
                case "<mask>": return maskId();
                default: {
                    int id = sp.pieceToId(token);
                    return id == 0 ? -1 : id + FAIRSEQ_OFFSET;
                }
            }
        }
        int id = sp.pieceToId(token);
        // SentencePiece answers the unknown id for a missing piece; only "<unk>" itself maps there.
        return id == sp.unkId() && !sp.idToPiece(id).equals(token) ? -1 : id;
    }

    @Override
    public String token(int id) {
        if (!fairseq) return id >= 0 && id < vocabSize ? sp.idToPiece(id) : null;
        return switch (id) {
            case FS_BOS -> "<s>";
            case FS_PAD -> "<pad>";
            case FS_EOS -> "</s>";
            case FS_UNK -> "<unk>";
            default -> id == maskId() ? "<mask>" : id > FS_UNK && id < vocabSize ? sp.idToPiece(id - FAIRSEQ_OFFSET) : null;
        };
    }

    /** Frees the native model. */
    @Override
    public void close() {
        sp.close();
    }

    @Override
    public String toString() {
        return "SentencePieceTokenizer[" + (fairseq ? "fairseq, " : "") + sp + "]";
    }
}
