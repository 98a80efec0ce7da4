package dev.univar.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A chat-completions server on loopback (JDK's com.sun.net.httpserver) that answers "A:" + the question, or injects
 * the fault a {@link Script} picks for the n-th request carrying that question.
 */
final class CollectTestServer implements AutoCloseable {
    enum Fault {
        NONE, RATE_LIMIT, SERVER_ERROR, SLOW, MALFORMED_JSON, HTML, NO_CHOICES, DROP, DROP_MID_BODY, NOT_FOUND,
        UNAUTHORIZED, ECHO_KEY_500, ECHO_KEY_400,
        /** A 200 whose Content-Length announces {@link #oversizeBytes} and which sends them (while the client reads). */
        OVERSIZE,
        /** A 200 with a chunked body that never ends: it stops when the client hangs up, or at {@link #ENDLESS_BOUND}. */
        ENDLESS,
        /** Holds the request until {@link #release} opens (at most 30 s), then answers. */
        BLOCK
    }

    /** Where an "endless" body gives up: far beyond any sane response cap, small enough not to hurt the test JVM. */
    static final long ENDLESS_BOUND = 256L << 20;

    interface Script {
        Fault fault(String question, int attempt);
    }

    /** One request as the server saw it. */
    record Hit(String question, int attempt, Fault fault, long nanos, String authorization, String system) {
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    final List<Hit> hits = new CopyOnWriteArrayList<>();
    final AtomicInteger answered = new AtomicInteger();
    volatile Script script;
    volatile long slowMillis = 1500;
    volatile long latencyMillis;
    final CountDownLatch release = new CountDownLatch(1);
    volatile long oversizeBytes = (8L << 20) + 1;
    /** The most body bytes one OVERSIZE or ENDLESS response got to write before the client hung up. */
    final AtomicLong maxStreamed = new AtomicLong();

    CollectTestServer(Script script) throws IOException {
        this.script = script;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    int requests() {
        return hits.size();
    }

    List<Hit> hitsFor(String question) {
        return hits.stream().filter(h -> h.question().equals(question)).toList();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            JsonObject req = JsonParser.parseString(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            JsonArray messages = req.getAsJsonArray("messages");
            String question = messages.get(messages.size() - 1).getAsJsonObject().get("content").getAsString();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            JsonObject firstMessage = messages.get(0).getAsJsonObject();
            String system = firstMessage.get("role").getAsString().equals("system") ? firstMessage.get("content").getAsString() : null;
            int attempt = attempts.computeIfAbsent(question, q -> new AtomicInteger()).incrementAndGet();
            Fault fault = script.fault(question, attempt);
            hits.add(new Hit(question, attempt, fault, System.nanoTime(), auth, system));
            if (latencyMillis > 0) Thread.sleep(latencyMillis);
            String key = auth == null ? "" : auth.substring("Bearer ".length());
            switch (fault) {
                case NONE -> answer(ex, req, question);
                case SLOW -> {
                    Thread.sleep(slowMillis);
                    answer(ex, req, question);
                }
                case RATE_LIMIT -> {
                    ex.getResponseHeaders().set("Retry-After", "1");
                    send(ex, 429, "{\"error\":{\"message\":\"slow down\"}}");
                }
                case SERVER_ERROR -> send(ex, 500, "internal error");
                case MALFORMED_JSON -> send(ex, 200, "{\"choices\":[{\"message\":{\"content\":\"trunc");
                case HTML -> send(ex, 200, "<html><body>Welcome to nginx</body></html>");
                case NO_CHOICES -> send(ex, 200, "{\"object\":\"list\",\"data\":[]}");
                case NOT_FOUND -> send(ex, 404, "{\"detail\":\"Not Found\"}");
                case UNAUTHORIZED -> send(ex, 401, "{\"error\":{\"message\":\"Incorrect API key provided: " + key + "\"}}");
                case ECHO_KEY_500 -> send(ex, 500, "backend failed for token " + key);
                case ECHO_KEY_400 -> send(ex, 400, "{\"error\":{\"message\":\"bad request with key " + key + "\"}}");
                case DROP -> {
                    // closing without a response closes the connection: the client sees it dropped
                }
                case OVERSIZE -> stream(ex, oversizeBytes, oversizeBytes);
                case ENDLESS -> stream(ex, 0, ENDLESS_BOUND);
                case BLOCK -> {
                    release.await(30, TimeUnit.SECONDS);
                    answer(ex, req, question);
                }
                case DROP_MID_BODY -> {
                    ex.sendResponseHeaders(200, 1000);
                    OutputStream out = ex.getResponseBody();
                    out.write("{\"choices\":[".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    try {
                        out.close(); // fewer bytes than announced: the server closes the connection
                    } catch (IOException expected) {
                        // "insufficient bytes written"
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // the client went away (timeout): nothing to answer
        }
    }

    private void answer(HttpExchange ex, JsonObject req, String question) throws IOException {
        JsonObject message = new JsonObject();
        message.addProperty("role", "assistant");
        message.addProperty("content", "A:" + question);
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("message", message);
        choice.addProperty("finish_reason", "stop");
        JsonArray choices = new JsonArray();
        choices.add(choice);
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", question.length());
        usage.addProperty("completion_tokens", 3);
        usage.addProperty("total_tokens", question.length() + 3);
        JsonObject body = new JsonObject();
        body.addProperty("id", "chatcmpl-test");
        body.addProperty("object", "chat.completion");
        body.addProperty("model", req.get("model").getAsString());
        body.add("choices", choices);
        body.add("usage", usage);
        send(ex, 200, body.toString());
        answered.incrementAndGet();
    }

    /** Sends the start of a chat completion and then "x" up to {@code limit} bytes, in 64 KiB writes, until the
     *  client hangs up; {@code contentLength} 0 means chunked. */
    private void stream(HttpExchange ex, long contentLength, long limit) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, contentLength);
        byte[] head = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] chunk = new byte[64 << 10];
        java.util.Arrays.fill(chunk, (byte) 'x');
        OutputStream out = ex.getResponseBody();
        long sent = 0;
        try {
            out.write(head);
            sent = head.length;
            while (sent < limit) {
                int n = (int) Math.min(chunk.length, limit - sent);
                out.write(chunk, 0, n);
                sent += n;
            }
        } finally {
            long s = sent;
            maxStreamed.accumulateAndGet(s, Math::max);
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (!ex.getResponseHeaders().containsKey("Content-Type"))
            ex.getResponseHeaders().set("Content-Type", body.startsWith("<") ? "text/html" : "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

}
