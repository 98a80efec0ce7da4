package dev.univar.text;

/**
 * A token of a {@code tokenizer.json}'s {@code added_tokens}: matched as a whole in the input before the model
 * sees it, so "[MASK]" typed in a text becomes the mask id instead of "[", "mask", "]".
 *
 * @param content    the literal text
 * @param id         its id
 * @param singleWord match only where it is not part of a longer word
 * @param lstrip     the match swallows the whitespace on its left
 * @param rstrip     the match swallows the whitespace on its right
 * @param normalized match against the normalised text (true) or the raw input (false)
 * @param special    a special token (e.g. [CLS]) rather than an ordinary added word
 */
record AddedToken(String content, int id, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                  boolean special) {

    /** A special token matched literally in the raw input, as BERT's [CLS], [SEP], [MASK]... are. */
    static AddedToken special(String content, int id) {
        return new AddedToken(content, id, false, false, false, false, true);
    }
}
