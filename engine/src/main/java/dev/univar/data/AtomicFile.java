package dev.univar.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way univar writes an output file: whole or not at all. Bytes go to a hidden temporary file beside the
 * target ({@code .NAME.RANDOM.partial}), which {@link #commit()} flushes to disk and renames onto the target; until
 * then the target is untouched. {@link #close()} without a commit deletes the temporary file, and so does a JVM
 * shutdown (Ctrl-C) before the commit.
 *
 * <p>Rules this class keeps for every output:
 * <ul>
 * <li>The temporary file is created as an ordinary file, so the output gets the permissions the umask gives any new
 * file ({@code Files.createTempFile} would make it owner-only).</li>
 * <li>A writer holds a lock on its temporary file. A partial file whose lock nobody holds was left by a killed run
 * ({@code kill -9} runs no cleanup) and is deleted when the next writer of the same output starts; one that is
 * locked belongs to a live writer and is left alone.</li>
 * <li>A target that is a folder, or a folder that cannot be written, fails at {@link #create}, before any work, with
 * the operating system's reason.</li>
 * </ul>
 */
public final class AtomicFile implements AutoCloseable {
    private static final String SUFFIX = ".partial";

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final FileLock lock;
    private final Thread cleanup;
    private boolean done;

    private AtomicFile(Path target, Path temp, FileChannel channel, FileLock lock) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.lock = lock;
        this.cleanup = new Thread(this::discard, "univar-partial-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Starts writing {@code target}: creates missing parent folders, removes stale partial files of the same target
     * and opens a new temporary file. Fails with the reason when the target is a folder or cannot be written.
     */
    public static AtomicFile create(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) throw new IOException("cannot write " + target + ": it is a folder");
        Path dir = abs.getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw IoFailure.of("cannot create the folder of", target, e);
        }
        removeStalePartials(abs);
        Path temp = dir.resolve("." + abs.getFileName() + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + SUFFIX);
        FileChannel channel;
        try {
            channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw IoFailure.of("cannot write", target, e);
        }
        FileLock lock = null;
        try {
            lock = channel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            // A file system without locks: the partial is still ours; only stale-file detection is lost.
        }
        return new AtomicFile(abs, temp, channel, lock);
    }

    /** Checks, before any work, that {@code target} could be written: creates and removes a temporary file beside it. */
    public static void checkWritable(Path target) throws IOException {
        try (AtomicFile probe = create(target)) {
            // closed without a commit: nothing written
        }
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        try (AtomicFile f = create(target)) {
            f.write(ByteBuffer.wrap(bytes));
            f.commit();
        }
    }

    /** Writes {@code text} as UTF-8 to {@code target} atomically. */
    public static void write(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Copies {@code source} to {@code target} atomically. */
    public static void copy(Path source, Path target) throws IOException {
        try (AtomicFile f = create(target); FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
            long size = in.size();
            for (long pos = 0; pos < size; ) pos += in.transferTo(pos, size - pos, f.channel);
            f.commit();
        }
    }

    /** Renames {@code from} onto {@code to}, replacing it: atomically where the file system can. */
    public static void replace(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public Path target() {
        return target;
    }

    /** The temporary file's channel, positioned at 0; write anywhere in it before {@link #commit()}. */
    public FileChannel channel() {
        return channel;
    }

    /** An output stream onto {@link #channel()}; closing it does not commit. */
    public OutputStream stream() {
        return Channels.newOutputStream(channel);
    }

    /** Writes all of {@code bytes} at the channel's position. */
    public void write(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) channel.write(bytes);
    }

    /** Flushes the temporary file to disk and renames it onto the target. */
    public void commit() throws IOException {
        if (done) throw new IllegalStateException("already committed or closed: " + target);
        try {
            channel.force(true);
            if (lock != null && lock.isValid()) lock.release();
            channel.close();
            replace(temp, target);
        } catch (IOException e) {
            discard();
            throw IoFailure.of("cannot write", target, e);
        }
        done = true;
        removeHook();
    }

    private void discard() {
        try {
            if (channel.isOpen()) channel.close();
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // best effort: a leftover partial file is never mistaken for the output, and the next writer removes it
        }
    }

    private void removeHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down: the hook runs and finds nothing to delete
        }
    }

    /** Discards the temporary file unless {@link #commit()} succeeded. */
    @Override
    public void close() {
        if (!done) {
            discard();
            removeHook();
            done = true;
        }
    }

    /** Deletes the partial files of {@code target} that no live writer holds (locks die with their process). */
    private static void removeStalePartials(Path target) {
        String prefix = "." + target.getFileName() + ".";
        try (DirectoryStream<Path> s = Files.newDirectoryStream(target.getParent(), p -> {
            String n = p.getFileName().toString();
            return n.startsWith(prefix) && n.endsWith(SUFFIX) && n.length() == prefix.length() + 16 + SUFFIX.length();
        })) {
            for (Path p : s) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    FileLock l = ch.tryLock();
                    if (l == null) continue; // a live writer in another process
                    Files.deleteIfExists(p);
                    l.release();
                } catch (OverlappingFileLockException e) {
                    // a live writer in this JVM
                } catch (IOException e) {
                    // unreadable or vanished: not ours to judge
                }
            }
        } catch (IOException e) {
            // the folder cannot be listed: creating the temporary file will report why
        }
    }
}
