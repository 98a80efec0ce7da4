package dev.univar.cuda;

import dev.univar.bindings.NativeLibraries;
import dev.univar.bindings.cuda.CudaLibraries;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.univar.bindings.cuda.cublas_h.*;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A cuBLAS handle bound to a {@link CudaContext}'s stream, for the GEMMs of the CUDA backend.
 *
 * <p>cuBLAS is column-major: a matrix with leading dimension {@code ld} has element (i, j) at {@code i + j·ld}.
 * univar's tensors are row-major, and a row-major matrix is the column-major view of its transpose. So the row-major
 * product {@code C[m,n] = A[m,k] · B[k,n]} is computed as the column-major {@code Cᵀ = Bᵀ · Aᵀ}: call
 * {@code sgemm(false, false, n, m, k, 1, b, n, a, k, 0, c, n)}, i.e. swap the operands, swap {@code m} and
 * {@code n}, and use each row-major matrix's row length as its leading dimension. A row-major {@code A·Bᵀ}
 * ({@code B} stored [n,k]) is {@code sgemm(true, false, n, m, k, 1, b, k, a, k, 0, c, n)}.
 *
 * <p>{@code alpha} and {@code beta} go by pointer in host memory (cuBLAS's default pointer mode), from one small
 * segment this object reuses; the methods are synchronized so threads may share a handle one call at a time. Every
 * call is issued on the context's stream and returns at once.
 */
public final class Cublas implements AutoCloseable {
    private final CudaContext context;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private boolean closed;

    private Cublas(CudaContext context, MemorySegment handle) {
        this.context = context;
        this.handle = handle;
        this.alpha = arena.allocate(JAVA_FLOAT);
        this.beta = arena.allocate(JAVA_FLOAT);
    }

    /** Whether a CUDA device is usable ({@link CudaContext#available()}) and cuBLAS loads. */
    public static boolean available() {
        if (!CudaContext.available()) return false;
        try {
            CudaLibraries.loadCublas();
            return true;
        } catch (NativeLibraries.UnavailableException e) {
            return false;
        }
    }

    /**
     * Loads cuBLAS (see {@link CudaLibraries} for where), creates a handle on {@code context}'s primary context and
     * binds it to the context's stream.
     *
     * @throws CudaUnavailableException {@code cuBLAS not found; tried: ...}
     */
    public static Cublas create(CudaContext context) {
        try {
            CudaLibraries.loadCublas();
        } catch (NativeLibraries.UnavailableException e) {
            throw new CudaUnavailableException(e.getMessage(), e);
        }
        context.makeCurrent();
        MemorySegment handle;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(C_POINTER);
            CudaException.checkCublas(cublasCreate_v2(out), "cublasCreate_v2");
            handle = out.get(C_POINTER, 0);
        }
        Cublas blas = new Cublas(context, handle);
        try {
            CudaException.checkCublas(cublasSetStream_v2(handle, context.streamHandle()), "cublasSetStream_v2");
            return blas;
        } catch (RuntimeException e) {
            blas.close();
            throw e;
        }
    }

    /** cuBLAS's version number, major·10000 + minor·100 + patch (e.g. 130001). */
    public synchronized int version() {
        context.makeCurrent();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(C_INT);
            CudaException.checkCublas(cublasGetVersion_v2(handle, out), "cublasGetVersion_v2");
            return out.get(C_INT, 0);
        }
    }

    /** E.g. {@code 13.0.1}. */
    public String versionText() {
        int v = version();
        return v / 10000 + "." + v / 100 % 100 + "." + v % 100;
    }

    /**
     * Sets the math mode: {@code CUBLAS_DEFAULT_MATH} (fp32 stays fp32), {@code CUBLAS_TF32_TENSOR_OP_MATH} (fp32
     * GEMMs may use TF32 tensor cores), {@code CUBLAS_PEDANTIC_MATH}; the {@code cublas_h} constants.
     */
    public synchronized void setMathMode(int mode) {
        context.makeCurrent();
        CudaException.checkCublas(cublasSetMathMode(handle, mode), "cublasSetMathMode(" + mode + ")");
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} in fp32, column-major (see the class comment for row-major data):
     * {@code op(A)} is m×k, {@code op(B)} k×n, {@code C} m×n; {@code a}, {@code b}, {@code c} are device pointers.
     */
    public synchronized void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                   long b, int ldb, float beta, long c, int ldc) {
        scalars(alpha, beta);
        CudaException.checkCublas(cublasSgemm_v2(handle, op(transA), op(transB), m, n, k, this.alpha,
                MemorySegment.ofAddress(a), lda, MemorySegment.ofAddress(b), ldb, this.beta,
                MemorySegment.ofAddress(c), ldc), "cublasSgemm_v2(" + m + "x" + n + "x" + k + ")");
    }

    /**
     * {@code batchCount} independent {@link #sgemm}s; matrix {@code i} of A starts at {@code a + i·strideA}
     * elements (strides count floats, not bytes), likewise for B and C.
     */
    public synchronized void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                                 long a, int lda, long strideA, long b, int ldb, long strideB,
                                                 float beta, long c, int ldc, long strideC, int batchCount) {
        scalars(alpha, beta);
        CudaException.checkCublas(cublasSgemmStridedBatched(handle, op(transA), op(transB), m, n, k, this.alpha,
                        MemorySegment.ofAddress(a), lda, strideA, MemorySegment.ofAddress(b), ldb, strideB, this.beta,
                        MemorySegment.ofAddress(c), ldc, strideC, batchCount),
                "cublasSgemmStridedBatched(" + batchCount + " x " + m + "x" + n + "x" + k + ")");
    }

    /**
     * {@link #sgemm} with element types {@code aType}, {@code bType}, {@code cType} ({@code CUDA_R_32F},
     * {@code CUDA_R_16BF}, {@code CUDA_R_16F}) and a compute type, which must be one of the fp32 ones because the
     * scalars are floats: {@code CUBLAS_COMPUTE_32F}, {@code _32F_PEDANTIC}, {@code _32F_FAST_TF32},
     * {@code _32F_FAST_16BF}, {@code _32F_FAST_16F}. Uses {@code CUBLAS_GEMM_DEFAULT}.
     */
    public synchronized void gemmEx(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                    long b, int ldb, float beta, long c, int ldc, int aType, int bType, int cType,
                                    int computeType) {
        scalars(alpha, beta);
        CudaException.checkCublas(cublasGemmEx(handle, op(transA), op(transB), m, n, k, this.alpha,
                        MemorySegment.ofAddress(a), aType, lda, MemorySegment.ofAddress(b), bType, ldb, this.beta,
                        MemorySegment.ofAddress(c), cType, ldc, fp32Compute(computeType), CUBLAS_GEMM_DEFAULT()),
                "cublasGemmEx(" + m + "x" + n + "x" + k + ", types " + aType + "/" + bType + "/" + cType
                        + ", compute " + computeType + ")");
    }

    /** {@link #sgemmStridedBatched} with the types of {@link #gemmEx} (strides count elements). */
    public synchronized void gemmStridedBatchedEx(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                                  long a, int lda, long strideA, long b, int ldb, long strideB,
                                                  float beta, long c, int ldc, long strideC, int batchCount,
                                                  int aType, int bType, int cType, int computeType) {
        scalars(alpha, beta);
        CudaException.checkCublas(cublasGemmStridedBatchedEx(handle, op(transA), op(transB), m, n, k, this.alpha,
                        MemorySegment.ofAddress(a), aType, lda, strideA, MemorySegment.ofAddress(b), bType, ldb,
                        strideB, this.beta, MemorySegment.ofAddress(c), cType, ldc, strideC, batchCount,
                        fp32Compute(computeType), CUBLAS_GEMM_DEFAULT()),
                "cublasGemmStridedBatchedEx(" + batchCount + " x " + m + "x" + n + "x" + k + ")");
    }

    private void scalars(float alpha, float beta) {
        if (closed) throw new IllegalStateException("cuBLAS handle is closed");
        context.makeCurrent();
        this.alpha.set(JAVA_FLOAT, 0, alpha);
        this.beta.set(JAVA_FLOAT, 0, beta);
    }

    private static int op(boolean transpose) {
        return transpose ? CUBLAS_OP_T() : CUBLAS_OP_N();
    }

    private static int fp32Compute(int computeType) {
        if (computeType == CUBLAS_COMPUTE_32F() || computeType == CUBLAS_COMPUTE_32F_PEDANTIC()
                || computeType == CUBLAS_COMPUTE_32F_FAST_TF32() || computeType == CUBLAS_COMPUTE_32F_FAST_16BF()
                || computeType == CUBLAS_COMPUTE_32F_FAST_16F())
            return computeType;
        throw new IllegalArgumentException("compute type " + computeType + " is not an fp32 one (alpha and beta are "
                + "floats)");
    }

    /** {@code CUBLAS_STATUS_INVALID_VALUE} for 7, and so on. */
    public static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus_t " + status;
        };
    }

    /** Destroys the handle (after the work issued so far). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            context.makeCurrent();
            CudaException.checkCublas(cublasDestroy_v2(handle), "cublasDestroy_v2");
        } finally {
            arena.close();
        }
    }
}
