package dev.univar.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code tokenizers} (through DJL's JNI binding) on the same tokenizer.json, as the reference.
 * One native tokenizer per maximum length, since DJL fixes truncation when it loads the file; the file's own
 * padding (Fixed 128) is turned off so only real tokens come back.
 */
final class HfOracle implements AutoCloseable {
    /** Stands for "no truncation". */
    static final int UNLIMITED = 0;

    private final Path file;
    private final Map<Integer, HuggingFaceTokenizer> byMaxLength = new HashMap<>();

    HfOracle(Path file) {
        this.file = file;
    }

    int[] encode(String text, int maxLength) {
        return toInts(tokenizer(maxLength).encode(text).getIds());
    }

    int[][] encode(List<String> texts, int maxLength) {
        var encodings = tokenizer(maxLength).batchEncode(texts);
        int[][] out = new int[encodings.length][];
        for (int i = 0; i < out.length; i++) out[i] = toInts(encodings[i].getIds());
        return out;
    }

    private synchronized HuggingFaceTokenizer tokenizer(int maxLength) {
        return byMaxLength.computeIfAbsent(maxLength, m -> {
            Map<String, String> options = new HashMap<>();
            options.put("padding", "false");
            options.put("addSpecialTokens", "true");
            if (m == UNLIMITED) {
                options.put("truncation", "false");
            } else {
                options.put("truncation", "true");
                options.put("maxLength", Integer.toString(m));
            }
            try {
                return HuggingFaceTokenizer.newInstance(file, options);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static int[] toInts(long[] ids) {
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }

    @Override
    public void close() {
        byMaxLength.values().forEach(HuggingFaceTokenizer::close);
    }
}
