package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.tensor.Backend;
import dev.univar.text.Batch;
import dev.univar.text.Encoding;
import dev.univar.text.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A sentence-embedding model loaded from a Hugging Face BERT folder ({@code config.json}, {@code model.safetensors},
 * and {@code tokenizer.json}, {@code vocab.txt} or a SentencePiece {@code sentencepiece.bpe.model}): its tokenizer
 * and an encoder on the given backend.
 */
public final class EmbeddingModel implements AutoCloseable {
    private final Path dir;
    private final BertConfig config;
    private final BertWeights.Loaded weights;
    private final Tokenizer tokenizer;
    private final BertEncoder encoder;

    private EmbeddingModel(Path dir, BertConfig config, BertWeights.Loaded weights, Tokenizer tokenizer, BertEncoder encoder) {
        this.dir = dir;
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.encoder = encoder;
    }

    /** Loads the model in {@code dir} to run on {@code backend}, which the model then owns and closes. */
    public static EmbeddingModel load(Path dir, Backend backend) throws IOException {
        for (String required : List.of("config.json", "model.safetensors")) {
            if (!Files.isRegularFile(dir.resolve(required)))
                throw new IOException(dir + ": not a model folder: " + required + " is missing");
        }
        Tokenizer tokenizer = Tokenizer.forModelDir(dir);
        BertWeights.Loaded loaded;
        try {
            loaded = BertWeights.open(dir);
        } catch (IOException | RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        BertConfig config = loaded.config();
        if (tokenizer.vocabSize() > config.vocabSize()) {
            loaded.close();
            tokenizer.close();
            throw new IOException(dir + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model only " + config.vocabSize() + " embeddings");
        }
        return new EmbeddingModel(dir, config, loaded, tokenizer, new BertEncoder(config, loaded.weights(), backend));
    }

    public Path dir() {
        return dir;
    }

    public BertConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public BertEncoder encoder() {
        return encoder;
    }

    public int dim() {
        return config.hiddenSize();
    }

    public int maxPositions() {
        return config.maxPositionEmbeddings();
    }

    /** Embeds a few texts at once (tests, small jobs); large inputs go through {@code EmbedJob}. */
    public float[][] embed(List<String> texts, int maxLength) {
        Encoding[] enc = texts.stream().map(t -> tokenizer.encode(t, maxLength)).toArray(Encoding[]::new);
        return encoder.embed(Batch.pad(enc, tokenizer.padId()));
    }

    @Override
    public void close() {
        encoder.close();
        encoder.backend().close();
        weights.close();
        tokenizer.close();
    }
}
