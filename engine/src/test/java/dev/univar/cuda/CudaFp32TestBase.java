package dev.univar.cuda;

import dev.univar.tensor.Precision;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

import java.lang.foreign.Arena;

/**
 * The life cycle the fp32 CUDA test classes share: one backend per class (none without a driver, and then every test
 * reports itself skipped), a fresh arena per test whose tensors are host memory or the backend's managed memory
 * ({@link #start}), and the summary of worst differences printed at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CudaFp32TestBase {
    protected final CudaTesting.Summary summary;
    protected CudaBackend cuda;
    protected Arena arena;
    /** Whether this test's tensors are allocated by the CUDA backend (managed memory) or on the host. */
    protected boolean onDevice;

    protected CudaFp32TestBase(String title) {
        summary = new CudaTesting.Summary(title);
    }

    @BeforeAll
    void openCuda() {
        if (!CudaContext.available()) return; // each test reports itself skipped
        cuda = CudaBackend.open(0, Precision.FP32);
        System.out.println("CUDA device: " + cuda.describe());
    }

    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeDriver();
    }

    @AfterEach
    void releaseArena() {
        if (cuda != null) cuda.synchronize();
        if (arena != null) arena.close();
        arena = null;
    }

    @AfterAll
    void closeCuda() {
        if (cuda != null) cuda.close();
        summary.print();
    }

    /** Begins a test whose tensors live on the device ({@code true}) or on the host. */
    protected void start(boolean device) {
        onDevice = device;
        arena = Arena.ofShared();
    }

    /** A zero tensor of {@code n} floats where this test keeps its tensors. */
    protected Tensor allocate(int n) {
        return onDevice ? cuda.allocate(arena, n) : Tensor.allocate(arena, n);
    }
}
