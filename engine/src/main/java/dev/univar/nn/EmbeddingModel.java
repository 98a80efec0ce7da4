package dev.univar.nn;

import dev.univar.cpu.CpuBackend;
import dev.univar.cpu.ScalarBackend;
import dev.univar.data.InputException;
import dev.univar.model.Encoder;
import dev.univar.model.ModelConfig;
import dev.univar.model.Weights;
import dev.univar.tensor.Backend;
import dev.univar.text.Batch;
import dev.univar.text.Encoding;
import dev.univar.text.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A sentence-embedding model loaded from a Hugging Face model folder of any architecture the engine runs
 * ({@code config.json}, {@code model.safetensors}, and {@code tokenizer.json}, {@code vocab.txt} or a SentencePiece
 * {@code sentencepiece.bpe.model}): its tokenizer and an encoder on the given backend.
 */
public final class EmbeddingModel implements AutoCloseable {
    private final Path dir;
    private final ModelConfig config;
    private final Weights.Loaded weights;
    private final Tokenizer tokenizer;
    private final Encoder encoder;

    private EmbeddingModel(Path dir, ModelConfig config, Weights.Loaded weights, Tokenizer tokenizer, Encoder encoder) {
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
        Weights.Loaded loaded;
        try {
            loaded = Weights.open(dir);
        } catch (IOException | RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        ModelConfig config = loaded.config();
        if (tokenizer.vocabSize() > config.vocabSize()) {
            loaded.close();
            tokenizer.close();
            throw new IOException(dir + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model only " + config.vocabSize() + " embeddings");
        }
        return new EmbeddingModel(dir, config, loaded, tokenizer, new Encoder(loaded.weights(), backend));
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Encoder encoder() {
        return encoder;
    }

    public int dim() {
        return config.hiddenSize();
    }

    public int maxPositions() {
        return config.maxPositions();
    }

    /**
     * Most token positions (texts x padded length) of a one-batch job that runs on the reference kernels; see
     * {@link #embed(Batch, boolean)}.
     */
    public static final int ONE_SHOT_MAX_POSITIONS = 32;
    private Encoder reference;

    /**
     * Embeds one batch, one row per text in batch order. {@code wholeJob} says that the caller embeds nothing else
     * with this model: then a batch of at most {@link #ONE_SHOT_MAX_POSITIONS} token positions on the CPU backend
     * (one short text, typically) runs on the plain-Java reference kernels ({@link ScalarBackend}: one thread, sums
     * in double) instead of the Vector API ones. In a fresh JVM the Vector API runs unintrinsified until C2 has
     * compiled its kernels, about 0.6 s for a first short batch on 2 cores, which such a job never earns back; the
     * plain loops are compiled within milliseconds (0.33 s). Both paths are checked against ONNX Runtime, and they
     * agree to about 1e-7.
     *
     * <p>An embedding that is not finite (NaN or infinite) is an {@link InputException} naming the model folder: the
     * weights were checked to be finite at load, so the forward pass overflowed on some text of the batch.
     */
    public float[][] embed(Batch batch, boolean wholeJob) {
        if (wholeJob && (long) batch.size() * batch.seqLen() <= ONE_SHOT_MAX_POSITIONS && encoder.backend() instanceof CpuBackend) {
            if (reference == null) reference = new Encoder(weights.weights(), new ScalarBackend());
            return requireFinite(reference.embed(batch));
        }
        return requireFinite(encoder.embed(batch));
    }

    /** Embeds a few texts at once (tests, small jobs); large inputs go through {@code EmbedJob}. */
    public float[][] embed(List<String> texts, int maxLength) {
        Encoding[] enc = texts.stream().map(t -> tokenizer.encode(t, maxLength)).toArray(Encoding[]::new);
        return requireFinite(encoder.embed(Batch.pad(enc, tokenizer.padId())));
    }

    /** {@code rows}, or an InputException naming the model when one holds a NaN or an infinity. */
    private float[][] requireFinite(float[][] rows) {
        for (float[] row : rows) {
            for (int d = 0; d < row.length; d++) {
                if (!Float.isFinite(row[d]))
                    throw new InputException(dir, 0, "the model computed a non-finite embedding (" + row[d]
                            + " in dimension " + d + ", for one of a batch of " + rows.length + " texts); its weights"
                            + " are finite, so the computation overflowed");
            }
        }
        return rows;
    }

    @Override
    public void close() {
        if (reference != null) {
            reference.close();
            reference.backend().close();
        }
        encoder.close();
        encoder.backend().close();
        weights.close();
        tokenizer.close();
    }
}
