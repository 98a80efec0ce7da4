package dev.univar.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.univar.bindings.cuda.cuda_h.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A loaded PTX module: the driver JIT-compiles the PTX for the device when it is loaded, and {@link #function}
 * finds its kernels. univar ships its kernels as resources {@code /dev/univar/cuda/<base>.sm_90.ptx} (Hopper and
 * later) and {@code <base>.sm_80.ptx} (Ampere, Ada), built from {@code native/cuda}.
 */
public final class CudaModule implements AutoCloseable {
    private static final int LOG_BYTES = 16 * 1024;

    private final CudaContext context;
    private final String name;
    private final MemorySegment module;
    private final Map<String, CudaKernel> kernels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private CudaModule(CudaContext context, String name, MemorySegment module) {
        this.context = context;
        this.name = name;
        this.module = module;
    }

    /**
     * Loads the PTX resource of {@code baseName} that fits the device: {@code .sm_90.ptx} from compute capability 9.0
     * on, {@code .sm_80.ptx} from 8.0.
     *
     * @throws CudaUnavailableException the device is older than compute capability 8.0
     * @throws IllegalStateException    the resource is not in this build
     * @throws CudaException            the driver rejects the PTX (the message carries the JIT's error log)
     */
    public static CudaModule loadResource(CudaContext context, String baseName) {
        CudaContext.Device device = context.device();
        if (device.computeMajor() < 8)
            throw new CudaUnavailableException(device.name() + " has compute capability " + device.computeMajor() + "."
                    + device.computeMinor() + "; univar's CUDA kernels need 8.0 or later");
        String resource = resourceName(baseName, device.computeMajor());
        String ptx;
        try (InputStream in = CudaModule.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("no PTX resource " + resource + " in this build");
            ptx = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + resource + ": " + e.getMessage(), e);
        }
        return loadPtx(context, resource, ptx);
    }

    /** The resource {@link #loadResource} picks for a device of compute capability {@code computeMajor}.x. */
    static String resourceName(String baseName, int computeMajor) {
        return "/dev/univar/cuda/" + baseName + (computeMajor >= 9 ? ".sm_90.ptx" : ".sm_80.ptx");
    }

    /**
     * Loads PTX text with {@code cuModuleLoadDataEx}; a rejected PTX gives a {@link CudaException} whose message ends
     * with the JIT compiler's error log.
     *
     * @param name for messages, e.g. the resource name
     */
    public static CudaModule loadPtx(CudaContext context, String name, String ptx) {
        context.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocateFrom(ptx);
            MemorySegment log = arena.allocate(LOG_BYTES);
            MemorySegment options = arena.allocateFrom(JAVA_INT, CU_JIT_ERROR_LOG_BUFFER(),
                    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
            // Option values are void*; a size is passed as the pointer's value itself.
            MemorySegment values = arena.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(LOG_BYTES));
            MemorySegment out = arena.allocate(ADDRESS);
            int result = cuModuleLoadDataEx(out, image, 2, options, values);
            if (result != CUDA_SUCCESS()) {
                String jitLog = log.getString(0).strip();
                throw new CudaException("cuModuleLoadDataEx(" + name + ")", result,
                        CudaException.describe(result) + (jitLog.isEmpty() ? "" : ":\n" + jitLog));
            }
            return new CudaModule(context, name, out.get(ADDRESS, 0));
        }
    }

    /** The kernel {@code name} ({@code .entry} name in the PTX; {@code extern "C"} names from CUDA C). */
    public CudaKernel function(String kernelName) {
        if (closed) throw new IllegalStateException("module " + name + " is closed");
        return kernels.computeIfAbsent(kernelName, k -> {
            context.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment function = Out.pointer("cuModuleGetFunction(" + name + ", " + k + ")",
                        out -> cuModuleGetFunction(out, module, arena.allocateFrom(k)));
                return new CudaKernel(context, k, function);
            }
        });
    }

    /** The name given when loading (the resource name for {@link #loadResource}). */
    public String name() {
        return name;
    }

    /** Unloads the module; its kernels must not be launched afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        kernels.clear();
        context.makeCurrent();
        CudaException.check(cuModuleUnload(module), "cuModuleUnload(" + name + ")");
    }
}
