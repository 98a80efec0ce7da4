package dev.univar.bindings.cuda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks the hand-written bindings without CUDA: every function's descriptor is well-formed (a downcall handle can
 * be made from it), its wrapper's parameter types are the descriptor's, and the wrapper's {@code invokeExact} call
 * matches the handle. To let the per-function holders initialise, a stub library exporting every symbol as
 * {@code int f(void) { return 999; }} is compiled with {@code cc} (skipped without a C compiler) and loaded; calling
 * it with any arguments is harmless on x86-64 and AArch64.
 */
class BindingShapeTest {
    private static final int STUB_RESULT = 999;
    private static Path stub;

    @BeforeAll
    static void buildStub(@TempDir Path dir) throws IOException, InterruptedException {
        Set<String> symbols = new TreeSet<>(functions(cuda_h.class));
        symbols.addAll(functions(cublas_h.class));
        Path source = Files.writeString(dir.resolve("stub.c"), symbols.stream()
                .map(s -> "int " + s + "(void) { return " + STUB_RESULT + "; }\n").collect(Collectors.joining()));
        Path library = dir.resolve("libunivar_cuda_stub.so");
        try {
            Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-o", library.toString(), source.toString())
                    .redirectErrorStream(true).start();
            if (cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0) {
                System.load(library.toString());
                stub = library;
            }
        } catch (IOException e) {
            // no C compiler: the tests that need the stub are skipped
        }
    }

    /** The C functions a header class binds: its public static methods that have a {@code $descriptor} twin. */
    private static List<String> functions(Class<?> header) {
        Set<String> names = Arrays.stream(header.getMethods()).map(Method::getName).collect(Collectors.toSet());
        return names.stream().filter(n -> !n.contains("$") && names.contains(n + "$descriptor")).sorted().toList();
    }

    @Test
    void theDriverBindingHasTheFunctionsTheRuntimeNeedsUnderTheirCuda13Symbols() {
        assertEquals(new TreeSet<>(List.of("cuInit", "cuDriverGetVersion", "cuGetErrorName", "cuGetErrorString",
                "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetAttribute", "cuDeviceTotalMem_v2",
                "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuCtxSynchronize",
                "cuMemAlloc_v2", "cuMemAllocManaged", "cuMemFree_v2", "cuMemAllocHost_v2", "cuMemFreeHost",
                "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemcpyDtoD_v2", "cuMemcpyHtoDAsync_v2",
                "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2", "cuMemsetD8_v2", "cuMemsetD32_v2", "cuMemsetD8Async",
                "cuMemsetD32Async", "cuMemPrefetchAsync_v2", "cuMemGetInfo_v2", "cuModuleLoadData",
                "cuModuleLoadDataEx", "cuModuleUnload", "cuModuleGetFunction", "cuFuncSetAttribute", "cuLaunchKernel",
                "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuEventCreate", "cuEventRecord",
                "cuEventSynchronize", "cuEventElapsedTime_v2", "cuEventDestroy_v2")), new TreeSet<>(functions(cuda_h.class)));
        assertEquals(new TreeSet<>(List.of("cublasCreate_v2", "cublasDestroy_v2", "cublasGetVersion_v2",
                "cublasSetStream_v2", "cublasSetMathMode", "cublasSetWorkspace_v2", "cublasSgemm_v2",
                "cublasSgemmStridedBatched", "cublasGemmEx", "cublasGemmStridedBatchedEx", "cublasGemmBatchedEx")),
                new TreeSet<>(functions(cublas_h.class)));
    }

    @Test
    void theStructPassedByValueIsTwoInts() {
        assertEquals(8, CUmemLocation_st.sizeof());
        assertEquals(4, CUmemLocation_st.id$offset());
    }

    @Test
    void everyDescriptorMakesADowncallHandleAndMatchesItsWrapper() throws ReflectiveOperationException {
        assumeTrue(stub != null, "no C compiler to build the stub library: skipped");
        for (Class<?> header : List.of(cuda_h.class, cublas_h.class)) {
            for (String function : functions(header)) {
                var descriptor = (FunctionDescriptor) header.getMethod(function + "$descriptor").invoke(null);
                MethodHandle unbound = Linker.nativeLinker().downcallHandle(descriptor);
                assertEquals(descriptor.toMethodType().insertParameterTypes(0, MemorySegment.class), unbound.type(),
                        function);
                Method wrapper = wrapper(header, function);
                assertEquals(descriptor.toMethodType().parameterList(), List.of(wrapper.getParameterTypes()), function);
                assertEquals(int.class, wrapper.getReturnType(), function);
            }
        }
    }

    @Test
    void everyWrapperCallsItsSymbolWithExactlyTheDescriptorsTypes() throws ReflectiveOperationException {
        assumeTrue(stub != null, "no C compiler to build the stub library: skipped");
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup stubSymbols = SymbolLookup.libraryLookup(stub, arena);
            for (Class<?> header : List.of(cuda_h.class, cublas_h.class)) {
                for (String function : functions(header)) {
                    var address = (MemorySegment) header.getMethod(function + "$address").invoke(null);
                    // Only call the stub: where a real CUDA library was loaded first, its symbol may have won.
                    if (!address.equals(stubSymbols.find(function).orElseThrow())) continue;
                    Method wrapper = wrapper(header, function);
                    Object[] args = Arrays.stream(wrapper.getParameterTypes()).map(t -> zero(t, arena)).toArray();
                    assertEquals(STUB_RESULT, wrapper.invoke(null, args), function);
                }
            }
        }
    }

    private static Method wrapper(Class<?> header, String function) {
        return Arrays.stream(header.getMethods())
                .filter(m -> m.getName().equals(function) && Modifier.isStatic(m.getModifiers()))
                .findFirst().orElseThrow();
    }

    private static Object zero(Class<?> type, Arena arena) {
        if (type == int.class) return 0;
        if (type == long.class) return 0L;
        if (type == float.class) return 0f;
        if (type == byte.class) return (byte) 0;
        if (type == MemorySegment.class) return arena.allocate(64, 8); // a pointer or a small struct by value
        throw new AssertionError("unexpected parameter type " + type);
    }
}
