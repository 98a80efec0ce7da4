package dev.univar.cli;

import dev.univar.tensor.BackendOptions;
import dev.univar.tensor.BackendUnavailableException;
import dev.univar.tensor.Backends;
import dev.univar.tensor.Precision;
import dev.univar.tensor.TrainingBackend;

import java.util.Locale;

/**
 * Where a command computes: a device name as {@link Backends} knows it ("cpu", "cuda"), which accelerator of
 * that kind, the precision of the dense products and the CPU threads.
 */
record Device(String name, int ordinal, Precision precision, int threads) {

    /** The CPU with {@code threads} threads in fp32: what the analyses' own arithmetic (k-NN, probe) runs on. */
    static Device cpu(int threads) {
        return new Device("cpu", 0, Precision.FP32, threads);
    }

    /**
     * Parses {@code --device}: a name, optionally with an accelerator ordinal ({@code cuda:1} is the second GPU).
     *
     * @throws BackendUnavailableException for a malformed ordinal (a usage error, reported like an unknown device)
     */
    static Device parse(String spec, Precision precision, int threads) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        if (colon < 0) return new Device(s, 0, precision, threads);
        try {
            int ordinal = Integer.parseInt(s.substring(colon + 1));
            if (ordinal >= 0) return new Device(s.substring(0, colon), ordinal, precision, threads);
        } catch (NumberFormatException ignored) {
            // falls through to the message below
        }
        throw new BackendUnavailableException("--device '" + spec + "': write a device name (" + String.join(", ", Backends.names())
                + "), optionally followed by ':N' for the N-th accelerator (cuda:1)");
    }

    /** Opens the backend; the caller owns (closes) it. */
    TrainingBackend open() {
        return Backends.open(name, new BackendOptions(threads, precision, ordinal));
    }

    /**
     * Opens and closes the backend at once, so a command fails with the backend's one-line reason (no driver,
     * an unknown device, a precision the device lacks) before it reads its inputs.
     */
    void check() {
        try (TrainingBackend ignored = open()) {
            // nothing: opening is the check
        }
    }

    boolean isCpu() {
        return name.equals("cpu");
    }

    /** "cpu threads=2", "cuda fp32", "cuda:1 bf16": how benchmarks and logs name the device. */
    String label() {
        if (isCpu()) return "cpu threads=" + threads;
        return name + (ordinal > 0 ? ":" + ordinal : "") + " " + precision.name().toLowerCase(Locale.ROOT);
    }
}
