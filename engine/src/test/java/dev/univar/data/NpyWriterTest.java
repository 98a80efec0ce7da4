package dev.univar.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class NpyWriterTest {
    @TempDir
    Path dir;

    /** Reads back a float32 .npy written by NpyWriter: shape from the header, then the values. */
    static float[][] read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((byte) 0x93, b.get(0));
        assertEquals("NUMPY", new String(b.array(), 1, 5, StandardCharsets.US_ASCII));
        int headerLen = Short.toUnsignedInt(b.getShort(8));
        String header = new String(b.array(), 10, headerLen, StandardCharsets.US_ASCII);
        assertEquals(0, (10 + headerLen) % 64, "data must start 64-byte aligned");
        assertTrue(header.contains("'descr': '<f4'"), header);
        String shape = header.substring(header.indexOf("'shape': (") + 10, header.indexOf(')'));
        String[] dims = shape.split(",\\s*");
        int rows = Integer.parseInt(dims[0].trim()), cols = Integer.parseInt(dims[1].trim());
        assertEquals(b.capacity(), 10 + headerLen + (long) rows * cols * 4, "file size matches shape");
        b.position(10 + headerLen);
        float[][] out = new float[rows][cols];
        for (float[] row : out) for (int c = 0; c < cols; c++) row[c] = b.getFloat();
        return out;
    }

    @Test
    void writesRowsThenRenames() throws IOException {
        Path target = dir.resolve("out.npy");
        try (NpyWriter w = new NpyWriter(target, 3)) {
            for (int r = 0; r < 1000; r++) w.writeRow(new float[]{r, r + 0.5f, -r});
            assertFalse(Files.exists(target), "nothing at the target before commit");
            w.commit();
        }
        float[][] m = read(target);
        assertEquals(1000, m.length);
        assertArrayEquals(new float[]{999, 999.5f, -999}, m[999]);
        assertNoLeftovers();
    }

    @Test
    void emptyMatrixHasShapeZeroByDim() throws IOException {
        Path target = dir.resolve("empty.npy");
        try (NpyWriter w = new NpyWriter(target, 384)) {
            w.commit();
        }
        assertEquals(0, read(target).length);
        assertTrue(new String(Files.readAllBytes(target), StandardCharsets.US_ASCII).contains("(0, 384)"));
    }

    @Test
    void closeWithoutCommitLeavesNothingAndKeepsAnOldTarget() throws IOException {
        Path target = dir.resolve("keep.npy");
        Files.writeString(target, "old");
        try (NpyWriter w = new NpyWriter(target, 2)) {
            w.writeRow(new float[]{1, 2});
        }
        assertEquals("old", Files.readString(target));
        assertNoLeftovers();
    }

    private void assertNoLeftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }
}
