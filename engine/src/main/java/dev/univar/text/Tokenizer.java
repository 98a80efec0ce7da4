package dev.univar.text;

import java.util.List;

/**
 * Turns text into the token ids an encoder consumes, exactly as the model's reference tokenizer
 * (Hugging Face {@code tokenizers}) would.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public sealed interface Tokenizer extends AutoCloseable permits WordPieceTokenizer, SentencePieceTokenizer {

    /**
     * Encodes one text with the special tokens of the model (e.g. {@code [CLS] ... [SEP]}), truncated so
     * that the whole sequence, special tokens included, holds at most {@code maxLength} ids.
     * Truncation keeps the first content tokens, as Hugging Face's {@code LongestFirst} does for one sequence.
     */
    Encoding encode(String text, int maxLength);

    /** The ids of {@code text} truncated to this tokenizer's {@link #maxLength()}. */
    default int[] encode(String text) {
        return encode(text, maxLength()).ids();
    }

    /**
     * Encodes {@code texts} and pads them with {@link #padId()} to the longest one, for one batched
     * forward pass.
     */
    default Batch encodeBatch(List<String> texts, int maxLength) {
        Encoding[] encodings = new Encoding[texts.size()];
        for (int i = 0; i < encodings.length; i++) encodings[i] = encode(texts.get(i), maxLength);
        return Batch.pad(encodings, padId());
    }

    /** The default maximum sequence length of {@link #encode(String)}, special tokens included. */
    int maxLength();

    /** Number of ids the model's embedding table must hold (added tokens included). */
    int vocabSize();

    /** Id used to pad sequences of a batch. */
    int padId();

    /** Id emitted for text the vocabulary cannot represent. */
    int unkId();

    /** The id of a token string, or -1 where the vocabulary lacks it. */
    int tokenId(String token);

    /** The token string of an id (for diagnostics); {@code null} for an id outside the vocabulary. */
    String token(int id);

    /**
     * The tokenizer of a model folder: its SentencePiece model when it has one ({@code sentencepiece.bpe.model},
     * the fairseq / XLM-R convention; such a folder may carry a tokenizer.json of a Unigram model too, which
     * univar does not read), else WordPiece from {@code tokenizer.json} or {@code vocab.txt}.
     */
    static Tokenizer forModelDir(java.nio.file.Path dir) {
        if (SentencePieceTokenizer.isModelDir(dir)) return SentencePieceTokenizer.fromModelDir(dir);
        return WordPieceTokenizer.fromModelDir(dir);
    }

    /** Releases native memory where the tokenizer holds some (SentencePiece); a no-op otherwise. */
    @Override
    default void close() {
    }
}
