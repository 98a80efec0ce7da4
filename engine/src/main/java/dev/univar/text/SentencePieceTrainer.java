package dev.univar.text;

import dev.univar.bindings.spm.univar_spm_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Trains a SentencePiece model with the library's own {@code SentencePieceTrainer}, through the shim: the
 * result is the same kind of {@code PREFIX.model} / {@code PREFIX.vocab} pair {@code spm_train} writes, and
 * loads in {@code spm_encode}.
 */
public final class SentencePieceTrainer {
    private SentencePieceTrainer() {
    }

    /** SentencePiece's segmentation algorithms that univar offers. */
    public enum ModelType {
        UNIGRAM, BPE;

        String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * What to train.
     *
     * @param input             a text file, one sentence per line (as {@code spm_train --input})
     * @param modelPrefix       writes {@code modelPrefix.model} and {@code modelPrefix.vocab}
     * @param vocabSize         number of pieces, control and unknown pieces included
     * @param characterCoverage fraction of characters the pieces must cover (SentencePiece's default 0.9995;
     *                          1.0 for small alphabets)
     * @param quiet             whether to silence the trainer's progress log on stderr
     * @param extra             further {@code spm_train} options, without "--" (e.g. "input_sentence_size")
     */
    public record Options(Path input, Path modelPrefix, int vocabSize, ModelType modelType, double characterCoverage,
                          boolean quiet, Map<String, String> extra) {
        public Options {
            if (vocabSize < 2) throw new IllegalArgumentException("vocabulary size must be at least 2, not " + vocabSize);
            if (!(characterCoverage > 0 && characterCoverage <= 1))
                throw new IllegalArgumentException("character coverage must be in (0, 1], not " + characterCoverage);
            extra = Map.copyOf(extra);
        }

        public Options(Path input, Path modelPrefix, int vocabSize, ModelType modelType) {
            this(input, modelPrefix, vocabSize, modelType, 0.9995, true, Map.of());
        }

        /** The options as {@code spm_train} flags, in a stable order. */
        Map<String, String> flags() {
            Map<String, String> f = new LinkedHashMap<>();
            f.put("input", input.toString());
            f.put("model_prefix", modelPrefix.toString());
            f.put("vocab_size", Integer.toString(vocabSize));
            f.put("model_type", modelType.flag());
            f.put("character_coverage", Double.toString(characterCoverage));
            // SentencePiece logs INFO lines (0) for every step; 1 keeps warnings and errors.
            if (quiet) f.put("minloglevel", "1");
            f.putAll(extra);
            return f;
        }
    }

    /** Trains and writes {@code PREFIX.model} and {@code PREFIX.vocab}; a failure is an exception with SentencePiece's message. */
    public static void train(Options options) {
        SentencePieceProcessor.ensureLibrary();
        Map<String, String> flags = options.flags();
        int n = flags.size();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment keys = arena.allocate(ValueLayout.ADDRESS, n);
            MemorySegment values = arena.allocate(ValueLayout.ADDRESS, n);
            int i = 0;
            for (Map.Entry<String, String> e : flags.entrySet()) {
                keys.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(e.getKey()));
                values.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(e.getValue()));
                i++;
            }
            int errCap = 4096;
            MemorySegment err = arena.allocate(errCap);
            int rc = univar_spm_h.univar_spm_train(keys, values, n, err, errCap);
            if (rc != univar_spm_h.UNIVAR_SPM_OK())
                throw new IllegalArgumentException("SentencePiece training failed: " + err.getString(0));
        }
    }
}
