package dev.univar.text;

/**
 * Several encoded texts padded to a common length, laid out row-major as {@code [size, seqLen]}.
 *
 * @param size    number of texts
 * @param seqLen  length of every row: the longest encoding of the batch
 * @param ids     token ids, padded with the pad id
 * @param typeIds token type (segment) ids: all 0 for single sequences
 * @param mask    attention mask: 1 for a real token, 0 for padding
 * @param lengths number of real tokens of each row
 */
public record Batch(int size, int seqLen, int[] ids, int[] typeIds, float[] mask, int[] lengths) {

    public Batch {
        if (size < 0 || seqLen < 0) throw new IllegalArgumentException("negative size or seqLen");
        int n = size * seqLen;
        if (ids.length != n || typeIds.length != n || mask.length != n || lengths.length != size)
            throw new IllegalArgumentException("arrays do not match [" + size + ", " + seqLen + "]");
    }

    /** Pads {@code encodings} to the longest of them with {@code padId}. */
    public static Batch pad(Encoding[] encodings, int padId) {
        int size = encodings.length;
        int seqLen = 0;
        for (Encoding e : encodings) seqLen = Math.max(seqLen, e.length());
        int[] ids = new int[size * seqLen];
        float[] mask = new float[size * seqLen];
        int[] lengths = new int[size];
        for (int r = 0; r < size; r++) {
            Encoding e = encodings[r];
            int base = r * seqLen;
            lengths[r] = e.length();
            for (int t = 0; t < seqLen; t++) {
                boolean real = t < e.length();
                ids[base + t] = real ? e.id(t) : padId;
                mask[base + t] = real ? 1f : 0f;
            }
        }
        return new Batch(size, seqLen, ids, new int[size * seqLen], mask, lengths);
    }

    /** The ids of row {@code row}, padding included. */
    public int[] row(int row) {
        return java.util.Arrays.copyOfRange(ids, row * seqLen, (row + 1) * seqLen);
    }
}
