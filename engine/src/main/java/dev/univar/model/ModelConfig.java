package dev.univar.model;

import com.google.gson.JsonObject;
import dev.univar.data.AtomicFile;
import dev.univar.data.InputException;
import dev.univar.io.JsonInput;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's {@code config.json}, parsed into the config of its architecture: the one type the rest of the engine
 * sees. {@link #fromJson} chooses the architecture by the {@code model_type} field, in one place; every architecture
 * is one record that implements this interface, and with it come its weight view and its encoder
 * ({@link #encoder}).
 *
 * <p>An architecture plugs in with three files and the backend operations it needs: its config record (listed
 * in {@code permits} and in {@link #fromJson}'s switch), its weight view (the parameters, declared once through a
 * {@link Binder}) and its encoder ({@link EncoderGraph}: one forward for inference and training, its backward beside
 * it).
 */
public sealed interface ModelConfig permits BertConfig {

    /** File name of the config in a Hugging Face model folder. */
    String CONFIG_FILE = "config.json";

    /** The {@code model_type}s the engine runs, in {@link #fromJson}'s order. */
    List<String> MODEL_TYPES = List.of(BertConfig.MODEL_TYPE);

    /** The {@code model_type} of {@code config.json}. */
    String modelType();

    /** Rows of the word-embedding table (may exceed the tokenizer's vocabulary). */
    int vocabSize();

    /** Width of the hidden states: the embedding dimension. */
    int hiddenSize();

    /** Transformer layers. */
    int numLayers();

    /** Longest sequence the model accepts, in tokens. */
    int maxPositions();

    /** Every parameter of a model of this config, in checkpoint order (declared by the weight view). */
    List<Param> parameters();

    /**
     * Prefixes under which checkpoints may hold this architecture's tensors (a task model's {@code bert.}, say), in
     * the order tried; {@code ""} (none) is first. Parameters are written back without one.
     */
    default List<String> checkpointPrefixes() {
        return List.of("");
    }

    /** A new encoder of this architecture that computes with {@code ops} (inference or training). */
    EncoderGraph encoder(Ops ops);

    /** FLOP of one encoder forward over {@code batch × seq} tokens: its products and attention, 2 per multiply-add. */
    double forwardFlops(int batch, int seq);

    /** The config as {@code config.json} text, in Hugging Face field names. */
    String toJson();

    /** Writes {@link #toJson()} to {@code file}, atomically. */
    default void write(Path file) throws IOException {
        AtomicFile.write(file, toJson());
    }

    /**
     * Reads {@code config.json}; every problem is an IOException of one line naming the file and, where there is
     * one, the field: "config.json: hidden_size must be positive, got 0".
     */
    static ModelConfig read(Path file) throws IOException {
        String json;
        try {
            json = JsonInput.readText(file);
        } catch (InputException e) {
            throw new IOException(e.getMessage(), e);
        }
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the JSON text of a {@code config.json} into its architecture's config, chosen by {@code model_type}
     * (absent: {@code bert}, as in univar's own older folders). Unknown fields are ignored. IllegalArgumentException,
     * naming the field, when it is not a valid config of an architecture the engine runs.
     */
    static ModelConfig fromJson(String json) {
        JsonObject o = ConfigJson.object(json);
        String type = ConfigJson.string(o, "model_type", BertConfig.MODEL_TYPE);
        return switch (type) {
            case BertConfig.MODEL_TYPE -> BertConfig.fromJson(o);
            default -> throw new IllegalArgumentException("field 'model_type' is '" + type + "', an architecture univar "
                    + "does not run (it runs " + String.join(", ", MODEL_TYPES) + ")");
        };
    }

    /** Declares the parameters of a weight view through a {@link Binder#declaring} binder. */
    static List<Param> declared(java.util.function.Consumer<Binder> view) {
        List<Param> params = new ArrayList<>();
        view.accept(Binder.declaring(params));
        return List.copyOf(params);
    }
}
