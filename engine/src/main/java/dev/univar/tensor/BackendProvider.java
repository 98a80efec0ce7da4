package dev.univar.tensor;

/**
 * A kind of backend ("cpu", "cuda"), found through {@link java.util.ServiceLoader} (registered in
 * {@code META-INF/services/dev.univar.tensor.BackendProvider}), so the CLI and benchmarks pick a device by name
 * without compiling against every backend.
 */
public interface BackendProvider {

    /** The device name users type: "cpu", "cuda". */
    String name();

    /** Null when {@link #open} can work here, else a one-line reason, e.g. "no CUDA driver found (tried: ...)". */
    String unavailableReason();

    /**
     * Opens a backend that can run the encoder and train it.
     *
     * @throws BackendUnavailableException with a one-line reason when it cannot be opened here
     */
    TrainingBackend open(BackendOptions options);
}
