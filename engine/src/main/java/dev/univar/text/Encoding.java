package dev.univar.text;

import java.util.Arrays;

/**
 * One encoded text.
 *
 * @param ids          token ids, special tokens included, at most the maximum length asked for
 * @param truncated    whether content tokens were cut to fit the maximum length
 * @param fullLength   how many ids the text would have taken without truncation (special tokens included),
 *                     so a caller can say by how much a text was too long
 */
public record Encoding(int[] ids, boolean truncated, int fullLength) {

    public Encoding {
        ids = ids.clone();
        if (fullLength < ids.length) throw new IllegalArgumentException("fullLength " + fullLength + " < " + ids.length);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** Number of ids, without copying them. */
    public int length() {
        return ids.length;
    }

    /** The id at {@code i}, without copying the array. */
    public int id(int i) {
        return ids[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && truncated == e.truncated && fullLength == e.fullLength
                && Arrays.equals(ids, e.ids);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids) * 31 + fullLength;
    }

    @Override
    public String toString() {
        return "Encoding" + Arrays.toString(ids) + (truncated ? " (truncated from " + fullLength + ")" : "");
    }
}
