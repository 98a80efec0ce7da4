package dev.univar.perf;

import dev.univar.io.BertWeights;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import dev.univar.train.InfoNce;

import java.lang.foreign.Arena;

/**
 * Where the benchmarks put their operands, and how they wait for a backend. The one place that knows whether a
 * backend computes in host memory (cpu, scalar) or in its own (a GPU), so {@link Bench} reads the same for both.
 */
final class DeviceMemory {
    private DeviceMemory() {
    }

    /** Backends that compute synchronously in host memory. */
    static boolean isHost(Backend backend) {
        return switch (backend.name()) {
            case "cpu", "scalar" -> true;
            default -> false;
        };
    }

    /** An uninitialised tensor in the backend's memory. */
    static Tensor allocate(Backend backend, Arena arena, int... shape) {
        return Tensor.allocate(arena, shape);
    }

    /** {@code host}'s values in the backend's memory (host itself on a host backend). */
    static Tensor resident(Backend backend, Arena arena, Tensor host) {
        return host;
    }

    /** The weights in the backend's memory (the same object on a host backend). */
    static BertWeights residentWeights(Backend backend, Arena arena, BertWeights host) {
        return host;
    }

    /** Waits until the work queued on the backend is done (nothing to wait for on a host backend). */
    static void synchronize(Backend backend) {
    }

    /** Symmetric InfoNCE over {@code pairs} rows of {@code a} and {@code b}, gradients into {@code dA}, {@code dB}. */
    static double infoNce(Backend backend, Tensor a, Tensor b, int pairs, int dim, double temperature, Tensor dA, Tensor dB) {
        return InfoNce.lossAndGradients(a, b, pairs, dim, temperature, dA, dB);
    }
}
