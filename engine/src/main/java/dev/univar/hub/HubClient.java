package dev.univar.hub;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.univar.collect.RetryPolicy;
import dev.univar.data.IoFailure;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Hub's HTTP routes as {@code huggingface_hub} uses them:
 * <ul>
 * <li>{@code GET /api/models/ORG/NAME/revision/REV}: the commit ({@code sha}) and the file list ({@code siblings});</li>
 * <li>{@code HEAD /ORG/NAME/resolve/COMMIT/FILE}: the file's {@code ETag} (its git SHA-1) or, for an LFS file,
 * {@code X-Linked-Etag} (its SHA-256) and {@code X-Linked-Size} on a redirect to a CDN host, which is not followed;</li>
 * <li>{@code GET} of the same URL: the bytes, after redirects. The token goes only to the Hub's own host, never to
 * the CDN a redirect points to.</li>
 * </ul>
 * Requests are retried with exponential backoff on 429 (honouring {@code Retry-After}), 5xx, timeouts and broken
 * connections; a download resumes with an HTTP {@code Range} request from what the {@code .incomplete} file holds,
 * and is checked against the Hub's size and checksum before anyone may use it. A server that stops sending for
 * {@link HubSettings#downloadTimeout()} counts as a broken connection.
 */
public final class HubClient implements AutoCloseable {
    /** The commit a revision points to and the repository's file names. */
    public record RepoInfo(String commit, List<String> files) {
    }

    /** A file's metadata: its blob name ({@code etag}), size (-1 if unknown) and whether it is stored with LFS. */
    public record FileInfo(String path, String etag, long size, boolean lfs) {
    }

    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_API_BYTES = 32 << 20;
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
    private static final String USER_AGENT = "univar/" + Optional.ofNullable(HubClient.class.getPackage().getImplementationVersion())
            .orElse("dev") + "; java/" + Runtime.version().feature();

    private final HubSettings settings;
    private final Consumer<String> log;
    private final HttpClient http;
    private final RandomGenerator random = RandomGenerator.getDefault();

    /** {@code log} hears about retries (one line each). */
    public HubClient(HubSettings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
        this.http = HttpClient.newBuilder()
                .connectTimeout(settings.metadataTimeout())
                .followRedirects(HttpClient.Redirect.NEVER) // followed here, to keep the token off other hosts
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.getDefault()) // -Dhttps.proxyHost=… -Dhttps.proxyPort=… where a proxy is needed
                .build();
    }

    /** Stops the HTTP client's threads and connections. */
    @Override
    public void close() {
        http.shutdownNow();
    }

    public HubSettings settings() {
        return settings;
    }

    /** The commit {@code repo}'s revision points to, and its files. The first request of a run: a Hub that cannot be reached is {@link HubException.Kind#UNREACHABLE}. */
    public RepoInfo revision(RepoSpec repo) throws IOException {
        URI uri = uri("/api/models/" + repo.id() + "/revision/" + encode(repo.revision(), false));
        HttpResponse<BodyStream> r = metadataRequest("GET", uri, "asking " + host() + " about " + repo, true);
        if (r.statusCode() != 200) throw refusal(r, repo, null, null);
        String text = r.body().text(MAX_API_BYTES, settings.metadataTimeout());
        try {
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            JsonElement sha = o.get("sha");
            String commit = sha == null || !sha.isJsonPrimitive() ? null : sha.getAsString();
            if (!RepoSpec.isCommitHash(commit))
                throw new HubException(HubException.Kind.NETWORK, host() + " gave no commit for " + repo + " (field 'sha')");
            List<String> files = new ArrayList<>();
            JsonArray siblings = o.has("siblings") && o.get("siblings").isJsonArray() ? o.getAsJsonArray("siblings") : null;
            if (siblings == null)
                throw new HubException(HubException.Kind.NETWORK, host() + " gave no file list for " + repo + " (field 'siblings')");
            for (JsonElement s : siblings) {
                JsonElement f = s.isJsonObject() ? s.getAsJsonObject().get("rfilename") : null;
                if (f != null && f.isJsonPrimitive()) files.add(f.getAsString());
            }
            return new RepoInfo(commit, List.copyOf(files));
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
            throw new HubException(HubException.Kind.NETWORK, host() + " answered " + repo + " with something other than JSON ("
                    + shorten(settings.redact(text)) + ")");
        }
    }

    /** The metadata of {@code file} at {@code commit}: a HEAD request whose CDN redirect is not followed. */
    public FileInfo metadata(RepoSpec repo, String commit, String file) throws IOException {
        URI uri = resolveUri(repo, commit, file);
        HttpResponse<BodyStream> r = metadataRequest("HEAD", uri, "asking " + host() + " about " + file + " of " + repo, false);
        int st = r.statusCode();
        r.body().cancel();
        if (st != 200 && !isRedirect(st)) throw refusal(r, repo, commit, file);
        var h = r.headers();
        String linked = h.firstValue("X-Linked-Etag").orElse(null);
        String etag = normalizeEtag(linked != null ? linked : h.firstValue("ETag").orElse(null));
        if (etag == null || !SAFE_ETAG.matcher(etag).matches() || etag.equals(".") || etag.equals(".."))
            throw new HubException(HubException.Kind.NETWORK, host() + " gave no usable ETag for " + file + " of " + repo);
        long size = h.firstValueAsLong("X-Linked-Size").orElse(-1);
        if (size < 0 && st == 200) size = h.firstValueAsLong("Content-Length").orElse(-1);
        return new FileInfo(file, etag, size, linked != null);
    }

    /** {@code "W/\"abc\""} → {@code abc}: the ETag as {@code huggingface_hub} names blobs. */
    static String normalizeEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.isEmpty() ? null : e;
    }

    /**
     * Downloads {@code file} into {@code incomplete}, continuing from what it already holds, and checks it against
     * {@code file}'s size and checksum. On return the file is complete and verified; a mismatch deletes it.
     * {@code progress} hears each block of bytes (negative when bytes already counted are thrown away).
     */
    public void download(RepoSpec repo, String commit, FileInfo file, Path incomplete, LongConsumer progress) throws IOException {
        URI uri = resolveUri(repo, commit, file.path());
        RetryPolicy policy = settings.retry();
        boolean restarted = false;
        for (int failures = 0; ; ) {
            long have = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
            if (file.size() >= 0 && have > file.size()) {
                discard(incomplete, progress);
                have = 0;
            }
            Transient failure;
            try {
                if (file.size() < 0 || have < file.size()) transfer(uri, repo, commit, file, incomplete, have, progress);
                else if (!Files.exists(incomplete)) Files.createFile(incomplete); // an empty file
                String bad = verify(incomplete, file);
                if (bad == null) return;
                discard(incomplete, progress);
                if (have > 0 && !restarted) {
                    // The part kept from an earlier run may be what is wrong: one fresh download before giving up.
                    restarted = true;
                    log.accept(file.path() + " of " + repo + ": " + bad + " after resuming; downloading it again from the start");
                    continue;
                }
                throw new HubException(HubException.Kind.CORRUPT, file.path() + " of " + repo + ": " + bad
                        + "; the download was discarded and nothing was cached (run again to retry)");
            } catch (Transient t) {
                failure = t;
            }
            if (failure.bytes > 0) failures = 0; // progress was made: the connection is not hopeless
            failures++;
            if (failures >= policy.maxAttempts()) {
                long kept = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
                throw new HubException(HubException.Kind.NETWORK, "downloading " + file.path() + " of " + repo + " failed "
                        + failures + " times in a row (" + failure.getMessage() + ")" + (kept > 0
                        ? "; " + kept + " bytes are kept in " + incomplete + " and a new run resumes from there" : ""));
            }
            pause(policy.delay(failures, failure.retryAfter, random), file.path() + " of " + repo + ": " + failure.getMessage());
        }
    }

    /** A failure worth retrying, with the bytes received before it and the server's Retry-After. */
    private static final class Transient extends Exception {
        final long bytes;
        final Duration retryAfter;

        Transient(String reason, Duration retryAfter, long bytes) {
            super(reason, null, false, false);
            this.retryAfter = retryAfter;
            this.bytes = bytes;
        }
    }

    private void transfer(URI uri, RepoSpec repo, String commit, FileInfo file, Path incomplete, long have,
                          LongConsumer progress) throws IOException, Transient {
        Map<String, String> headers = have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of();
        HttpResponse<BodyStream> r;
        try {
            r = send("GET", uri, headers, true, settings.downloadTimeout());
        } catch (HubException e) {
            throw e;
        } catch (IOException e) {
            throw new Transient(describe(e), null, 0);
        }
        int st = r.statusCode();
        BodyStream body = r.body();
        if (st == 429 || st >= 500) {
            body.cancel();
            throw new Transient(status(r), retryAfter(r), 0);
        }
        if (st == 416) {
            body.cancel();
            discard(incomplete, progress);
            throw new Transient("the server would not resume at byte " + have + " (HTTP 416)", null, 0);
        }
        if (st != 200 && st != 206) throw refusal(r, repo, commit, file.path());
        long start = 0;
        if (st == 206) {
            Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
            if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                body.cancel();
                discard(incomplete, progress);
                throw new Transient("the server resumed at the wrong place (Content-Range '"
                        + r.headers().firstValue("Content-Range").orElse("") + "', wanted byte " + have + ")", null, 0);
            }
            start = have;
        } else if (have > 0) {
            progress.accept(-have); // the server sends the whole file again
        }
        long expected = file.size() >= 0 ? file.size() - start : -1;
        long received = 0;
        try (FileChannel ch = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            if (start == 0) ch.truncate(0);
            ch.position(start);
            while (true) {
                List<ByteBuffer> chunk;
                try {
                    chunk = body.next(settings.downloadTimeout());
                } catch (InterruptedIOException e) {
                    throw e;
                } catch (IOException e) {
                    throw new Transient(describe(e) + " after " + (start + received) + " of " + sizeText(file.size()) + " bytes", null, received);
                }
                if (chunk == null) break;
                for (ByteBuffer b : chunk) {
                    int n = b.remaining();
                    if (expected >= 0 && received + n > expected) {
                        body.cancel();
                        ch.close();
                        discard(incomplete, progress);
                        throw new HubException(HubException.Kind.CORRUPT, file.path() + " of " + repo + ": the server sent more than the "
                                + file.size() + " bytes announced; the download was discarded (run again to retry)");
                    }
                    try {
                        while (b.hasRemaining()) ch.write(b);
                    } catch (IOException e) {
                        body.cancel();
                        throw IoFailure.of("cannot write", incomplete, e);
                    }
                    received += n;
                    progress.accept(n);
                }
            }
            try {
                ch.force(true);
            } catch (IOException e) {
                throw IoFailure.of("cannot write", incomplete, e);
            }
        }
        if (expected >= 0 && received < expected)
            throw new Transient("the connection closed after " + (start + received) + " of " + file.size() + " bytes", null, received);
    }

    private static void discard(Path incomplete, LongConsumer progress) throws IOException {
        long n = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
        Files.deleteIfExists(incomplete);
        if (n > 0) progress.accept(-n);
    }

    /** Null when {@code f} matches {@code file}'s size and checksum, else what is wrong. */
    static String verify(Path f, FileInfo file) throws IOException {
        long size = Files.size(f);
        if (file.size() >= 0 && size != file.size()) return "size " + size + " bytes, but the Hub announced " + file.size();
        if (file.lfs() && SHA256.matcher(file.etag()).matches()) {
            String got = digest(f, "SHA-256", null);
            return got.equals(file.etag()) ? null : "SHA-256 " + got + " does not match the Hub's " + file.etag();
        }
        if (!file.lfs() && SHA1.matcher(file.etag()).matches()) {
            // A small file's ETag is its git blob id: SHA-1 of "blob SIZE\0" and the bytes.
            String got = digest(f, "SHA-1", ("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
            return got.equals(file.etag()) ? null : "git SHA-1 " + got + " does not match the Hub's ETag " + file.etag();
        }
        return null; // an ETag of another form: the size is all there is to check
    }

    static String digest(Path f, String algorithm, byte[] prefix) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (prefix != null) md.update(prefix);
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** A metadata request (API, HEAD), retried on 429/5xx/timeouts; the answer is any other status. */
    private HttpResponse<BodyStream> metadataRequest(String method, URI uri, String what, boolean firstContact) throws IOException {
        RetryPolicy policy = settings.retry();
        Map<String, String> headers = method.equals("HEAD") ? Map.of("Accept-Encoding", "identity") : Map.of();
        for (int attempt = 1; ; attempt++) {
            String reason;
            Duration retryAfter = null;
            boolean unreachable = false;
            try {
                HttpResponse<BodyStream> r = send(method, uri, headers, false, settings.metadataTimeout());
                int st = r.statusCode();
                if (st != 429 && st < 500) return r;
                reason = status(r);
                retryAfter = retryAfter(r);
                r.body().cancel();
            } catch (HubException e) {
                throw e;
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                unreachable = e instanceof ConnectException || e instanceof HttpConnectTimeoutException;
                reason = describe(e);
                // No network at all: say so at once (the caller may have the model cached), don't retry for a minute.
                if (firstContact && unreachable)
                    throw new HubException(HubException.Kind.UNREACHABLE, "cannot reach " + host() + " (" + reason + ")", e);
            }
            if (attempt >= policy.maxAttempts())
                throw new HubException(firstContact ? HubException.Kind.UNREACHABLE : HubException.Kind.NETWORK,
                        what + " failed " + attempt + " times (" + reason + ")");
            pause(policy.delay(attempt, retryAfter, random), what + ": " + reason);
        }
    }

    private void pause(Duration d, String why) throws IOException {
        log.accept(why + "; retrying in " + String.format(Locale.ROOT, "%.1f", d.toMillis() / 1000.0) + " s");
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /**
     * One request, following redirects: all of them when {@code followCrossHost}, else only those to the same
     * host (a renamed repository), so that a HEAD sees the Hub's own answer rather than the CDN's. The token goes
     * to the Hub's host only.
     */
    private HttpResponse<BodyStream> send(String method, URI uri, Map<String, String> headers, boolean followCrossHost,
                                          Duration timeout) throws IOException {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).timeout(timeout)
                    .method(method, HttpRequest.BodyPublishers.noBody())
                    .header("User-Agent", USER_AGENT);
            headers.forEach(b::header);
            if (settings.token() != null && settings.isHubHost(current)) b.header("Authorization", "Bearer " + settings.token());
            HttpResponse<BodyStream> r;
            try {
                r = http.send(b.build(), BodyStream.handler());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            } catch (IllegalArgumentException e) {
                throw new HubException(HubException.Kind.NETWORK, "cannot request " + current + ": " + e.getMessage());
            }
            Optional<String> location = r.headers().firstValue("Location");
            if (!isRedirect(r.statusCode()) || location.isEmpty()) return r;
            URI target;
            try {
                target = current.resolve(location.get().strip());
            } catch (IllegalArgumentException e) {
                r.body().cancel();
                throw new HubException(HubException.Kind.NETWORK, host() + " redirected to an invalid URL");
            }
            if (!followCrossHost && !sameOrigin(target, current)) return r;
            r.body().cancel();
            current = target;
        }
        throw new HubException(HubException.Kind.NETWORK, "more than " + MAX_REDIRECTS + " redirects from " + uri.getPath());
    }

    private static boolean isRedirect(int st) {
        return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    /** A one-line explanation of a status the Hub answered with, from its X-Error-Code where it sends one. */
    private HubException refusal(HttpResponse<BodyStream> r, RepoSpec repo, String commit, String file) {
        int st = r.statusCode();
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String detail = r.headers().firstValue("X-Error-Message").map(settings::redact).map(HubClient::shorten).orElse(null);
        r.body().cancel();
        boolean token = settings.token() != null;
        String where = host();
        String page = settings.endpoint() + "/" + repo.id();
        if (code.equals("GatedRepo"))
            return new HubException(HubException.Kind.ACCESS, repo.id() + " is a gated model: " + (token
                    ? "the account of HF_TOKEN has not been granted access; accept its conditions at " + page
                    : "accept its conditions at " + page + " and set HF_TOKEN to a token of that account"));
        if (code.equals("RepoNotFound") || (file == null && st == 404 && code.isEmpty()))
            return new HubException(HubException.Kind.NOT_FOUND, "no model " + repo.id() + " on " + where
                    + (token ? " that HF_TOKEN gives access to" : " (a private model needs HF_TOKEN)"));
        if (code.equals("RevisionNotFound"))
            return new HubException(HubException.Kind.NO_REVISION, repo.id() + " has no revision '" + repo.revision() + "' on " + where);
        if (code.equals("EntryNotFound") || st == 404)
            return new HubException(HubException.Kind.NO_FILE, (file == null ? "?" : file) + " is not in " + repo.id() + "@"
                    + RepoSpec.shortCommit(commit) + " on " + where);
        if (st == 401)
            return new HubException(HubException.Kind.ACCESS, token
                    ? where + " refused HF_TOKEN for " + repo.id() + " (HTTP 401): check the token"
                    : repo.id() + " is private or gated (HTTP 401 from " + where + "): set HF_TOKEN to a token with access");
        if (st == 403)
            return new HubException(HubException.Kind.ACCESS, token
                    ? "the account of HF_TOKEN may not read " + repo.id() + " (HTTP 403 from " + where + ")"
                    : where + " refused access to " + repo.id() + " (HTTP 403): set HF_TOKEN to a token with access");
        return new HubException(HubException.Kind.NETWORK, where + " answered HTTP " + st + " for " + repo
                + (file == null ? "" : " " + file) + (detail == null ? "" : ": " + detail));
    }

    private String status(HttpResponse<?> r) {
        String detail = r.headers().firstValue("X-Error-Message").map(settings::redact).map(HubClient::shorten).orElse(null);
        return "HTTP " + r.statusCode() + (detail == null ? "" : " " + detail);
    }

    /** The server's Retry-After in seconds or as an HTTP date, capped at 5 minutes; null when absent. */
    static Duration retryAfter(HttpResponse<?> r) {
        String v = r.headers().firstValue("Retry-After").orElse(null);
        if (v == null) return null;
        Duration d;
        try {
            d = Duration.ofMillis(Math.round(Double.parseDouble(v.strip()) * 1000));
        } catch (NumberFormatException e) {
            try {
                d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v.strip(), DateTimeFormatter.RFC_1123_DATE_TIME));
            } catch (RuntimeException e2) {
                return null;
            }
        }
        if (d.isNegative()) return Duration.ZERO;
        return d.compareTo(Duration.ofMinutes(5)) > 0 ? Duration.ofMinutes(5) : d;
    }

    private String describe(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : null;
        String name = e instanceof ConnectException ? "connection failed" : e instanceof java.net.http.HttpTimeoutException
                ? "timed out" : e.getClass().getSimpleName();
        return settings.redact(m == null ? name : name + ": " + m);
    }

    private static String shorten(String s) {
        String flat = s.replaceAll("\\s+", " ").strip();
        return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
    }

    private static String sizeText(long size) {
        return size < 0 ? "?" : Long.toString(size);
    }

    private String host() {
        return settings.endpoint().toString();
    }

    private URI uri(String path) {
        return URI.create(settings.endpoint() + path);
    }

    URI resolveUri(RepoSpec repo, String revision, String file) {
        return uri("/" + repo.id() + "/resolve/" + encode(revision, false) + "/" + encode(file, true));
    }

    /** Percent-encodes all but unreserved characters (and {@code /} when {@code keepSlash}), as Python's quote does. */
    static String encode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
                    || c == '~' || (keepSlash && c == '/')) sb.append((char) c);
            else sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
        }
        return sb.toString();
    }
}
