package dev.univar.cli;

import dev.univar.nn.EmbeddingModel;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** Options shared by the commands that run the encoder. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "minilm|DIR|ORG/NAME", defaultValue = "minilm",
            description = "Model: 'minilm' (all-MiniLM-L6-v2, imported once into $UNIVAR_HOME), a Hugging Face "
                    + "BERT folder (config.json, model.safetensors, tokenizer.json or vocab.txt), or a Hugging Face Hub "
                    + "model ORG/NAME[@REVISION] (downloaded once into the Hub's cache; see `univar models`). "
                    + "Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: all cores.")
    Integer threads;

    @Mixin
    DeviceOptions deviceOptions;

    int threads() {
        return Check.threads("--threads", threads);
    }

    /** The device {@code --device}, {@code --precision} and {@code --threads} name. */
    Device device() {
        return deviceOptions.device(threads());
    }

    Path modelDir() throws IOException {
        return Models.resolve(model);
    }

    /** Opens the device first (so a missing driver fails before the model is imported), then loads the model on it. */
    EmbeddingModel load() throws IOException {
        return Embeddings.load(model, device(), System.err);
    }
}
