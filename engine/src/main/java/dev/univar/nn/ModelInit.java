package dev.univar.nn;

import dev.univar.io.SafeTensors;
import dev.univar.model.ModelConfig;
import dev.univar.model.Param;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import dev.univar.text.SentencePieceTokenizer;
import dev.univar.text.Tokenizer;
import dev.univar.text.WordPieceTokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A randomly initialised model of any architecture as a model folder, for corpora in languages no bundled model
 * covers and for fast tests: every parameter filled as its kind says ({@link Param.Init}: BERT's initialisation,
 * normal with standard deviation 0.02 for weights and embeddings, 1 for normalisation scales, 0 for biases and
 * shifts), in declaration order, deterministic for a seed, and the given tokenizer file copied in under the name that
 * selects it.
 */
public final class ModelInit {
    private ModelInit() {
    }

    /** What the config of a new model takes from its tokenizer. */
    public record Vocabulary(int size, int padId) {
    }

    /**
     * Writes {@code config.json}, {@code model.safetensors} and the tokenizer into {@code output} (a new or
     * empty folder) and returns the config, which {@code config} makes from the tokenizer's vocabulary.
     * {@code tokenizerFile} is a SentencePiece {@code .model} (used with the fairseq convention), a
     * {@code tokenizer.json} or a {@code vocab.txt}.
     */
    public static ModelConfig create(Path tokenizerFile, Function<Vocabulary, ModelConfig> config, Path output, long seed)
            throws IOException {
        Vocabulary vocabulary;
        try (Tokenizer t = tokenizerOf(tokenizerFile)) {
            vocabulary = new Vocabulary(t.vocabSize(), t.padId());
        }
        ModelConfig c = config.apply(vocabulary);
        if (Files.isDirectory(output)) {
            try (var s = Files.list(output)) {
                if (s.findAny().isPresent()) throw new IOException(output + " is not empty");
            }
        }
        Files.createDirectories(output);
        String name = tokenizerFile.getFileName().toString().toLowerCase(Locale.ROOT);
        String target = name.endsWith(".model") ? "sentencepiece.bpe.model" : name.endsWith(".json") ? "tokenizer.json" : "vocab.txt";
        Files.copy(tokenizerFile, output.resolve(target), StandardCopyOption.REPLACE_EXISTING);
        SplittableRandom r = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Param p : c.parameters()) {
                Tensor t = Tensor.allocate(arena, p.shape());
                switch (p.kind().init()) {
                    case NORMAL -> {
                        for (long i = 0, size = t.size(); i < size; i++) t.set(i, (float) (Param.Init.STD * gaussian(r)));
                    }
                    case ONES -> t.fill(1f);
                    case ZEROS -> {
                    }
                }
                tensors.put(p.name(), t);
            }
            SafeTensors.write(output.resolve(Weights.WEIGHTS_FILE), tensors, Map.of("format", "pt", "univar.init.seed", Long.toString(seed)));
        }
        c.write(output.resolve(ModelConfig.CONFIG_FILE));
        return c;
    }

    private static Tokenizer tokenizerOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".model")) return SentencePieceTokenizer.fairseq(file, SentencePieceTokenizer.DEFAULT_MAX_LENGTH);
        if (name.endsWith(".json")) return WordPieceTokenizer.fromTokenizerJson(file);
        if (name.endsWith(".txt")) return WordPieceTokenizer.fromVocabTxt(file, true);
        throw new IllegalArgumentException(file + ": a tokenizer is a SentencePiece .model, a tokenizer.json or a vocab.txt");
    }

    private static double gaussian(SplittableRandom r) {
        // Box–Muller: SplittableRandom has no nextGaussian before it is wrapped; this keeps the stream explicit.
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
