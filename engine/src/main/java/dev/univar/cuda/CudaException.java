package dev.univar.cuda;

import dev.univar.bindings.cuda.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A CUDA driver or cuBLAS call failed. The message names the call and the error, e.g.
 * {@code cuMemAlloc_v2(1073741824 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)} or
 * {@code cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE}.
 */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int code;

    CudaException(String call, int code, String error) {
        super(call + " failed: " + error);
        this.call = call;
        this.code = code;
    }

    /** The failing call, as the bindings name it, with a short note on its arguments where useful. */
    public String call() {
        return call;
    }

    /** The {@code CUresult} or {@code cublasStatus_t} returned. */
    public int code() {
        return code;
    }

    /** Throws a {@link CudaException} unless {@code result} is {@code CUDA_SUCCESS}. */
    static void check(int result, String call) {
        if (result != cuda_h.CUDA_SUCCESS()) throw new CudaException(call, result, describe(result));
    }

    /** Throws a {@link CudaException} unless {@code status} is {@code CUBLAS_STATUS_SUCCESS}. */
    static void checkCublas(int status, String call) {
        if (status != 0) throw new CudaException(call, status, Cublas.statusName(status));
    }

    /** {@code CUDA_ERROR_OUT_OF_MEMORY (out of memory)}, from the driver's own tables. */
    static String describe(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            String name = cuda_h.cuGetErrorName(result, out) == 0 ? cString(out) : "CUresult " + result;
            String text = cuda_h.cuGetErrorString(result, out) == 0 ? cString(out) : null;
            return text == null || text.isEmpty() ? name : name + " (" + text + ")";
        }
    }

    /** The NUL-terminated string a {@code const char **} out-parameter points to. */
    private static String cString(MemorySegment out) {
        MemorySegment string = out.get(ValueLayout.ADDRESS, 0);
        return string.equals(MemorySegment.NULL) ? "" : string.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
