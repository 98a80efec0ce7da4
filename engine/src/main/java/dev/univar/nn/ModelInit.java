package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.SafeTensors;
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

/**
 * A randomly initialised BERT as a model folder, for corpora in languages no bundled model covers and for fast
 * tests: weights as BERT initialises them (normal with standard deviation 0.02, LayerNorm weights 1, biases 0),
 * deterministic for a seed, and the given tokenizer file copied in under the name that selects it.
 */
public final class ModelInit {
    private ModelInit() {
    }

    /**
     * Writes {@code config.json}, {@code model.safetensors} and the tokenizer into {@code output} (a new or
     * empty folder) and returns the config. {@code tokenizerFile} is a SentencePiece {@code .model} (used with the
     * fairseq convention), a {@code tokenizer.json} or a {@code vocab.txt}; it sets the vocabulary size.
     */
    public static BertConfig create(Path tokenizerFile, int layers, int hidden, int heads, int intermediate,
                                    int maxPositions, Path output, long seed) throws IOException {
        int vocab, pad;
        try (Tokenizer t = tokenizerOf(tokenizerFile)) {
            vocab = t.vocabSize();
            pad = t.padId();
        }
        BertConfig config = new BertConfig(vocab, hidden, layers, heads, intermediate, maxPositions, 2, 1e-12,
                BertConfig.GELU, pad, "bert");
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
            for (var e : BertParameters.shapes(config).entrySet()) {
                Tensor t = Tensor.allocate(arena, e.getValue());
                String n = e.getKey();
                if (n.endsWith("LayerNorm.weight")) t.fill(1f);
                else if (!n.endsWith(".bias")) for (long i = 0, size = t.size(); i < size; i++) t.set(i, (float) (0.02 * gaussian(r)));
                tensors.put(n, t);
            }
            SafeTensors.write(output.resolve("model.safetensors"), tensors, Map.of("format", "pt", "univar.init.seed", Long.toString(seed)));
        }
        Files.writeString(output.resolve("config.json"), config.toJson());
        return config;
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
