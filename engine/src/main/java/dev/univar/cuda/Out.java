package dev.univar.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Calls with one out-parameter ({@code int *}, {@code size_t *}, {@code CUstream *}, ...), checked. */
final class Out {
    private Out() {
    }

    /** A driver call writing its result through {@code out}. */
    @FunctionalInterface
    interface Call {
        int invoke(MemorySegment out);
    }

    static int int32(String name, Call call) {
        return run(name, call, ValueLayout.JAVA_INT).get(ValueLayout.JAVA_INT, 0);
    }

    static long int64(String name, Call call) {
        return run(name, call, ValueLayout.JAVA_LONG).get(ValueLayout.JAVA_LONG, 0);
    }

    static float float32(String name, Call call) {
        return run(name, call, ValueLayout.JAVA_FLOAT).get(ValueLayout.JAVA_FLOAT, 0);
    }

    /** A handle or host pointer; a zero-length segment holding its address. */
    static MemorySegment pointer(String name, Call call) {
        return run(name, call, ValueLayout.ADDRESS).get(ValueLayout.ADDRESS, 0);
    }

    /** One 8-byte slot per thread, read right after the call (no call here nests another). */
    private static final ThreadLocal<MemorySegment> SLOT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_LONG));

    private static MemorySegment run(String name, Call call, MemoryLayout layout) {
        MemorySegment out = SLOT.get().asSlice(0, layout);
        out.fill((byte) 0);
        CudaException.check(call.invoke(out), name);
        return out;
    }
}
