package dev.univar.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class HugePagesTest {

    @Test
    void largeBuffersAreZeroedAlignedWritableAndFreedWithTheirArena() {
        for (long bytes : new long[]{HugePages.MIN_BYTES, HugePages.MIN_BYTES + 4, 9L << 20}) {
            MemorySegment seg;
            try (Arena arena = Arena.ofConfined()) {
                seg = HugePages.allocate(arena, bytes, 64);
                assertEquals(bytes, seg.byteSize());
                assertEquals(0, seg.address() % 64);
                if (HugePages.available()) assertEquals(0, seg.address() % (2L << 20), "2 MiB-aligned");
                for (long i = 0; i < bytes; i += 4096) assertEquals(0, seg.get(ValueLayout.JAVA_BYTE, i));
                assertEquals(0, seg.get(ValueLayout.JAVA_BYTE, bytes - 1));
                seg.fill((byte) 7);
                assertEquals(7, seg.get(ValueLayout.JAVA_BYTE, bytes - 1));
            }
            MemorySegment closed = seg;
            assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void smallBuffersComeFromTheArena() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = HugePages.allocate(arena, 1000, 64);
            assertEquals(1000, seg.byteSize());
            assertEquals(0, seg.address() % 64);
        }
    }

    /** Where Linux offers transparent huge pages on request, a touched large buffer is (at least partly) on them. */
    @Test
    void largeTensorsLandOnHugePagesWhereOffered() throws Exception {
        Path thp = Path.of("/sys/kernel/mm/transparent_hugepage/enabled"), rollup = Path.of("/proc/self/smaps_rollup");
        org.junit.jupiter.api.Assumptions.assumeTrue(HugePages.available() && Files.isReadable(thp) && Files.isReadable(rollup)
                && !Files.readString(thp).contains("[never]"), "no transparent huge pages here");
        long before = anonHugeKb(rollup);
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, 4 << 20); // 16 MiB
            t.fill(1f);
            long during = anonHugeKb(rollup);
            org.junit.jupiter.api.Assumptions.assumeTrue(during > before,
                    "the kernel gave no huge page (fragmented memory?): " + before + " -> " + during + " kB");
            assertTrue(during - before >= 2048, before + " -> " + during + " kB");
        }
    }

    private static long anonHugeKb(Path rollup) throws Exception {
        for (String line : Files.readAllLines(rollup))
            if (line.startsWith("AnonHugePages:")) return Long.parseLong(line.replaceAll("\\D+", ""));
        return 0;
    }
}
