package dev.univar.hub;

import dev.univar.data.AtomicFile;
import dev.univar.data.IoFailure;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The Hub's cache folder as {@code huggingface_hub} lays it out (documented at
 * https://huggingface.co/docs/hub/local-cache), so that Python and univar share what each downloaded:
 * <pre>
 * CACHE/.locks/models--ORG--NAME/ETAG.lock          one lock per blob while it downloads
 * CACHE/models--ORG--NAME/blobs/ETAG                file contents, named by the Hub's ETag
 *                                                   (git SHA-1, or SHA-256 for LFS files)
 * CACHE/models--ORG--NAME/blobs/ETAG.incomplete     a download in progress, resumed from its length
 * CACHE/models--ORG--NAME/refs/REVISION             the commit a branch or tag pointed to, no newline
 * CACHE/models--ORG--NAME/snapshots/COMMIT/FILE     relative symlink to ../../blobs/ETAG (one ../ more per
 *                                                   folder level of FILE)
 * </pre>
 * Where the file system has no symlinks, a snapshot file is a copy of its blob, as Python does there.
 */
public final class HubCache {
    public static final String INCOMPLETE = ".incomplete";
    private final Path root;

    public HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path repoDir(RepoSpec repo) {
        return root.resolve(repo.folderName());
    }

    public Path snapshot(RepoSpec repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    Path blob(RepoSpec repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    Path incomplete(RepoSpec repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag + INCOMPLETE);
    }

    Path lockFile(RepoSpec repo, String etag) {
        return root.resolve(".locks").resolve(repo.folderName()).resolve(etag + ".lock");
    }

    /** The commit {@code refs/REVISION} names, or null; a commit hash names itself. */
    public String commit(RepoSpec repo) throws IOException {
        if (repo.isCommit()) return repo.revision();
        Path ref = repoDir(repo).resolve("refs").resolve(repo.revision());
        if (!Files.isRegularFile(ref)) return null;
        String c = Files.readString(ref, StandardCharsets.UTF_8).strip();
        return RepoSpec.isCommitHash(c) ? c : null;
    }

    /** Records that {@code repo}'s revision is {@code commit} (nothing for a revision that is itself a commit). */
    void writeRef(RepoSpec repo, String commit) throws IOException {
        if (repo.revision().equals(commit)) return;
        AtomicFile.write(repoDir(repo).resolve("refs").resolve(repo.revision()), commit);
    }

    /**
     * Points {@code snapshots/COMMIT/FILE} at {@code blobs/ETAG} with a relative symlink, as Python does (a copy
     * where symlinks are unavailable). A correct link already there is kept.
     */
    void link(RepoSpec repo, String commit, String file, String etag) throws IOException {
        Path blob = blob(repo, etag);
        Path pointer = snapshot(repo, commit).resolve(file);
        Files.createDirectories(pointer.getParent());
        Path target = pointer.getParent().relativize(blob);
        for (int attempt = 0; ; attempt++) {
            if (Files.isSymbolicLink(pointer)) {
                if (Files.readSymbolicLink(pointer).equals(target)) return;
                Files.deleteIfExists(pointer);
            } else if (Files.exists(pointer, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.size(pointer) == Files.size(blob)) return; // a copy, made where links are not supported
                Files.delete(pointer);
            }
            try {
                Files.createSymbolicLink(pointer, target);
                return;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 3) throw e; // another process linked it meanwhile: check its link
            } catch (UnsupportedOperationException | FileSystemException e) {
                if (e instanceof FileAlreadyExistsException) throw e;
                AtomicFile.copy(blob, pointer);
                return;
            }
        }
    }

    /** One cached model: its refs, snapshots, size of its complete blobs and of downloads in progress. */
    public record Entry(String repoId, Path dir, Map<String, String> refs, List<String> snapshots, long bytes,
                        long partialBytes) {
    }

    /** The models in the cache, by name. */
    public List<Entry> list() throws IOException {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, p -> p.getFileName().toString().startsWith("models--")
                && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
            for (Path dir : s) out.add(entry(dir));
        }
        out.sort(Comparator.comparing(e -> e.repoId().toLowerCase(java.util.Locale.ROOT)));
        return out;
    }

    /** The cached model {@code repoId} ({@code ORG/NAME}), or null. */
    public Entry find(RepoSpec repo) throws IOException {
        Path dir = repoDir(repo);
        return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? entry(dir) : null;
    }

    private static Entry entry(Path dir) throws IOException {
        String folder = dir.getFileName().toString();
        String repoId = String.join("/", List.of(folder.substring("models--".length()).split("--")));
        Map<String, String> refs = new TreeMap<>();
        Path refsDir = dir.resolve("refs");
        if (Files.isDirectory(refsDir))
            try (Stream<Path> s = Files.walk(refsDir)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    String name = refsDir.relativize(p).toString().replace('\\', '/');
                    if (name.startsWith(".") || name.contains("/.")) continue; // a temporary file of a writer
                    refs.put(name, Files.readString(p, StandardCharsets.UTF_8).strip());
                }
            }
        List<String> snapshots = new ArrayList<>();
        Path snaps = dir.resolve("snapshots");
        if (Files.isDirectory(snaps))
            try (Stream<Path> s = Files.list(snaps)) {
                s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().forEach(snapshots::add);
            }
        long bytes = 0, partial = 0;
        Path blobs = dir.resolve("blobs");
        if (Files.isDirectory(blobs))
            try (Stream<Path> s = Files.list(blobs)) {
                for (Path p : s.toList()) {
                    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) continue;
                    long n = Files.size(p);
                    if (p.getFileName().toString().endsWith(INCOMPLETE)) partial += n;
                    else bytes += n;
                }
            }
        return new Entry(repoId, dir, refs, snapshots, bytes, partial);
    }

    /**
     * Deletes {@code repo}'s folder and its lock folder. Refuses while a download of it holds a blob lock (in
     * this or another process). Returns the entry removed, or null when it was not cached.
     */
    public Entry remove(RepoSpec repo) throws IOException {
        Entry e = find(repo);
        if (e == null) return null;
        Path locks = root.resolve(".locks").resolve(repo.folderName());
        List<BlobLock> held = new ArrayList<>();
        try {
            if (Files.isDirectory(locks))
                try (Stream<Path> s = Files.list(locks)) {
                    for (Path l : s.filter(p -> p.getFileName().toString().endsWith(".lock")).toList()) {
                        BlobLock lock = BlobLock.tryAcquire(l);
                        if (lock == null)
                            throw new HubException(HubException.Kind.BUSY, repo.id() + " is being downloaded by another process (" + l.getFileName()
                                    + " is locked); try again when it is done");
                        held.add(lock);
                    }
                }
            deleteTree(e.dir());
        } finally {
            for (BlobLock l : held) l.close();
        }
        deleteTree(locks);
        return e;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ex) {
                    throw IoFailure.of("cannot delete", p, ex);
                }
            }
        }
    }
}
