package dev.univar.hub;

import dev.univar.collect.RetryPolicy;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * Where the Hub is and how to talk to it, from the environment variables {@code huggingface_hub} reads:
 * <ul>
 * <li>{@code HF_ENDPOINT}: the Hub's URL (default {@value #DEFAULT_ENDPOINT});</li>
 * <li>{@code HF_TOKEN} (else {@code HUGGING_FACE_HUB_TOKEN}, else the file {@code HF_TOKEN_PATH}, default
 * {@code $HF_HOME/token}, which {@code huggingface-cli login} writes): sent as a bearer token to the Hub's host
 * only, never printed;</li>
 * <li>{@code HF_HUB_CACHE} (else {@code HUGGINGFACE_HUB_CACHE}, else {@code $HF_HOME/hub}); {@code HF_HOME}
 * defaults to {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface};</li>
 * <li>{@code HF_HUB_OFFLINE}: {@code 1}, {@code true}, {@code yes} or {@code on}: the cache only;</li>
 * <li>{@code HF_HUB_ETAG_TIMEOUT} and {@code HF_HUB_DOWNLOAD_TIMEOUT}: seconds to wait for an answer to a metadata
 * request, and for the next bytes of a download (default 10 each).</li>
 * </ul>
 * Every variable is read through {@link #env}: a JVM system property {@code univar.env.NAME} takes the place of the
 * variable NAME (an empty property hides it). Java cannot change its own environment, so this is how tests point
 * univar at a fake Hub; avoid it for tokens outside tests, as command lines are visible to other users.
 */
public record HubSettings(URI endpoint, String token, Path cache, boolean offline, Duration metadataTimeout,
                          Duration downloadTimeout, RetryPolicy retry) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Set<String> TRUE = Set.of("1", "true", "yes", "on");

    public HubSettings {
        String s = endpoint.getScheme();
        if (s == null || !(s.equals("http") || s.equals("https")) || endpoint.getHost() == null)
            throw new IllegalArgumentException("HF_ENDPOINT must be an http(s) URL, got " + endpoint);
        if (token != null && token.isBlank()) token = null;
    }

    /** The variable {@code name}: the system property {@code univar.env.NAME} if set (empty = unset), else the environment. */
    public static String env(String name) {
        String p = System.getProperty("univar.env." + name);
        String v = p != null ? p : System.getenv(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    /** The settings the environment describes (see the class comment). */
    public static HubSettings fromEnvironment() {
        String raw = env("HF_ENDPOINT");
        String e = raw == null ? DEFAULT_ENDPOINT : raw;
        while (e.endsWith("/")) e = e.substring(0, e.length() - 1);
        URI endpoint;
        try {
            endpoint = new URI(e);
        } catch (URISyntaxException ex) {
            throw new IllegalArgumentException("HF_ENDPOINT is not a URL: " + raw);
        }
        Path home = hfHome();
        String cache = env("HF_HUB_CACHE");
        if (cache == null) cache = env("HUGGINGFACE_HUB_CACHE");
        Path cacheDir = cache != null ? expand(cache) : home.resolve("hub");
        String offline = env("HF_HUB_OFFLINE");
        return new HubSettings(endpoint, token(home), cacheDir,
                offline != null && TRUE.contains(offline.toLowerCase(Locale.ROOT)),
                seconds("HF_HUB_ETAG_TIMEOUT", 10), seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10), RetryPolicy.defaults());
    }

    /** {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    static Path hfHome() {
        String home = env("HF_HOME");
        if (home != null) return expand(home);
        String xdg = env("XDG_CACHE_HOME");
        return (xdg != null ? expand(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("huggingface");
    }

    private static String token(Path home) {
        String t = env("HF_TOKEN");
        if (t == null) t = env("HUGGING_FACE_HUB_TOKEN");
        if (t != null) return t;
        String pathVar = env("HF_TOKEN_PATH");
        Path file = pathVar != null ? expand(pathVar) : home.resolve("token");
        try {
            if (Files.isRegularFile(file)) {
                String s = Files.readString(file, StandardCharsets.UTF_8).strip();
                return s.isEmpty() ? null : s;
            }
        } catch (IOException | RuntimeException ignored) {
            // an unreadable token file is as good as none: requests go without a token
        }
        return null;
    }

    private static Duration seconds(String name, double dflt) {
        String v = env(name);
        double s = dflt;
        if (v != null) {
            try {
                s = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a number of seconds, got '" + v + "'");
            }
            if (!(s > 0) || Double.isInfinite(s)) throw new IllegalArgumentException(name + " must be positive, got '" + v + "'");
        }
        return Duration.ofMillis(Math.round(s * 1000));
    }

    private static Path expand(String p) {
        if (p.equals("~")) return Path.of(System.getProperty("user.home"));
        if (p.startsWith("~/")) return Path.of(System.getProperty("user.home"), p.substring(2));
        return Path.of(p);
    }

    public HubSettings withRetry(RetryPolicy policy) {
        return new HubSettings(endpoint, token, cache, offline, metadataTimeout, downloadTimeout, policy);
    }

    public HubSettings withOffline(boolean off) {
        return new HubSettings(endpoint, token, cache, off, metadataTimeout, downloadTimeout, retry);
    }

    /** Whether {@code uri} is on the Hub's own host (scheme, host and port), the only place the token goes. */
    boolean isHubHost(URI uri) {
        return uri.getScheme() != null && uri.getScheme().equalsIgnoreCase(endpoint.getScheme())
                && uri.getHost() != null && uri.getHost().equalsIgnoreCase(endpoint.getHost())
                && port(uri) == port(endpoint);
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** {@code text} with the token, wherever it appears, replaced: for anything a server sent that we may print. */
    String redact(String text) {
        if (text == null || token == null || token.length() < 4) return text;
        return text.replace(token, "[HF_TOKEN]");
    }

    /** Never shows the token. */
    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set") + ", cache=" + cache
                + ", offline=" + offline + "]";
    }
}
