package dev.univar.tensor;

/**
 * How to open a backend.
 *
 * @param threads       CPU worker threads (CPU backends; 0 = all available processors)
 * @param precision     arithmetic of the dense products
 * @param deviceOrdinal which accelerator, for backends that have several (0 = the first)
 */
public record BackendOptions(int threads, Precision precision, int deviceOrdinal) {
    public BackendOptions {
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        if (deviceOrdinal < 0) throw new IllegalArgumentException("device ordinal must be >= 0, got " + deviceOrdinal);
        if (precision == null) precision = Precision.FP32;
    }

    public static BackendOptions cpu(int threads) {
        return new BackendOptions(threads, Precision.FP32, 0);
    }
}
