package dev.univar.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Streams a float32 matrix of {@code [rows, cols]} to a NumPy {@code .npy} file, rows appended as they come.
 *
 * <p>The rows are written through an {@link AtomicFile}; {@link #commit()} fixes the row count in the header
 * (reserved at a fixed size up front, since the count is unknown while streaming) and renames the file onto the
 * target. Until then the target path is untouched; {@link #close()} without a commit deletes the temporary file,
 * and so does a JVM shutdown (Ctrl-C) before the commit.
 */
public final class NpyWriter implements AutoCloseable {
    /** Header size, a multiple of 64 as the format recommends; room for any row count. */
    private static final int HEADER_BYTES = 128;
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private final AtomicFile file;
    private final int cols;
    private final FileChannel channel;
    private final ByteBuffer rowBuffer;
    private long rows;

    public NpyWriter(Path target, int cols) throws IOException {
        this.cols = cols;
        this.file = AtomicFile.create(target);
        this.channel = file.channel();
        this.rowBuffer = ByteBuffer.allocate(Math.max(1, cols) * Float.BYTES * 256).order(ByteOrder.LITTLE_ENDIAN);
        try {
            channel.write(header(0), 0);
            channel.position(HEADER_BYTES);
        } catch (IOException e) {
            file.close();
            throw IoFailure.of("cannot write", target, e);
        }
    }

    public Path target() {
        return file.target();
    }

    public long rows() {
        return rows;
    }

    /** Appends one row of {@code cols} floats. */
    public void writeRow(float[] row) throws IOException {
        if (row.length != cols) throw new IllegalArgumentException("row of " + row.length + " values, expected " + cols);
        if (rowBuffer.remaining() < cols * Float.BYTES) flush();
        for (float v : row) rowBuffer.putFloat(v);
        rows++;
    }

    private void flush() throws IOException {
        rowBuffer.flip();
        try {
            while (rowBuffer.hasRemaining()) channel.write(rowBuffer);
        } catch (IOException e) {
            throw IoFailure.of("cannot write", file.target(), e);
        }
        rowBuffer.clear();
    }

    /** Finishes the file and moves it onto the target path. */
    public void commit() throws IOException {
        flush();
        channel.write(header(rows), 0);
        file.commit();
    }

    private ByteBuffer header(long rowCount) {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rowCount + ", " + cols + "), }";
        StringBuilder sb = new StringBuilder(dict);
        int pad = HEADER_BYTES - MAGIC.length - 2 - sb.length() - 1;
        sb.append(" ".repeat(pad)).append('\n');
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putShort((short) (HEADER_BYTES - MAGIC.length - 2)).put(sb.toString().getBytes(StandardCharsets.US_ASCII));
        return b.flip();
    }

    @Override
    public void close() {
        file.close();
    }
}
