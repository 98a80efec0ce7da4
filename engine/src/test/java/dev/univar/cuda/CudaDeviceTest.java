package dev.univar.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.univar.bindings.cuda.cublas_h.*;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CUDA layer on a real device; every test is skipped where {@link CudaContext#available()} is false. */
class CudaDeviceTest {
    /** y[i] = a * x[i] for i < n; checked with {@code ptxas -arch=sm_90} and {@code -arch=sm_80}. */
    static final String SCALE_PTX = """
            .version 8.0
            .target sm_80
            .address_size 64

            .visible .entry scale(
                .param .u64 y,
                .param .u64 x,
                .param .f32 a,
                .param .u32 n
            )
            {
                .reg .pred %p<2>;
                .reg .b32 %r<6>;
                .reg .f32 %f<4>;
                .reg .b64 %rd<8>;

                ld.param.u64 %rd1, [y];
                ld.param.u64 %rd2, [x];
                ld.param.f32 %f1, [a];
                ld.param.u32 %r1, [n];
                mov.u32 %r2, %ctaid.x;
                mov.u32 %r3, %ntid.x;
                mov.u32 %r4, %tid.x;
                mad.lo.s32 %r5, %r2, %r3, %r4;
                setp.ge.u32 %p1, %r5, %r1;
                @%p1 bra DONE;
                cvta.to.global.u64 %rd3, %rd2;
                cvta.to.global.u64 %rd4, %rd1;
                mul.wide.u32 %rd5, %r5, 4;
                add.s64 %rd6, %rd3, %rd5;
                ld.global.f32 %f2, [%rd6];
                mul.f32 %f3, %f2, %f1;
                add.s64 %rd7, %rd4, %rd5;
                st.global.f32 [%rd7], %f3;
            DONE:
                ret;
            }
            """;

    private static CudaContext ctx;

    @BeforeAll
    static void open() {
        assumeTrue(CudaContext.available(), "no CUDA driver: skipped");
        ctx = CudaContext.open(0);
        System.out.println("CUDA: " + ctx.describe());
    }

    @AfterAll
    static void close() {
        if (ctx != null) ctx.close();
    }

    private static float[] random(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = random.nextFloat() * 2 - 1;
        return v;
    }

    private static long upload(Arena arena, float[] values) {
        long ptr = ctx.malloc(4L * values.length);
        ctx.copyHtoD(ptr, arena.allocateFrom(JAVA_FLOAT, values), 4L * values.length);
        return ptr;
    }

    private static float[] download(Arena arena, long ptr, int n) {
        MemorySegment host = arena.allocate(JAVA_FLOAT, n);
        ctx.copyDtoH(host, ptr, 4L * n);
        return host.toArray(JAVA_FLOAT);
    }

    @Test
    void floatsSurviveARoundTripThroughDeviceMemory() {
        try (Arena arena = Arena.ofConfined()) {
            float[] values = random(new Random(1), 100_003);
            long a = upload(arena, values);
            long b = ctx.malloc(4L * values.length);
            ctx.copyDtoD(b, a, 4L * values.length);
            assertArrayEquals(values, download(arena, b, values.length));
            ctx.memset0(b, 4L * 10);
            float[] back = download(arena, b, values.length);
            assertEquals(0f, back[9]);
            assertEquals(values[10], back[10]);
            ctx.free(a);
            ctx.free(b);
            assertTrue(ctx.memoryInfo().free() > 0);
        }
    }

    @Test
    void managedMemoryIsZeroedReadableFromTheHostAndKnownToTheContext() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment managed = ctx.allocManaged(1 << 20, arena);
            assertEquals(1 << 20, managed.byteSize());
            for (long i = 0; i < managed.byteSize(); i += 4096) assertEquals(0, managed.get(JAVA_FLOAT, i));
            assertTrue(ctx.isDeviceAccessible(managed));
            assertTrue(ctx.isDeviceAccessible(managed.asSlice(4096, 4096)));
            assertFalse(ctx.isDeviceAccessible(arena.allocate(16)));
            MemorySegment pinned = ctx.allocPinned(4096, arena);
            assertFalse(ctx.isDeviceAccessible(pinned));
            managed.set(JAVA_FLOAT, 0, 3.5f);
            ctx.prefetchToDevice(managed);
            ctx.synchronize();
            // Device reads managed memory through its address: copy it into pinned memory.
            ctx.copyDtoH(pinned, managed.address(), 4);
            assertEquals(3.5f, pinned.get(JAVA_FLOAT, 0));
        }
    }

    @Test
    void aHandWrittenPtxKernelScalesAVectorAlsoFromAnotherThread() throws Exception {
        int n = 10_007;
        try (Arena arena = Arena.ofShared(); CudaModule module = CudaModule.loadPtx(ctx, "scale", SCALE_PTX)) {
            float[] x = random(new Random(2), n);
            long dx = upload(arena, x);
            long dy = ctx.malloc(4L * n);
            CudaKernel scale = module.function("scale");
            try (var pool = Executors.newSingleThreadExecutor()) {
                Future<?> launched = pool.submit(() -> scale.launch((n + 255) / 256, 1, 1, 256, 1, 1, 0, dy, dx, 2.5f, n));
                launched.get();
            }
            float[] y = download(arena, dy, n);
            for (int i = 0; i < n; i++) assertEquals(2.5f * x[i], y[i], 0f, "element " + i);
            ctx.free(dx);
            ctx.free(dy);
        }
    }

    @Test
    void rejectedPtxCarriesTheJitLog() {
        var e = assertThrows(CudaException.class, () -> CudaModule.loadPtx(ctx, "broken",
                ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry broken() { bogus; }\n"));
        assertTrue(e.getMessage().startsWith("cuModuleLoadDataEx(broken) failed: CUDA_ERROR_INVALID_PTX"),
                e.getMessage());
    }

    /** C[m,n] (row-major) = op(A)·op(B) in double, A stored [m,k] or [k,m] (transA), B [k,n] or [n,k] (transB). */
    private static float[] reference(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double) (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = (float) sum;
            }
        return c;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], 1e-4 * Math.max(1, scale), what + " element " + i);
    }

    @Test
    void sgemmAndGemmExMatchATripleLoopForEveryTransposeOfRaggedShapes() {
        assumeTrue(Cublas.available(), "no cuBLAS: skipped");
        int m = 37, n = 53, k = 29;
        Random random = new Random(3);
        try (Arena arena = Arena.ofConfined(); Cublas blas = Cublas.create(ctx)) {
            blas.setMathMode(CUBLAS_DEFAULT_MATH());
            for (boolean transA : new boolean[]{false, true})
                for (boolean transB : new boolean[]{false, true}) {
                    float[] a = random(random, m * k), b = random(random, k * n);
                    long da = upload(arena, a), db = upload(arena, b), dc = ctx.malloc(4L * m * n);
                    // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap operands and m/n.
                    int lda = transA ? m : k, ldb = transB ? k : n;
                    String what = "transA=" + transA + " transB=" + transB;
                    blas.sgemm(transB, transA, n, m, k, 1f, db, ldb, da, lda, 0f, dc, n);
                    float[] expected = reference(transA, transB, m, n, k, a, b);
                    assertClose(expected, download(arena, dc, m * n), "sgemm " + what);
                    blas.gemmEx(transB, transA, n, m, k, 1f, db, ldb, da, lda, 0f, dc, n,
                            CUDA_R_32F(), CUDA_R_32F(), CUDA_R_32F(), CUBLAS_COMPUTE_32F());
                    assertClose(expected, download(arena, dc, m * n), "gemmEx " + what);
                    ctx.free(da);
                    ctx.free(db);
                    ctx.free(dc);
                }
        }
    }

    @Test
    void stridedBatchedGemmsMatchOneGemmPerBatch() {
        assumeTrue(Cublas.available(), "no cuBLAS: skipped");
        int batches = 3, m = 17, n = 11, k = 23;
        Random random = new Random(4);
        try (Arena arena = Arena.ofConfined(); Cublas blas = Cublas.create(ctx)) {
            float[] a = random(random, batches * m * k), b = random(random, batches * k * n);
            long da = upload(arena, a), db = upload(arena, b), dc = ctx.malloc(4L * batches * m * n);
            blas.sgemmStridedBatched(false, false, n, m, k, 1f, db, n, (long) k * n, da, k, (long) m * k, 0f, dc, n,
                    (long) m * n, batches);
            float[] c = download(arena, dc, batches * m * n);
            blas.gemmStridedBatchedEx(false, false, n, m, k, 1f, db, n, (long) k * n, da, k, (long) m * k, 0f, dc, n,
                    (long) m * n, batches, CUDA_R_32F(), CUDA_R_32F(), CUDA_R_32F(), CUBLAS_COMPUTE_32F());
            float[] cEx = download(arena, dc, batches * m * n);
            for (int batch = 0; batch < batches; batch++) {
                float[] expected = reference(false, false, m, n, k,
                        Arrays.copyOfRange(a, batch * m * k, (batch + 1) * m * k),
                        Arrays.copyOfRange(b, batch * k * n, (batch + 1) * k * n));
                assertClose(expected, Arrays.copyOfRange(c, batch * m * n, (batch + 1) * m * n),
                        "batch " + batch);
                assertClose(expected, Arrays.copyOfRange(cEx, batch * m * n, (batch + 1) * m * n),
                        "Ex batch " + batch);
            }
            ctx.free(da);
            ctx.free(db);
            ctx.free(dc);
        }
    }

    @Test
    void eventsTimeWorkOnTheStream() {
        long bytes = 256L << 20;
        long a = ctx.malloc(bytes), b = ctx.malloc(bytes);
        float ms = ctx.elapsedMs(() -> {
            for (int i = 0; i < 4; i++) ctx.copyDtoD(b, a, bytes);
        });
        assertTrue(ms > 0, "elapsed " + ms + " ms");
        ctx.free(a);
        ctx.free(b);
    }
}
