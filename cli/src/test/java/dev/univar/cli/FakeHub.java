package dev.univar.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A Hugging Face Hub on loopback (JDK HttpServer), speaking the routes huggingface_hub uses:
 * <ul>
 * <li>{@code GET /api/models/ORG/NAME/revision/REV}: {@code sha} and {@code siblings};</li>
 * <li>{@code HEAD|GET /ORG/NAME/resolve/REV/FILE}: {@code X-Repo-Commit}, {@code ETag} (git blob SHA-1) for small
 * files; for LFS files (*.safetensors, *.bin, *.model, or over 1 MB) {@code X-Linked-Etag} (SHA-256),
 * {@code X-Linked-Size} and a 302 to a second server, the "CDN", which serves {@code /lfs/SHA256} with Range;</li>
 * <li>errors as the Hub sends them: {@code X-Error-Code} RepoNotFound (401 without a token, as the Hub hides private
 * repositories), RevisionNotFound, EntryNotFound, GatedRepo.</li>
 * </ul>
 * Faults for file contents come from {@link #script} (by file path and attempt), for the API from {@link #apiScript}.
 * Every request is recorded in {@link #hits}.
 */
final class FakeHub implements AutoCloseable {
    enum Fault { NONE, CUT_HALF, CORRUPT, RATE_LIMIT, SERVER_ERROR, SLOW, STALL, ECHO_TOKEN_500 }

    interface Script {
        Fault fault(String file, int attempt);
    }

    /** One request as a server saw it: which server, method, path, Range and Authorization headers. */
    record Hit(String server, String method, String path, String range, String authorization, long nanos) {
    }

    enum Access { PUBLIC, PRIVATE, GATED }

    static final class Repo {
        final String id;
        final Access access;
        final Map<String, String> refs = new LinkedHashMap<>();
        final Map<String, Map<String, byte[]>> commits = new LinkedHashMap<>();

        Repo(String id, Access access) {
            this.id = id;
            this.access = access;
        }
    }

    private final HttpServer hub, cdn;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> lfs = new ConcurrentHashMap<>();
    private final Map<String, String> lfsPath = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final AtomicInteger apiAttempts = new AtomicInteger();
    final List<Hit> hits = new CopyOnWriteArrayList<>();
    volatile Script script = (f, a) -> Fault.NONE;
    volatile Script apiScript = (f, a) -> Fault.NONE;
    volatile String token;
    volatile long slowMillis = 15;
    volatile long stallMillis = 4000;
    private int commitCounter;

    FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.createContext("/", this::handleHub);
        cdn.createContext("/", this::handleCdn);
        hub.start();
        cdn.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    /** The CDN: another host (port) than the Hub, where the token must not go. */
    String cdnBase() {
        return "http://127.0.0.1:" + cdn.getAddress().getPort();
    }

    /** Serves every file under {@code folder} as {@code id} at a new commit on {@code main}; returns the commit. */
    synchronized String addRepo(String id, Path folder, Access access) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.filter(Files::isRegularFile).toList())
                files.put(folder.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
        }
        return addCommit(id, files, access, "main");
    }

    synchronized String addCommit(String id, Map<String, byte[]> files, Access access, String ref) {
        Repo repo = repos.computeIfAbsent(id, k -> new Repo(id, access));
        String commit = hex(digest("SHA-1", (id + "#" + (++commitCounter)).getBytes(StandardCharsets.UTF_8)));
        repo.commits.put(commit, Map.copyOf(files));
        if (ref != null) repo.refs.put(ref, commit);
        for (Map.Entry<String, byte[]> e : files.entrySet())
            if (isLfs(e.getKey(), e.getValue())) {
                String sha = sha256(e.getValue());
                lfs.put(sha, e.getValue());
                lfsPath.put(sha, e.getKey());
            }
        return commit;
    }

    static boolean isLfs(String path, byte[] bytes) {
        return path.endsWith(".safetensors") || path.endsWith(".bin") || path.endsWith(".model") || bytes.length > 1_000_000;
    }

    static String sha256(byte[] b) {
        return hex(digest("SHA-256", b));
    }

    static String gitSha1(byte[] b) {
        byte[] head = ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + b.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(b, 0, all, head.length, b.length);
        return hex(digest("SHA-1", all));
    }

    private static byte[] digest(String alg, byte[] b) {
        try {
            return MessageDigest.getInstance(alg).digest(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    List<Hit> hits(String server) {
        return hits.stream().filter(h -> h.server().equals(server)).toList();
    }

    /** The GETs that delivered (or were to deliver) a file's bytes: from the CDN for LFS files, else from the Hub. */
    List<Hit> contentGets(String file) {
        boolean isLfs = lfsPath.containsValue(file);
        return hits.stream().filter(h -> h.method().equals("GET") && (isLfs
                ? h.server().equals("cdn") && file.equals(lfsPath.get(h.path().substring("/lfs/".length())))
                : h.server().equals("hub") && h.path().contains("/resolve/")
                && decode(h.path().split("/", 6)[5]).equals(file))).toList();
    }

    void reset() {
        hits.clear();
        attempts.clear();
        apiAttempts.set(0);
        script = (f, a) -> Fault.NONE;
        apiScript = (f, a) -> Fault.NONE;
    }

    private void handleHub(HttpExchange ex) throws IOException {
        try (ex) {
            String raw = ex.getRequestURI().getRawPath();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            hits.add(new Hit("hub", ex.getRequestMethod(), raw, ex.getRequestHeaders().getFirst("Range"), auth, System.nanoTime()));
            String[] parts = raw.split("/", -1);
            if (raw.startsWith("/api/models/") && parts.length == 7 && parts[5].equals("revision")) {
                api(ex, parts[3] + "/" + parts[4], decode(parts[6]), auth);
            } else if (parts.length >= 6 && parts[3].equals("resolve")) {
                String file = decode(String.join("/", List.of(parts).subList(5, parts.length)));
                resolve(ex, parts[1] + "/" + parts[2], decode(parts[4]), file, auth);
            } else {
                send(ex, 404, "not found");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The repository if the caller may see it, else an error is sent and null returned. */
    private Repo access(HttpExchange ex, String id, String auth) throws IOException {
        Repo repo = repos.get(id);
        boolean authorized = token != null && ("Bearer " + token).equals(auth);
        if (repo == null || (repo.access == Access.PRIVATE && !authorized)) {
            ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
            ex.getResponseHeaders().set("X-Error-Message", "Repository Not Found for url: " + ex.getRequestURI());
            send(ex, auth == null ? 401 : 404, "{\"error\":\"Repository not found\"}");
            return null;
        }
        return repo;
    }

    private void api(HttpExchange ex, String id, String rev, String auth) throws IOException, InterruptedException {
        Fault f = apiScript.fault(id, apiAttempts.incrementAndGet());
        if (fault(ex, f, auth)) return;
        Repo repo = access(ex, id, auth);
        if (repo == null) return;
        String commit = repo.refs.getOrDefault(rev, repo.commits.containsKey(rev) ? rev : null);
        if (commit == null) {
            ex.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
            send(ex, 404, "{\"error\":\"Invalid rev id: " + rev + "\"}");
            return;
        }
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("sha", commit);
        o.addProperty("private", repo.access == Access.PRIVATE);
        o.addProperty("gated", repo.access == Access.GATED ? "manual" : "false");
        JsonArray siblings = new JsonArray();
        for (String file : repo.commits.get(commit).keySet()) {
            JsonObject s = new JsonObject();
            s.addProperty("rfilename", file);
            siblings.add(s);
        }
        o.add("siblings", siblings);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        send(ex, 200, o.toString());
    }

    private void resolve(HttpExchange ex, String id, String rev, String file, String auth) throws IOException, InterruptedException {
        Repo repo = access(ex, id, auth);
        if (repo == null) return;
        if (repo.access == Access.GATED && !(token != null && ("Bearer " + token).equals(auth))) {
            ex.getResponseHeaders().set("X-Error-Code", "GatedRepo");
            ex.getResponseHeaders().set("X-Error-Message", "Access to model " + id + " is restricted.");
            send(ex, auth == null ? 401 : 403, "{\"error\":\"gated\"}");
            return;
        }
        String commit = repo.refs.getOrDefault(rev, repo.commits.containsKey(rev) ? rev : null);
        if (commit == null) {
            ex.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
            send(ex, 404, "{\"error\":\"Invalid rev id\"}");
            return;
        }
        byte[] bytes = repo.commits.get(commit).get(file);
        if (bytes == null) {
            ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
            send(ex, 404, "{\"error\":\"Entry not found\"}");
            return;
        }
        var h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", commit);
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (isLfs(file, bytes)) {
            String sha = sha256(bytes);
            h.set("ETag", "\"" + sha + "\"");
            h.set("X-Linked-Etag", "\"" + sha + "\"");
            h.set("X-Linked-Size", Long.toString(bytes.length));
            h.set("Location", cdnBase() + "/lfs/" + sha + "?X-Amz-Signature=fake");
            ex.sendResponseHeaders(302, -1);
            return;
        }
        h.set("ETag", "\"" + gitSha1(bytes) + "\"");
        if (head) {
            h.set("Content-Length", Long.toString(bytes.length));
            ex.sendResponseHeaders(200, -1);
            return;
        }
        serve(ex, file, bytes, ex.getRequestHeaders().getFirst("Range"), auth);
    }

    private void handleCdn(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String range = ex.getRequestHeaders().getFirst("Range");
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            hits.add(new Hit("cdn", ex.getRequestMethod(), path, range, auth, System.nanoTime()));
            byte[] bytes = path.startsWith("/lfs/") ? lfs.get(path.substring(5)) : null;
            if (bytes == null) {
                send(ex, 404, "NoSuchKey");
                return;
            }
            serve(ex, lfsPath.get(path.substring(5)), bytes, range, auth);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // the client went away
        }
    }

    /** Sends a file's bytes (from the Range's start), or the fault the script picks for this attempt. */
    private void serve(HttpExchange ex, String file, byte[] bytes, String range, String auth) throws IOException, InterruptedException {
        int attempt = attempts.computeIfAbsent(file, k -> new AtomicInteger()).incrementAndGet();
        Fault f = script.fault(file, attempt);
        if (fault(ex, f, auth)) return;
        int start = 0;
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= bytes.length) {
                send(ex, 416, "");
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        int n = bytes.length - start;
        ex.sendResponseHeaders(range != null ? 206 : 200, n == 0 ? -1 : n);
        OutputStream out = ex.getResponseBody();
        switch (f) {
            case CORRUPT -> {
                byte[] copy = java.util.Arrays.copyOfRange(bytes, start, bytes.length);
                copy[copy.length / 2] ^= 0x5a;
                out.write(copy);
            }
            case CUT_HALF -> {
                out.write(bytes, start, n / 2);
                out.flush();
                // An exception out of the handler makes HttpServer close the connection at once: a cut mid-file.
                throw new ConnectionCut();
            }
            case STALL -> {
                out.write(bytes, start, n / 2);
                out.flush();
                Thread.sleep(stallMillis); // longer than the client waits for more bytes
                try {
                    out.close();
                } catch (IOException expected) {
                    // "insufficient bytes written"
                }
            }
            case SLOW -> {
                for (int off = start; off < bytes.length; off += 64 << 10) {
                    out.write(bytes, off, Math.min(64 << 10, bytes.length - off));
                    out.flush();
                    Thread.sleep(slowMillis);
                }
            }
            default -> out.write(bytes, start, n);
        }
    }

    private static final class ConnectionCut extends RuntimeException {
        ConnectionCut() {
            super("connection cut by the test", null, false, false);
        }
    }

    /** Sends the fault's error answer; false for faults that shape the body (or none). */
    private boolean fault(HttpExchange ex, Fault f, String auth) throws IOException {
        switch (f) {
            case RATE_LIMIT -> {
                ex.getResponseHeaders().set("Retry-After", "1");
                send(ex, 429, "{\"error\":\"rate limited\"}");
                return true;
            }
            case SERVER_ERROR -> {
                send(ex, 500, "{\"error\":\"internal error\"}");
                return true;
            }
            case ECHO_TOKEN_500 -> {
                ex.getResponseHeaders().set("X-Error-Message", "backend failed for " + auth);
                send(ex, 500, "{\"error\":\"backend failed for " + auth + "\"}");
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }
}
