package dev.univar.hub;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/** The per-blob lock: threads take turns, and so do other processes that use flock(2), as Python's filelock does. */
class BlobLockTest {
    @TempDir
    Path dir;

    @Test
    void threadsTakeTurns() throws Exception {
        Path file = dir.resolve(".locks/models--a--b/etag.lock");
        AtomicBoolean waited = new AtomicBoolean();
        CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            try (BlobLock l = BlobLock.acquire(file, () -> { })) {
                held.countDown();
                release.await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(held.await(10, TimeUnit.SECONDS));
        assertNull(BlobLock.tryAcquire(file), "held by the other thread");
        Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
            }
            release.countDown();
        });
        try (BlobLock l = BlobLock.acquire(file, () -> waited.set(true))) {
            assertTrue(waited.get(), "told that it waits");
        }
        holder.join(10_000);
        try (BlobLock l = BlobLock.tryAcquire(file)) {
            assertNotNull(l, "free again");
        }
    }

    @Test
    void anotherProcessHoldingFlockIsWaitedFor() throws Exception {
        Assumptions.assumeTrue(new File("/usr/bin/flock").canExecute(), "flock(1) not installed");
        Path file = dir.resolve("x.lock");
        Files.createFile(file);
        Path ready = dir.resolve("ready");
        // flock(1) takes the same kind of lock as Python's filelock: flock(2), exclusive.
        Process p = new ProcessBuilder("/usr/bin/flock", "-x", file.toString(), "sh", "-c", "touch " + ready + "; sleep 1")
                .redirectErrorStream(true).start();
        try {
            for (int i = 0; i < 100 && !Files.exists(ready); i++) Thread.sleep(50);
            assertTrue(Files.exists(ready), "flock(1) holds the lock");
            assertNull(BlobLock.tryAcquire(file), "a lock held by another process is seen");
            long t0 = System.nanoTime();
            try (BlobLock l = BlobLock.acquire(file, () -> { })) {
                assertNotNull(l);
            }
            assertTrue(System.nanoTime() - t0 > 100_000_000L, "waited for the other process");
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
