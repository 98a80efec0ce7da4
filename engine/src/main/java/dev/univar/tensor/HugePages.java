package dev.univar.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Large zeroed buffers on transparent huge pages (2 MiB) where Linux offers them: mapped with {@code mmap},
 * 2 MiB-aligned, and marked with {@code madvise(MADV_HUGEPAGE)} before anything touches them, so that their first
 * touch faults in huge pages. Memory from {@link Arena#allocate} sits on 4 KiB pages (the usual THP setting is
 * {@code madvise}, which covers only regions that ask, and the arena zeroes its memory before anyone could ask), and
 * the kernels' walks over tens of megabytes of activations and weights then miss the TLB on nearly every row.
 *
 * <p>Only a placement hint: where the calls are missing (not Linux, no native access) or fail, the buffer comes
 * from the arena as before. The mapping is unmapped when the arena closes. {@code -Dunivar.hugePages=false} turns it
 * off.
 */
public final class HugePages {

    /** Buffers from this size up are worth their own mapping. */
    public static final long MIN_BYTES = 1L << 20;
    private static final long HUGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2, MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20, MADV_HUGEPAGE = 14;
    private static final MethodHandle MMAP, MADVISE, MUNMAP;

    static {
        MethodHandle mmap = null, madvise = null, munmap = null;
        if (Boolean.parseBoolean(System.getProperty("univar.hugePages", "true"))
                && System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                mmap = libc.find("mmap").map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))).orElse(null);
                madvise = libc.find("madvise").map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT))).orElse(null);
                munmap = libc.find("munmap").map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))).orElse(null);
            } catch (RuntimeException | LinkageError e) { // e.g. native access not granted: ordinary memory
                mmap = madvise = munmap = null;
            }
        }
        boolean all = mmap != null && madvise != null && munmap != null;
        MMAP = all ? mmap : null;
        MADVISE = all ? madvise : null;
        MUNMAP = all ? munmap : null;
    }

    private HugePages() {
    }

    /** Whether large buffers get their own huge-page mapping here. */
    public static boolean available() {
        return MMAP != null;
    }

    /**
     * {@code bytes} zeroed bytes aligned to at least {@code alignment} (at most 2 MiB), freed with {@code arena}; on
     * huge pages where possible when large.
     */
    public static MemorySegment allocate(Arena arena, long bytes, long alignment) {
        if (MMAP == null || bytes < MIN_BYTES || alignment > HUGE) return arena.allocate(bytes, alignment);
        long rounded = (bytes + HUGE - 1) / HUGE * HUGE, size = rounded + HUGE; // room to align the start to 2 MiB
        long base;
        try {
            MemorySegment m = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            base = m.address();
        } catch (Throwable t) {
            return arena.allocate(bytes, alignment);
        }
        if (base == -1L || base == 0L) return arena.allocate(bytes, alignment); // MAP_FAILED
        long start = (base + HUGE - 1) / HUGE * HUGE;
        long mapped = size;
        MemorySegment seg;
        try {
            seg = MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> unmap(base, mapped));
        } catch (RuntimeException e) { // native access denied, arena closed: give the mapping back
            unmap(base, mapped);
            if (e instanceof IllegalStateException) throw e;
            return arena.allocate(bytes, alignment);
        }
        try {
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), rounded, MADV_HUGEPAGE);
        } catch (Throwable t) { // a hint only
        }
        return seg;
    }

    private static void unmap(long base, long size) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(base), size);
        } catch (Throwable t) { // nothing sensible to do while an arena closes
        }
    }
}
