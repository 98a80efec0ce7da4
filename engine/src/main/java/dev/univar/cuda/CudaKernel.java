package dev.univar.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.univar.bindings.cuda.cuda_h.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** One kernel of a {@link CudaModule}, launched on its context's stream. */
public final class CudaKernel {
    private final CudaContext context;
    private final String name;
    private final MemorySegment function;

    CudaKernel(CudaContext context, String name, MemorySegment function) {
        this.context = context;
        this.name = name;
        this.function = function;
    }

    public String name() {
        return name;
    }

    /**
     * Lets launches use up to {@code bytes} of dynamic shared memory (needed above 48 KiB; at most
     * {@link CudaContext.Device#maxSharedMemoryPerBlockOptin()}).
     */
    public void setMaxDynamicShared(int bytes) {
        context.makeCurrent();
        CudaException.check(cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES(), bytes),
                "cuFuncSetAttribute(" + name + ", max dynamic shared " + bytes + ")");
    }

    /**
     * Launches the kernel on the context's stream (returns at once; errors inside the kernel show up at the next
     * synchronising call). {@code args} match the kernel's parameters in order: {@link Long} for a device pointer or
     * a 64-bit integer, {@link Integer} for a 32-bit one, {@link Float}, or a {@link MemorySegment} whose address is
     * passed (managed or pinned memory).
     */
    public void launch(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
                       Object... args) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0 || blockX <= 0 || blockY <= 0 || blockZ <= 0 || sharedBytes < 0)
            throw new IllegalArgumentException("bad launch shape for " + name + ": grid " + gridX + "x" + gridY + "x"
                    + gridZ + ", block " + blockX + "x" + blockY + "x" + blockZ + ", shared " + sharedBytes);
        context.makeCurrent();
        // void *params[n], then one 8-byte slot per value; the driver copies the values at launch.
        try (Arena arena = Arena.ofConfined()) {
            int n = args.length;
            MemorySegment params = n == 0 ? MemorySegment.NULL : arena.allocate(16L * n, 8);
            for (int i = 0; i < n; i++) {
                MemorySegment slot = params.asSlice(8L * (n + i), 8);
                switch (args[i]) {
                    case Long v -> slot.set(JAVA_LONG, 0, v);
                    case Integer v -> slot.set(JAVA_INT, 0, v);
                    case Float v -> slot.set(JAVA_FLOAT, 0, v);
                    case MemorySegment v -> slot.set(JAVA_LONG, 0, v.address());
                    case null -> throw new IllegalArgumentException("argument " + i + " of " + name + " is null");
                    default -> throw new IllegalArgumentException("argument " + i + " of " + name + " is a "
                            + args[i].getClass().getSimpleName() + "; use Long, Integer, Float or MemorySegment");
                }
                params.setAtIndex(ADDRESS, i, slot);
            }
            CudaException.check(cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes,
                    context.streamHandle(), params, MemorySegment.NULL), "cuLaunchKernel(" + name + ")");
        }
    }
}
