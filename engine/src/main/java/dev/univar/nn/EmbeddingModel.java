package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.io.SafeTensors;
import dev.univar.tensor.Backend;
import dev.univar.text.Tokenizer;
import dev.univar.text.WordPieceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A sentence-embedding model loaded from a Hugging Face BERT folder ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json} or {@code vocab.txt}): its tokenizer and an encoder on the given backend.
 */
public final class EmbeddingModel implements AutoCloseable {
    private final Path dir;
    private final BertConfig config;
    private final SafeTensors weightsFile;
    private final Tokenizer tokenizer;
    private final BertEncoder encoder;

    private EmbeddingModel(Path dir, BertConfig config, SafeTensors weightsFile, Tokenizer tokenizer, BertEncoder encoder) {
        this.dir = dir;
        this.config = config;
        this.weightsFile = weightsFile;
        this.tokenizer = tokenizer;
        this.encoder = encoder;
    }

    public static EmbeddingModel load(Path dir, Backend backend) throws IOException {
        for (String required : List.of("config.json", "model.safetensors")) {
            if (!Files.isRegularFile(dir.resolve(required)))
                throw new IOException(dir + ": not a model folder: " + required + " is missing");
        }
        BertConfig config = BertConfig.read(dir.resolve("config.json"));
        Tokenizer tokenizer = WordPieceTokenizer.fromModelDir(dir);
        if (tokenizer.vocabSize() > config.vocabSize())
            throw new IOException(dir + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model only " + config.vocabSize() + " embeddings");
        SafeTensors file = SafeTensors.open(dir.resolve("model.safetensors"));
        try {
            BertWeights weights = BertWeights.load(file, config);
            return new EmbeddingModel(dir, config, file, tokenizer, new BertEncoder(config, weights, backend));
        } catch (RuntimeException | IOException e) {
            file.close();
            throw e;
        }
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
        List<int[]> ids = texts.stream().map(t -> tokenizer.encode(t, maxLength).ids()).toList();
        return encoder.embed(dev.univar.text.Batch.of(ids, tokenizer.padId()));
    }

    @Override
    public void close() {
        encoder.close();
        weightsFile.close();
    }
}
