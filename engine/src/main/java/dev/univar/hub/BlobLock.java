package dev.univar.hub;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The lock on one blob while it downloads: {@code <cache>/.locks/models--ORG--NAME/<etag>.lock}, as
 * {@code huggingface_hub} names it. Two processes fetching the same model take turns per file; the second finds
 * the blob done and does not download it again.
 *
 * <p>Python's {@code filelock} takes {@code flock(2)} locks, which on Linux do not see the {@code fcntl} record
 * locks that {@link FileChannel#lock()} takes. So on Linux and macOS this lock is {@code flock} too, called
 * through the FFM API, and excludes Python processes as well as other univar processes; elsewhere (or if the call
 * is unavailable) it falls back to {@link FileChannel#lock()}, which excludes other univar processes. Threads of
 * one JVM also take turns (a semaphore per lock file).
 */
final class BlobLock implements AutoCloseable {
    private static final ConcurrentHashMap<Path, Semaphore> IN_JVM = new ConcurrentHashMap<>();
    private static final int BUSY = -2;
    private static final int LOCK_EX = 2, LOCK_NB = 4, EINTR = 4;
    private static final Native NATIVE = Native.load();

    private final Path file;
    private final Semaphore inJvm;
    private final int fd;
    private final FileChannel channel;
    private final FileLock channelLock;

    private BlobLock(Path file, Semaphore inJvm, int fd, FileChannel channel, FileLock channelLock) {
        this.file = file;
        this.inJvm = inJvm;
        this.fd = fd;
        this.channel = channel;
        this.channelLock = channelLock;
    }

    /** Takes the lock, waiting as long as another holder keeps it; {@code onWait} runs once if it has to wait. */
    static BlobLock acquire(Path file, Runnable onWait) throws IOException {
        return lock(file, onWait, true);
    }

    /** Takes the lock if nobody holds it, else returns null at once. */
    static BlobLock tryAcquire(Path file) throws IOException {
        return lock(file, () -> { }, false);
    }

    private static BlobLock lock(Path file, Runnable onWait, boolean wait) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        Semaphore s = IN_JVM.computeIfAbsent(key, k -> new Semaphore(1));
        boolean[] told = {false};
        Runnable tell = () -> {
            if (!told[0]) onWait.run();
            told[0] = true;
        };
        if (!s.tryAcquire()) {
            if (!wait) return null;
            tell.run();
            try {
                s.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + file);
            }
        }
        try {
            Files.createDirectories(key.getParent());
            try {
                Files.createFile(key);
            } catch (FileAlreadyExistsException ignored) {
                // another process made it: the same lock
            }
            if (NATIVE != null) {
                int fd = NATIVE.flock(key, tell, wait);
                if (fd == BUSY) {
                    s.release();
                    return null;
                }
                if (fd >= 0) return new BlobLock(key, s, fd, null, null);
            }
            FileChannel ch = FileChannel.open(key, StandardOpenOption.WRITE);
            try {
                FileLock l = ch.tryLock();
                if (l == null) {
                    if (!wait) {
                        ch.close();
                        s.release();
                        return null;
                    }
                    tell.run();
                    l = ch.lock();
                }
                return new BlobLock(key, s, -1, ch, l);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (IOException | RuntimeException | Error e) {
            s.release();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (fd >= 0) NATIVE.unlock(fd);
            if (channelLock != null) {
                channelLock.release();
                channel.close();
            }
        } finally {
            inJvm.release();
        }
    }

    @Override
    public String toString() {
        return "BlobLock[" + file + "]";
    }

    /** open/flock/close from the C library, or null where they cannot be linked. */
    private record Native(MethodHandle open, MethodHandle flock, MethodHandle close, StructLayout state, VarHandle errno) {
        static Native load() {
            String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
            if (!(os.contains("linux") || os.contains("mac"))) return null;
            try {
                Linker linker = Linker.nativeLinker();
                var lookup = linker.defaultLookup();
                StructLayout state = Linker.Option.captureStateLayout();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                MethodHandle open = linker.downcallHandle(lookup.find("open").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
                MethodHandle flock = linker.downcallHandle(lookup.find("flock").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
                MethodHandle close = linker.downcallHandle(lookup.find("close").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                VarHandle errnoHandle = state.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
                return new Native(open, flock, close, state, errnoHandle);
            } catch (Throwable t) {
                return null; // no native access here: FileChannel locks
            }
        }

        /**
         * Opens {@code file} read-only and takes an exclusive flock on it, waiting if {@code wait}; the descriptor,
         * {@link #BUSY} when held elsewhere and not waiting, or -1 when flock cannot be used here.
         */
        int flock(Path file, Runnable onWait, boolean wait) throws IOException {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment st = arena.allocate(state);
                MemorySegment path = arena.allocateFrom(file.toString());
                int fd = (int) open.invokeExact(st, path, 0 /* O_RDONLY */);
                if (fd < 0) return -1;
                while (true) {
                    int r = (int) flock.invokeExact(st, fd, LOCK_EX | LOCK_NB);
                    if (r == 0) return fd;
                    int err = (int) errno.get(st, 0L);
                    if (err == EINTR) continue;
                    if (err != 11 /* EWOULDBLOCK, Linux */ && err != 35 /* macOS */) {
                        int ignored = (int) close.invokeExact(fd);
                        return -1;
                    }
                    if (!wait) {
                        int ignored = (int) close.invokeExact(fd);
                        return BUSY;
                    }
                    onWait.run();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        int ignored = (int) close.invokeExact(fd);
                        throw new InterruptedIOException("interrupted while waiting for " + file);
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                return -1;
            }
        }

        void unlock(int fd) {
            try {
                int ignored = (int) close.invokeExact(fd); // closing the only descriptor releases its flock
            } catch (Throwable ignored) {
                // nothing left to do: the process's exit closes it
            }
        }
    }
}
