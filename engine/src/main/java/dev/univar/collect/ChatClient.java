package dev.univar.collect;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One chat-completions request per call, to {@code BASE_URL/chat/completions} (the OpenAI protocol that hosted APIs,
 * vLLM, llama.cpp's server and Ollama all speak). Every call ends in an {@link Outcome}, never an exception, so the
 * retry logic sees one closed set of cases. The API key only ever goes into the Authorization header: every text
 * this class produces passes through {@link #redact}, as a server may echo the key in an error body.
 */
public final class ChatClient implements AutoCloseable {

    /** The largest cap there can be: the body is held in one array. */
    public static final long MAX_RESPONSE_BYTES_LIMIT = Integer.MAX_VALUE - 16;

    /** {@code maxResponseBytes}: a longer body is abandoned and fails the attempt ({@link Kind#TOO_LARGE}). */
    public record Settings(String baseUrl, String model, String apiKey, String systemPrompt, double temperature,
                           int maxTokens, Duration timeout, long maxResponseBytes) {
        public Settings {
            if (maxResponseBytes < 1 || maxResponseBytes > MAX_RESPONSE_BYTES_LIMIT)
                throw new IllegalArgumentException("--max-response-bytes must be between 1 and " + MAX_RESPONSE_BYTES_LIMIT);
        }
    }

    /** How a request went wrong, and what that means for retrying. */
    public enum Kind {
        RATE_LIMITED(true, "rate limited (429)"),
        SERVER_ERROR(true, "server error"),
        TIMEOUT(true, "timeout"),
        CONNECTION(true, "connection dropped"),
        UNREACHABLE(true, "endpoint unreachable"),
        MALFORMED(true, "malformed response"),
        /** The URL has no chat-completions endpoint (404, 405): the same for every request, so the run stops. */
        NOT_COMPATIBLE(false, "not a chat-completions endpoint"),
        /** 401/403: the same for every request, so the run stops. */
        AUTH(false, "authentication refused"),
        /** Another 4xx: this request is refused (too long, bad parameter); retrying it would not help. */
        REJECTED(false, "request rejected"),
        /** A body longer than the cap (a runaway or endless response): not read on, and not asked again. */
        TOO_LARGE(false, "response too large"),
        /**
         * A chat completion the job cannot use (translate: empty, in the wrong script, the source echoed; questions
         * generate: nothing left after cleaning). Not the client's verdict but the job's; asked again at once.
         */
        UNUSABLE(true, "unusable answer");

        public final boolean retryable;
        public final String label;

        Kind(boolean retryable, String label) {
            this.retryable = retryable;
            this.label = label;
        }
    }

    public sealed interface Outcome permits Answer, Failure {
    }

    /** A chat completion: the first choice's text ("" when the server sent none), why it stopped, token counts. */
    public record Answer(String content, String finishReason, JsonElement usage) implements Outcome {
    }

    /** {@code retryAfter} is what the server asked for (Retry-After), or null. */
    public record Failure(Kind kind, String reason, Duration retryAfter) implements Outcome {
    }

    private static final int SNIPPET = 200;
    private final Settings settings;
    private final URI uri;
    private final HttpClient http;
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();

    public ChatClient(Settings settings) {
        this.settings = settings;
        this.uri = completionsUri(settings.baseUrl());
        this.http = HttpClient.newBuilder()
                // HTTP/1.1: local servers (llama.cpp, Ollama) do not all handle the h2c upgrade.
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(min(settings.timeout(), Duration.ofSeconds(30)))
                .build();
    }

    /** {@code BASE_URL/chat/completions}, as OpenAI clients build it. */
    public static URI completionsUri(String baseUrl) {
        URI base;
        try {
            base = URI.create(baseUrl.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid --endpoint '" + baseUrl + "': " + e.getMessage());
        }
        String scheme = base.getScheme() == null ? "" : base.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || base.getHost() == null)
            throw new IllegalArgumentException("invalid --endpoint '" + baseUrl
                    + "': give the base URL of an OpenAI-compatible API, e.g. http://localhost:8000/v1");
        String s = base.toString();
        return URI.create((s.endsWith("/") ? s : s + "/") + "chat/completions");
    }

    public URI uri() {
        return uri;
    }

    /** Asks {@code question}; blocks at most about the timeout. */
    public Outcome ask(String question) throws InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(question), StandardCharsets.UTF_8));
        if (settings.apiKey() != null && !settings.apiKey().isEmpty())
            request.header("Authorization", "Bearer " + settings.apiKey());
        long cap = settings.maxResponseBytes();
        CompletableFuture<HttpResponse<byte[]>> future = http.sendAsync(request.build(),
                info -> new CappedBody(cap, contentLength(info.headers())));
        HttpResponse<byte[]> response;
        inFlight.add(future);
        try {
            // The request timeout covers only the wait for headers; this bound also covers a body that stalls.
            response = future.get(settings.timeout().toMillis() + 50, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            return new Failure(Kind.TIMEOUT, "no response within " + Durations.format(settings.timeout()), null);
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            return failure(e.getCause());
        } catch (CancellationException e) {
            return new Failure(Kind.CONNECTION, "cancelled", null);
        } finally {
            inFlight.remove(future);
        }
        return parse(response);
    }

    private String body(String question) {
        JsonObject body = new JsonObject();
        body.addProperty("model", settings.model());
        JsonArray messages = new JsonArray();
        if (settings.systemPrompt() != null && !settings.systemPrompt().isEmpty())
            messages.add(message("system", settings.systemPrompt()));
        messages.add(message("user", question));
        body.add("messages", messages);
        body.addProperty("temperature", settings.temperature());
        body.addProperty("max_tokens", settings.maxTokens());
        return body.toString();
    }

    private static JsonObject message(String role, String content) {
        JsonObject m = new JsonObject();
        m.addProperty("role", role);
        m.addProperty("content", content);
        return m;
    }

    private Failure failure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause())
            if (c instanceof TooLarge)
                return new Failure(Kind.TOO_LARGE, "response larger than " + settings.maxResponseBytes()
                        + " bytes (--max-response-bytes)", null);
        return switch (t) {
            case HttpConnectTimeoutException e -> new Failure(Kind.UNREACHABLE, "connect timed out", null);
            case HttpTimeoutException e -> new Failure(Kind.TIMEOUT, "no response within " + Durations.format(settings.timeout()), null);
            case ConnectException e -> new Failure(Kind.UNREACHABLE, "connection refused", null);
            case UnresolvedAddressException e -> new Failure(Kind.UNREACHABLE, "unknown host " + uri.getHost(), null);
            case IOException e when e.getCause() instanceof UnresolvedAddressException ->
                    new Failure(Kind.UNREACHABLE, "unknown host " + uri.getHost(), null);
            case IOException e -> new Failure(Kind.CONNECTION, redact(describe(e)), null);
            default -> new Failure(Kind.CONNECTION, redact(describe(t)), null);
        };
    }

    private Outcome parse(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        String body = response.body() == null ? "" : new String(response.body(), StandardCharsets.UTF_8);
        if (status == 429)
            return new Failure(Kind.RATE_LIMITED, "429 Too Many Requests" + detail(body), retryAfter(response));
        if (status >= 500 || status == 408)
            return new Failure(Kind.SERVER_ERROR, status + detail(body), retryAfter(response));
        if (status == 404 || status == 405)
            return new Failure(Kind.NOT_COMPATIBLE, status + (status == 404 ? " Not Found" : " Method Not Allowed") + detail(body), null);
        if (status == 401 || status == 403)
            return new Failure(Kind.AUTH, status + (status == 401 ? " Unauthorized" : " Forbidden") + detail(body), null);
        if (status >= 400) return new Failure(Kind.REJECTED, status + detail(body), null);
        if (status < 200 || status >= 300) return new Failure(Kind.MALFORMED, "unexpected status " + status, null);
        return completion(body);
    }

    /** A 2xx body that is not a chat completion is MALFORMED: a proxy's error page, a truncated body. */
    private Outcome completion(String body) {
        JsonElement json;
        try {
            json = JsonParser.parseString(body);
        } catch (JsonParseException e) {
            return malformed("not JSON", body);
        }
        if (!json.isJsonObject()) return malformed("not a JSON object", body);
        JsonObject o = json.getAsJsonObject();
        JsonElement choices = o.get("choices");
        if (choices == null || !choices.isJsonArray() || choices.getAsJsonArray().isEmpty()) {
            String err = errorMessage(o);
            return malformed(err != null ? "error: " + err : "no 'choices'", body);
        }
        JsonElement first = choices.getAsJsonArray().get(0);
        if (!first.isJsonObject() || !(first.getAsJsonObject().get("message") instanceof JsonObject message))
            return malformed("no 'message' in choices[0]", body);
        JsonElement content = message.get("content");
        String text;
        if (content == null || content.isJsonNull()) text = "";
        else if (content.isJsonPrimitive() && content.getAsJsonPrimitive().isString()) text = content.getAsString();
        else return malformed("'content' is not a string", body);
        JsonElement finish = first.getAsJsonObject().get("finish_reason");
        String finishReason = finish == null || finish.isJsonNull() || !finish.isJsonPrimitive() ? null : finish.getAsString();
        JsonElement usage = o.get("usage");
        return new Answer(text, finishReason, usage == null || usage.isJsonNull() ? null : usage);
    }

    private Failure malformed(String what, String body) {
        return new Failure(Kind.MALFORMED, what + ": " + snippet(body), null);
    }

    /** " (message)" from an OpenAI-style error body, or a snippet of the body; empty for an empty body. */
    private String detail(String body) {
        if (body.isBlank()) return "";
        try {
            JsonElement e = JsonParser.parseString(body);
            if (e.isJsonObject()) {
                String m = errorMessage(e.getAsJsonObject());
                if (m != null) return " (" + redact(shorten(m)) + ")";
            }
        } catch (JsonParseException ignored) {
            // not JSON: show the start of it
        }
        return ": " + snippet(body);
    }

    /** {@code {"error": {"message": ...}}} (OpenAI), {@code {"error": "..."}} (Ollama) or {@code {"message": ...}} (vLLM). */
    private static String errorMessage(JsonObject o) {
        JsonElement err = o.get("error");
        if (err instanceof JsonObject eo && eo.get("message") != null && eo.get("message").isJsonPrimitive())
            return eo.get("message").getAsString();
        if (err != null && err.isJsonPrimitive()) return err.getAsString();
        if (o.get("message") != null && o.get("message").isJsonPrimitive()) return o.get("message").getAsString();
        return null;
    }

    private String snippet(String body) {
        return "'" + redact(shorten(body)) + "'";
    }

    private static String shorten(String s) {
        String flat = s.replaceAll("\\s+", " ").strip();
        return flat.length() <= SNIPPET ? flat : flat.substring(0, SNIPPET) + "...";
    }

    /** The server's wish in seconds or as an HTTP date; capped so that a wild value cannot stall a run for hours. */
    static Duration retryAfter(HttpResponse<?> response) {
        String v = response.headers().firstValue("Retry-After").orElse(null);
        if (v == null) return null;
        Duration d;
        try {
            d = Duration.ofMillis(Math.round(Double.parseDouble(v.trim()) * 1000));
        } catch (NumberFormatException e) {
            try {
                d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME));
            } catch (RuntimeException e2) {
                return null;
            }
        }
        if (d.isNegative()) return Duration.ZERO;
        return min(d, Duration.ofMinutes(5));
    }

    /** The announced body length, or -1 (none, or not a number: the body is then measured as it comes). */
    static long contentLength(HttpHeaders headers) {
        try {
            return headers.firstValueAsLong("Content-Length").orElse(-1);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A body was longer than the cap. */
    static final class TooLarge extends IOException {
        TooLarge(long cap) {
            super("response larger than " + cap + " bytes");
        }
    }

    /**
     * Reads a body into one array of at most {@code cap} bytes, a buffer at a time (one requested at a time, so the
     * client never reads far ahead). A body announced (Content-Length) or found to be longer is not read on: the
     * subscription is cancelled, which closes the connection, and the body fails with {@link TooLarge}.
     */
    static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final long cap;
        private final long contentLength;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private byte[] buf = new byte[0];
        private int size;

        CappedBody(long cap, long contentLength) {
            this.cap = cap;
            this.contentLength = contentLength;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (contentLength > cap) tooLarge();
            else s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) return; // what still arrives after a cancel is dropped
            long n = 0;
            for (ByteBuffer b : items) n += b.remaining();
            if (size + n > cap) {
                tooLarge();
                return;
            }
            int need = (int) (size + n);
            if (need > buf.length)
                buf = Arrays.copyOf(buf, (int) Math.max(need, Math.min(cap, Math.max(8192L, 2L * buf.length))));
            for (ByteBuffer b : items) {
                int r = b.remaining();
                b.get(buf, size, r);
                size += r;
            }
            subscription.request(1);
        }

        private void tooLarge() {
            buf = null;
            subscription.cancel();
            result.completeExceptionally(new TooLarge(cap));
        }

        @Override
        public void onError(Throwable t) {
            buf = null;
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            if (!result.isDone()) result.complete(size == buf.length ? buf : Arrays.copyOf(buf, size));
        }
    }

    /** Abandons the requests in flight (their {@link #ask} returns at once): the run is stopping. */
    public void cancelAll() {
        for (CompletableFuture<?> f : inFlight) f.cancel(true);
    }

    /** Removes the API key from a text that may have come from the server or an exception. */
    public String redact(String text) {
        String key = settings.apiKey();
        if (text == null || key == null || key.length() < 4) return text;
        return text.replace(key, "[redacted]");
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() {
        http.shutdownNow(); // nothing in flight is still wanted when the client is closed
    }
}
