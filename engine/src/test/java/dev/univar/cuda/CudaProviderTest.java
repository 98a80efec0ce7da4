package dev.univar.cuda;

import dev.univar.tensor.BackendOptions;
import dev.univar.tensor.BackendProvider;
import dev.univar.tensor.BackendUnavailableException;
import dev.univar.tensor.Backends;
import dev.univar.tensor.Precision;
import dev.univar.tensor.TrainingBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "cuda" is a registered device: where CUDA is usable it opens; where it is not (this test runs everywhere), asking
 * for it gives a one-line {@link BackendUnavailableException} naming the reason, "no CUDA driver found ..." on a
 * machine without a driver, and no crash.
 */
class CudaProviderTest {

    @Test
    void registeredUnderItsName() {
        assertTrue(Backends.names().contains("cuda"), Backends.names().toString());
    }

    @Test
    void opensWhereUsableAndSaysWhyWhereNot() {
        BackendProvider provider = new CudaProvider();
        BackendOptions options = new BackendOptions(0, Precision.FP32, 0);
        if (CudaContext.available() && Cublas.available()) {
            assertNull(provider.unavailableReason());
            try (TrainingBackend backend = Backends.open("cuda", options)) {
                assertEquals("cuda", backend.name());
            }
            return;
        }
        String reason = provider.unavailableReason();
        assertTrue(reason != null && !reason.isBlank() && !reason.contains("\n"), "one-line reason: " + reason);
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda", options));
        assertEquals(reason, e.getMessage());
        if (!CudaContext.available() && !driverLoads())
            assertTrue(reason.startsWith("no CUDA driver found"), reason);
        System.out.println("cuda unavailable here, as expected: " + reason);
    }

    private static boolean driverLoads() {
        try {
            dev.univar.bindings.cuda.CudaLibraries.loadDriver();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
