package dev.univar.data;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The one atomic writer: whole files, ordinary permissions, stale partials cleaned, clear failures up front. */
class AtomicFileTest {
    @TempDir
    Path dir;

    private List<Path> partials() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".partial")).toList();
        }
    }

    @Test
    void outputsGetTheUmaskPermissionsOfAnOrdinaryFile() throws IOException {
        Path ordinary = Files.createFile(dir.resolve("ordinary"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(ordinary);
        AtomicFile.write(dir.resolve("a.json"), "{}");
        Path npy = dir.resolve("b.npy");
        try (NpyWriter w = new NpyWriter(npy, 2)) {
            w.writeRow(new float[]{1, 2});
            w.commit();
        }
        AtomicFile.copy(dir.resolve("a.json"), dir.resolve("c.json"));
        for (String f : List.of("a.json", "b.npy", "c.json"))
            assertEquals(expected, Files.getPosixFilePermissions(dir.resolve(f)), f + " has an ordinary file's permissions");
    }

    @Test
    void aStalePartialOfTheSameOutputIsRemovedAndALiveOneKept() throws IOException {
        Path target = dir.resolve("out.npy");
        // What kill -9 leaves: a partial nobody holds.
        Path stale = Files.writeString(dir.resolve(".out.npy.0123456789abcdef.partial"), "half");
        // A partial of another output, and one of this output held by a live writer, stay.
        Path other = Files.writeString(dir.resolve(".other.npy.0123456789abcdef.partial"), "x");
        try (AtomicFile live = AtomicFile.create(target)) {
            AtomicFile.write(target, "whole");
            assertFalse(Files.exists(stale), "the stale partial is gone");
            assertTrue(Files.exists(other), "another output's partial is not touched");
            assertEquals(2, partials().size(), "the live writer's partial stays: " + partials());
            assertEquals("whole", Files.readString(target));
        }
        assertEquals(List.of(other), partials());
    }

    /** Holds a lock on the file named by its argument, as a live writer in another process does, until killed. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE); FileLock l = ch.lock()) {
                System.out.println("locked");
                System.out.flush();
                Thread.sleep(60_000);
            }
        }
    }

    @Test
    void aPartialLockedByAnotherProcessIsKept() throws Exception {
        Path target = dir.resolve("out.csv");
        Path held = Files.writeString(dir.resolve(".out.csv.fedcba9876543210.partial"), "busy");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(), held.toString())
                .redirectErrorStream(true).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
            assertEquals("locked", line);
            AtomicFile.write(target, "x");
            assertTrue(Files.exists(held), "a partial another process is writing is left alone");
        } finally {
            p.destroyForcibly().waitFor();
        }
        AtomicFile.write(target, "y");
        assertFalse(Files.exists(held), "once its writer is dead (kill -9), the next writer removes it");
    }

    @Test
    void aFolderAtTheTargetFailsBeforeAnyWork() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("existing.npy"));
        IOException e = assertThrows(IOException.class, () -> AtomicFile.create(folder));
        assertEquals("cannot write " + folder + ": it is a folder", e.getMessage());
        assertThrows(IOException.class, () -> new NpyWriter(folder, 3));
        assertTrue(partials().isEmpty());
    }

    @Test
    void anUnwritableFolderFailsWithTheReason() {
        // /sys refuses new files even to root, with EACCES.
        Path target = Path.of("/sys/univar-o.npy");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys")));
        IOException e = assertThrows(IOException.class, () -> AtomicFile.checkWritable(target));
        assertEquals("cannot write " + target + ": permission denied", e.getMessage());
    }

    @Test
    void closeWithoutCommitLeavesTheOldTarget() throws IOException {
        Path target = Files.writeString(dir.resolve("keep.txt"), "old");
        try (AtomicFile f = AtomicFile.create(target)) {
            f.write(java.nio.ByteBuffer.wrap("new".getBytes()));
        }
        assertEquals("old", Files.readString(target));
        assertTrue(partials().isEmpty());
    }

    @Test
    void describesFileSystemFailuresWithTheirReason() {
        assertEquals("/x/y: no such file or directory", IoFailure.describe(new java.nio.file.NoSuchFileException("/x/y")));
        assertEquals("/x/y: permission denied", IoFailure.describe(new java.nio.file.AccessDeniedException("/x/y")));
        assertEquals("/x/y: read-only file system",
                IoFailure.describe(new java.nio.file.FileSystemException("/x/y", null, "Read-only file system")));
    }
}
