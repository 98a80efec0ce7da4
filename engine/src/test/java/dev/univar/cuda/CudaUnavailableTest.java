package dev.univar.cuda;

import dev.univar.bindings.cuda.CudaLibraries;
import dev.univar.bindings.cuda.cublas_h;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What the CUDA layer does on a machine without CUDA, and the parts that need no device. */
class CudaUnavailableTest {
    @Test
    void withoutADriverOpenSaysWhatItTriedAndTheJvmLivesOn() {
        assumeFalse(CudaContext.available(), "this machine has a usable CUDA device");
        var e = assertThrows(CudaUnavailableException.class, () -> CudaContext.open(0));
        String message = e.getMessage();
        assertTrue(message.startsWith("no CUDA"), message);
        if (CudaLibraries.loadedDriver().isEmpty()) {
            assertTrue(message.startsWith("no CUDA driver found (libcuda.so.1 not loadable; tried: "), message);
            assertTrue(message.contains("/usr/lib/x86_64-linux-gnu/libcuda.so.1"), message);
        }
        assertFalse(Cublas.available());
        // Asking again gives the same answer, not a different failure.
        assertEquals(message, assertThrows(CudaUnavailableException.class, () -> CudaContext.open(0)).getMessage());
    }

    @Test
    void kernelsAreChosenByComputeCapability() {
        assertEquals("/dev/univar/cuda/encoder.sm_90.ptx", CudaModule.resourceName("encoder", 9));
        assertEquals("/dev/univar/cuda/encoder.sm_90.ptx", CudaModule.resourceName("encoder", 10));
        assertEquals("/dev/univar/cuda/encoder.sm_80.ptx", CudaModule.resourceName("encoder", 8));
    }

    @Test
    void deviceLineReadsAsTheLogShowsIt() {
        var h100 = new CudaContext.Device(0, "NVIDIA H100 80GB HBM3", 9, 0, 132, 85_520_809_984L, 232_448, true, 13000);
        assertEquals("NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.6 GiB, driver 13.0", h100.describe());
        assertEquals(90, h100.computeCapability());
        assertEquals("12.8", CudaContext.versionText(12080));
    }

    @Test
    void cublasStatusesAreNamed() {
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.statusName(cublas_h.CUBLAS_STATUS_INVALID_VALUE()));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.statusName(cublas_h.CUBLAS_STATUS_NOT_SUPPORTED()));
        assertEquals("cublasStatus_t 42", Cublas.statusName(42));
        var e = assertThrows(CudaException.class, () -> CudaException.checkCublas(7, "cublasSgemm_v2"));
        assertEquals("cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE", e.getMessage());
        assertEquals(7, e.code());
    }
}
