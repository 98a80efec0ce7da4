package dev.univar.cuda;

import dev.univar.tensor.BackendOptions;
import dev.univar.tensor.BackendProvider;
import dev.univar.tensor.BackendUnavailableException;
import dev.univar.tensor.TrainingBackend;

/**
 * The CUDA backend, device name "cuda": device {@link BackendOptions#deviceOrdinal()} in
 * {@link BackendOptions#precision()} (threads do not apply). Where there is no driver, device or cuBLAS, the runtime's
 * one-line reason ("no CUDA driver found (...)", "no CUDA device ...", "cuBLAS not found ...") comes back as a
 * {@link BackendUnavailableException}.
 */
public final class CudaProvider implements BackendProvider {
    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String unavailableReason() {
        try {
            if (CudaContext.available() && Cublas.available()) return null;
            // Not usable: opening says why, in the runtime's words.
            try (CudaContext context = CudaContext.open(0); Cublas blas = Cublas.create(context)) {
                return null;
            }
        } catch (CudaUnavailableException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "CUDA is not usable here: " + e.getMessage();
        }
    }

    @Override
    public TrainingBackend open(BackendOptions options) {
        try {
            return CudaBackend.open(options.deviceOrdinal(), options.precision());
        } catch (CudaUnavailableException e) {
            throw new BackendUnavailableException(e.getMessage(), e);
        } catch (LinkageError e) {
            throw new BackendUnavailableException("CUDA is not usable here: " + e.getMessage(), e);
        }
    }
}
