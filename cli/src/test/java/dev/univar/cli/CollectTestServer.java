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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A chat-completions server on loopback (JDK's com.sun.net.httpserver) that answers "A:" + the question (or what
 * {@link #answers} makes of it), or injects the fault a {@link Script} picks for a model's n-th request carrying
 * that question. Prompts in the shape of {@code questions generate}'s and {@code translate}'s default templates get
 * deterministic answers of their own: a question from the situation, and an invertible "translation" (into zh and
 * ja each ASCII character becomes a Han character; into another language the text is marked "[xx] "; back into en
 * both are undone), so a test can follow a text through every step.
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
        BLOCK,
        /** A chat completion whose content is empty. */
        EMPTY,
        /** A chat completion that repeats the text it was asked to translate (or the whole prompt). */
        ECHO,
        /** A translation in the wrong script: Latin letters for zh and ja, Han characters for the others. */
        WRONG_SCRIPT
    }

    /** What a model answers to a question (a prompt that is neither a generation nor a translation). */
    interface Answers {
        String answer(String model, String question);
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
    volatile Answers answers = (model, question) -> "A:" + question;
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
            // Counted per model too: two LLMs asked the same question each meet the script's faults.
            int attempt = attempts.computeIfAbsent(req.get("model").getAsString() + "\u0000" + question, q -> new AtomicInteger()).incrementAndGet();
            Fault fault = script.fault(question, attempt);
            hits.add(new Hit(question, attempt, fault, System.nanoTime(), auth, system));
            if (latencyMillis > 0) Thread.sleep(latencyMillis);
            String key = auth == null ? "" : auth.substring("Bearer ".length());
            switch (fault) {
                case NONE -> answer(ex, req, question);
                case EMPTY -> complete(ex, req, question, "");
                case ECHO -> {
                    Matcher t = TRANSLATE.matcher(question);
                    complete(ex, req, question, t.matches() ? t.group(3) : question);
                }
                case WRONG_SCRIPT -> {
                    // Into zh or ja: Latin letters; into anything else: Han characters.
                    Matcher t = TRANSLATE.matcher(question);
                    String wrong = !t.matches() ? "A:" + question : han(t.group(2)) ? "[" + t.group(2) + "] " + toEnglish(t.group(3), t.group(1))
                            : translate(toEnglish(t.group(3), t.group(1)), "en", "zh");
                    complete(ex, req, question, wrong);
                }
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

    /** translate's default prompt: source tag, target tag, text. */
    static final Pattern TRANSLATE = Pattern.compile(
            "Translate the following text from .* \\(([^()]+)\\) into .* \\(([^()]+)\\)\\. Reply with the translation only\\.\n\n(.*)",
            Pattern.DOTALL);
    /** questions generate's default prompt: the situation. */
    static final Pattern GENERATE = Pattern.compile("Here is a situation: (.*)\nWrite one question in .*", Pattern.DOTALL);

    /** The question generated from {@code situation}, as an LLM might dress it: a heading, quotes, a second line. */
    static String generated(String situation) {
        String s = situation.strip();
        if (s.endsWith(".") || s.endsWith("!")) s = s.substring(0, s.length() - 1);
        return "## \"Should I " + Character.toLowerCase(s.charAt(0)) + s.substring(1) + ", or not?\"\nThis asks about values.";
    }

    private static boolean han(String lang) {
        return lang.startsWith("zh") || lang.startsWith("ja");
    }

    /** The test's translation of {@code text} from {@code source} into {@code target}. */
    static String translate(String text, String source, String target) {
        String en = toEnglish(text, source);
        if (target.equals("en")) return en;
        if (han(target)) {
            StringBuilder sb = new StringBuilder();
            for (char c : en.toCharArray()) sb.append(c >= 0x20 && c < 0x7F ? (char) (0x4E00 + c) : c);
            return sb.toString();
        }
        return "[" + target + "] " + en;
    }

    static String toEnglish(String text, String source) {
        if (source.equals("en")) return text;
        if (han(source)) {
            StringBuilder sb = new StringBuilder();
            for (char c : text.toCharArray()) sb.append(c >= 0x4E20 && c < 0x4E7F ? (char) (c - 0x4E00) : c);
            return sb.toString();
        }
        return text.replace("[" + source + "] ", "");
    }

    private void answer(HttpExchange ex, JsonObject req, String question) throws IOException {
        Matcher t = TRANSLATE.matcher(question), g = GENERATE.matcher(question);
        String content = t.matches() ? translate(t.group(3), t.group(1), t.group(2))
                : g.matches() ? generated(g.group(1)) : answers.answer(req.get("model").getAsString(), question);
        complete(ex, req, question, content);
    }

    private void complete(HttpExchange ex, JsonObject req, String question, String content) throws IOException {
        JsonObject message = new JsonObject();
        message.addProperty("role", "assistant");
        message.addProperty("content", content);
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
