package dev.univar.cpu;

import dev.univar.tensor.BackendOptions;
import dev.univar.tensor.BackendProvider;
import dev.univar.tensor.BackendUnavailableException;
import dev.univar.tensor.Precision;
import dev.univar.tensor.TrainingBackend;

/** The Vector API backend, device name "cpu". */
public final class CpuProvider implements BackendProvider {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public TrainingBackend open(BackendOptions options) {
        if (options.precision() != Precision.FP32)
            throw new BackendUnavailableException("the cpu backend computes in fp32 only, not "
                    + options.precision().name().toLowerCase(java.util.Locale.ROOT));
        return options.threads() == 0 ? new CpuTrainingBackend() : new CpuTrainingBackend(options.threads());
    }
}
