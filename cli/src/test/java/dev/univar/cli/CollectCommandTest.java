package dev.univar.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.univar.cli.CollectTestServer.Fault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code univar collect} end to end against a real HTTP server on loopback that injects faults, through
 * {@link Main#run} or, for {@code kill -9} and the environment, a child JVM.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CollectCommandTest {
    @TempDir
    Path dir;


    static Run run(String... args) {
        return Run.of(args);
    }

    /** Every line of {@code file}, each required to be a complete JSON object. */
    static List<JsonObject> lines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(text.isEmpty() || text.endsWith("\n"), "output ends with a newline");
        List<JsonObject> out = new ArrayList<>();
        for (String line : text.split("\n")) if (!line.isEmpty()) out.add(JsonParser.parseString(line).getAsJsonObject());
        return out;
    }

    /** Asserts the output holds each of {@code expected} keys exactly once, with the server's answer. */
    static void assertExactlyOnce(List<JsonObject> lines, int expected) {
        Set<String> keys = new HashSet<>();
        for (JsonObject o : lines) {
            String key = o.get("model").getAsString() + "|" + o.get("question_id").getAsString() + "|"
                    + o.get("lang").getAsString() + "|" + o.get("sample").getAsInt();
            assertTrue(keys.add(key), "duplicate " + key);
            assertEquals("A:" + o.get("question").getAsString(), o.get("answer").getAsString());
        }
        assertEquals(expected, keys.size());
    }

    Path questionFile(int n) throws IOException {
        List<String> rows = new ArrayList<>();
        for (int i = 1; i <= n; i++)
            rows.add("{\"question_id\":\"q" + i + "\",\"lang\":\"en\",\"question\":\"Is value " + i + " important?\"}");
        return Files.write(dir.resolve("q" + n + ".jsonl"), rows, StandardCharsets.UTF_8);
    }

    String[] args(CollectTestServer server, String questions, Path output, String... more) {
        List<String> a = new ArrayList<>(List.of("collect", "--endpoint", server.baseUrl(), "--llm", "test-llm",
                "--questions", questions, "--output", output.toString(), "--retry-base-delay", "5ms"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void everyFaultIsRetriedAndEveryAnswerLandsExactlyOnce() throws Exception {
        Fault[] cycle = {Fault.NONE, Fault.SERVER_ERROR, Fault.SLOW, Fault.MALFORMED_JSON, Fault.DROP,
                Fault.DROP_MID_BODY, Fault.HTML, Fault.NO_CHOICES, Fault.RATE_LIMIT};
        // First request of a question: a fault picked by the question; the second sometimes another; then fine.
        try (CollectTestServer server = new CollectTestServer((q, attempt) -> {
            int h = Math.floorMod(q.hashCode(), 97);
            if (attempt == 1) return cycle[h % cycle.length];
            if (attempt == 2 && h % 3 == 0) return cycle[1 + h % (cycle.length - 2)];
            return Fault.NONE;
        })) {
            server.slowMillis = 1500;
            Path output = dir.resolve("pvq.jsonl");
            Run r = run(args(server, "pvq", output, "--samples", "2", "--concurrency", "8", "--timeout", "400ms"));
            assertEquals(0, r.exit(), r.err());
            List<JsonObject> lines = lines(output);
            assertExactlyOnce(lines, 21 * 3 * 2);
            for (Fault f : cycle) assertTrue(server.hits.stream().anyMatch(h -> h.fault() == f), "fault injected: " + f);
            JsonObject first = lines.getFirst();
            for (String field : List.of("question_id", "question", "answer", "model", "lang", "sample", "finish_reason", "usage", "timestamp"))
                assertTrue(first.has(field), field);
            assertEquals("stop", first.get("finish_reason").getAsString());
            assertEquals(3, first.getAsJsonObject("usage").get("completion_tokens").getAsInt());
            assertEquals(Set.of("en", "zh", "de"), Set.copyOf(lines.stream().map(o -> o.get("lang").getAsString()).toList()));
            assertFalse(Files.exists(output.resolveSibling("pvq.jsonl.failures.jsonl")));
            assertTrue(r.err().contains("126 answers collected"), r.err());

            // A rerun finds everything done and asks nothing.
            int before = server.requests();
            Run again = run(args(server, "pvq", output, "--samples", "2"));
            assertEquals(0, again.exit(), again.err());
            assertEquals(before, server.requests());
            assertTrue(again.err().contains("126 of 126 already there"), again.err());
            assertEquals(126, lines(output).size());
        }
    }

    @Test
    void retryAfterIsHonoured() throws Exception {
        Path questions = questionFile(4);
        try (CollectTestServer server = new CollectTestServer((q, a) -> a == 1 ? Fault.RATE_LIMIT : Fault.NONE)) {
            Path output = dir.resolve("out.jsonl");
            Run r = run(args(server, questions.toString(), output, "--concurrency", "4"));
            assertEquals(0, r.exit(), r.err());
            assertExactlyOnce(lines(output), 4);
            // The backoff alone would retry after milliseconds; the server asked for a second.
            for (int i = 1; i <= 4; i++) {
                var hits = server.hitsFor("Is value " + i + " important?");
                assertEquals(2, hits.size());
                long gap = hits.get(1).nanos() - hits.get(0).nanos();
                assertTrue(gap >= 950_000_000L, "retried " + gap / 1e6 + " ms after a 429 with Retry-After: 1");
            }
        }
    }

    @Test
    void persistentFailuresAreRecordedReportedAndRetriedByARerun() throws Exception {
        Path questions = questionFile(12);
        String broken = "Is value 7 important?";
        try (CollectTestServer server = new CollectTestServer((q, a) -> q.equals(broken) ? Fault.SERVER_ERROR : Fault.NONE)) {
            Path output = dir.resolve("out.jsonl");
            Run r = run(args(server, questions.toString(), output, "--max-attempts", "3", "--concurrency", "3"));
            assertEquals(1, r.exit(), r.err());
            assertEquals(3, server.hitsFor(broken).size(), "bounded attempts");
            assertExactlyOnce(lines(output), 11);
            Path failures = dir.resolve("out.jsonl.failures.jsonl");
            List<JsonObject> failed = lines(failures);
            assertEquals(1, failed.size());
            assertEquals("q7", failed.getFirst().get("question_id").getAsString());
            assertEquals("server_error", failed.getFirst().get("kind").getAsString());
            assertEquals(3, failed.getFirst().get("attempts").getAsInt());
            assertTrue(r.err().contains("1 answers failed after all retries (1 × server error)"), r.err());
            assertTrue(r.err().contains(failures.toString()), r.err());

            // A run stopped by an unreachable endpoint keeps the last run's failure list.
            Run down = run("collect", "--endpoint", "http://127.0.0.1:1/v1", "--llm", "test-llm", "--questions",
                    questions.toString(), "--output", output.toString());
            assertEquals(1, down.exit());
            assertTrue(down.err().contains("cannot reach"), down.err());
            assertEquals(1, lines(failures).size());

            server.script = (q, a) -> Fault.NONE;
            Run again = run(args(server, questions.toString(), output));
            assertEquals(0, again.exit(), again.err());
            assertExactlyOnce(lines(output), 12);
            assertFalse(Files.exists(failures), "a clean rerun removes the stale failure list");
        }
    }

    @Test
    void failuresAreListedAsTheyHappenNotOnlyAtTheEnd() throws Exception {
        Path questions = questionFile(4);
        try (CollectTestServer server = new CollectTestServer((q, a) -> switch (q) {
            case "Is value 2 important?" -> Fault.SERVER_ERROR;
            case "Is value 3 important?" -> Fault.BLOCK;
            default -> Fault.NONE;
        })) {
            Path output = dir.resolve("out.jsonl");
            Path failures = dir.resolve("out.jsonl.failures.jsonl");
            // One worker: q1 (the check), q2 fails for good, then q3 hangs until the test lets it go. The run gets a
            // thread of its own: in the common pool (one thread on a 2-core machine) it would starve the HTTP client.
            CompletableFuture<Run> running = new CompletableFuture<>();
            Thread.ofPlatform().daemon().start(() -> running.complete(run(args(server, questions.toString(),
                    output, "--concurrency", "1", "--max-attempts", "1", "--timeout", "40s"))));
            try {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (System.nanoTime() < deadline && !(Files.exists(failures) && Files.readString(failures).endsWith("\n")))
                    Thread.sleep(10);
                assertTrue(Files.exists(failures), "the failure is listed while the run is still going");
                assertFalse(running.isDone(), "the run is still going");
                List<JsonObject> mid = lines(failures);
                assertEquals(1, mid.size());
                assertEquals("q2", mid.getFirst().get("question_id").getAsString());
                assertEquals("server_error", mid.getFirst().get("kind").getAsString());
            } finally {
                server.release.countDown();
            }
            Run r = running.get(30, TimeUnit.SECONDS);
            assertEquals(1, r.exit(), r.err());
            assertExactlyOnce(lines(output), 3);
            assertEquals(1, lines(failures).size());
            assertTrue(r.err().contains("1 answers failed after all retries (1 × server error)"), r.err());
        }
    }

    @Test
    void aFailureListThatCannotBeWrittenStopsTheRunNamingFileAndReason() throws Exception {
        Path questions = questionFile(4);
        try (CollectTestServer server = new CollectTestServer((q, a) -> q.equals("Is value 2 important?") ? Fault.SERVER_ERROR : Fault.NONE)) {
            Path output = dir.resolve("out.jsonl");
            Path failures = Files.createDirectory(dir.resolve("out.jsonl.failures.jsonl"));
            Files.writeString(failures.resolve("keep"), "x");
            Run r = run(args(server, questions.toString(), output, "--concurrency", "1", "--max-attempts", "1"));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("univar collect: error: " + failures + ": cannot write the list of failed answers: is a directory"), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }

    @Test
    void aBrokenLastLineIsCutOffAndRedone() throws Exception {
        Path questions = questionFile(5);
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path output = dir.resolve("out.jsonl");
            assertEquals(0, run(args(server, questions.toString(), output)).exit());
            // What kill -9 in the middle of a write leaves: the last line without its end.
            String text = Files.readString(output);
            int cut = text.lastIndexOf('\n', text.length() - 2) + 1;
            Files.writeString(output, text.substring(0, cut + 25));
            assertFalse(Files.readString(output).endsWith("\n"));
            Run r = run(args(server, questions.toString(), output));
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.err().contains("cut off a broken last line"), r.err());
            assertExactlyOnce(lines(output), 5);
            assertEquals(6, server.requests(), "only the cut answer is asked again");

            // A bad line that is not the last is not a crash's doing: an error naming file and line.
            List<String> all = new ArrayList<>(Files.readAllLines(output));
            all.set(1, "{not json");
            Files.write(output, all);
            Run bad = run(args(server, questions.toString(), output));
            assertEquals(1, bad.exit());
            assertTrue(bad.err().contains(output + ":2: malformed JSON"), bad.err());
        }
    }

    @Test
    void killedWithSigkillMidRunThenRerunGivesACompleteCorpus() throws Exception {
        Path questions = questionFile(200);
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            server.latencyMillis = 25;
            Path output = dir.resolve("killed.jsonl");
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(List.of(args(server, questions.toString(), output, "--samples", "2", "--concurrency", "8")));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline && p.isAlive()
                    && (!Files.exists(output) || Files.size(output) < 60 * 100)) Thread.sleep(5);
            assertTrue(p.isAlive(), "the child was still running: " + Files.readString(dir.resolve("child.log")));
            p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no flush, no lock release by the JVM
            int linesAtKill = (int) Files.readString(output).chars().filter(c -> c == '\n').count();
            assertTrue(linesAtKill > 0 && linesAtKill < 400, "killed mid-run after " + linesAtKill + " lines");
            int requestsBefore = server.requests();

            Run r = run(args(server, questions.toString(), output, "--samples", "2", "--concurrency", "8"));
            assertEquals(0, r.exit(), r.err());
            List<JsonObject> lines = lines(output);
            assertExactlyOnce(lines, 400);
            // The rerun asked only for what was missing (plus a line cut by the kill, if any).
            int asked = server.requests() - requestsBefore;
            assertTrue(asked >= 400 - linesAtKill && asked <= 400 - linesAtKill + 1, "rerun asked " + asked);
        }
    }

    @Test
    void theApiKeyComesFromTheEnvironmentAndIsNeverWrittenOrLogged() throws Exception {
        String key = "sk-test-" + Long.toHexString(System.nanoTime()) + "SECRET";
        Path questions = questionFile(6);
        // The server echoes the key in error bodies, as some do: retried 500s and a refused (400) request.
        try (CollectTestServer server = new CollectTestServer((q, a) -> switch (q) {
            case "Is value 3 important?" -> Fault.ECHO_KEY_400;
            case "Is value 4 important?", "Is value 5 important?" -> a == 1 ? Fault.ECHO_KEY_500 : Fault.NONE;
            default -> Fault.NONE;
        })) {
            Path output = dir.resolve("keyed.jsonl");
            Path log = dir.resolve("child.log");
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(List.of(args(server, questions.toString(), output, "--api-key-env", "UNIVAR_TEST_KEY")));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("UNIVAR_TEST_KEY", key);
            pb.environment().put("UNIVAR_DEBUG", "1");
            Process p = pb.start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            String logText = Files.readString(log);
            assertEquals(1, p.exitValue(), logText);
            assertTrue(server.hits.stream().allMatch(h -> ("Bearer " + key).equals(h.authorization())), "key sent as a Bearer token");
            assertEquals(5, lines(output).size());
            Path failures = dir.resolve("keyed.jsonl.failures.jsonl");
            String failureText = Files.readString(failures);
            assertTrue(failureText.contains("[redacted]"), failureText);
            for (String written : List.of(Files.readString(output), failureText, logText))
                assertFalse(written.contains(key) || written.contains("SECRET"), "key leaked: " + written);
        }
    }

    @Test
    void anUnreachableEndpointFailsFastWithAClearMessage() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Run r = run("collect", "--endpoint", "http://127.0.0.1:" + port + "/v1", "--llm", "m", "--questions", "pvq",
                "--output", dir.resolve("x.jsonl").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("cannot reach http://127.0.0.1:" + port + "/v1/chat/completions: connection refused"), r.err());
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "fails fast");
        assertFalse(Files.exists(dir.resolve("x.jsonl")), "no empty output file left behind");
        r = run("collect", "--endpoint", "http://127.0.0.1:" + port + "/v1", "--llm", "m", "--questions", "pvq",
                "--output", dir.resolve("new/sub/y.jsonl").toString());
        assertEquals(1, r.exit());
        assertTrue(Files.isDirectory(dir.resolve("new/sub")), "missing directories of --output are created");
    }

    @Test
    void aServerThatIsNotOpenAiCompatibleStopsTheRunEarly() throws IOException {
        for (Fault fault : List.of(Fault.NOT_FOUND, Fault.HTML, Fault.NO_CHOICES, Fault.UNAUTHORIZED)) {
            try (CollectTestServer server = new CollectTestServer((q, a) -> fault)) {
                Run r = run(args(server, "controversial", dir.resolve(fault + ".jsonl"), "--concurrency", "8"));
                assertEquals(1, r.exit(), fault + ": " + r.err());
                String expected = switch (fault) {
                    case NOT_FOUND -> "answered 404 Not Found";
                    case UNAUTHORIZED -> "refused the request: 401 Unauthorized";
                    default -> "does not answer like an OpenAI chat-completions endpoint";
                };
                assertTrue(r.err().contains(expected), fault + ": " + r.err());
                assertTrue(server.requests() <= 3, fault + ": " + server.requests() + " requests before giving up");
                assertEquals(1, r.err().lines().filter(l -> l.contains("error:")).count(), r.err());
            }
        }
    }

    @Test
    void aRunThatWritesNoAnswerLeavesNoOutputFile() throws IOException {
        Path questions = questionFile(4);
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.UNAUTHORIZED)) {
            Path output = dir.resolve("refused.jsonl");
            Run r = run(args(server, questions.toString(), output));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("refused the request: 401 Unauthorized"), r.err());
            assertFalse(Files.exists(output), "no empty output file left behind");

            // An output file that was there before the run, even an empty one, stays.
            Path existing = Files.createFile(dir.resolve("existing.jsonl"));
            r = run(args(server, questions.toString(), existing));
            assertEquals(1, r.exit(), r.err());
            assertTrue(Files.exists(existing));
        }
        // Every request refused (400): the failures are listed, but there is no output without an answer.
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.ECHO_KEY_400)) {
            Path output = dir.resolve("rejected.jsonl");
            Run r = run(args(server, questions.toString(), output));
            assertEquals(1, r.exit(), r.err());
            assertFalse(Files.exists(output), "no empty output file left behind");
            assertEquals(3, lines(dir.resolve("rejected.jsonl.failures.jsonl")).size());
        }
    }

    @Test
    void aKeyRefusedMidRunStopsTheRunAndKeepsWhatWasAnswered() throws IOException {
        Path questions = questionFile(60);
        try (CollectTestServer server = new CollectTestServer((q, a) ->
                Integer.parseInt(q.replaceAll("\\D", "")) < 10 ? Fault.NONE : Fault.UNAUTHORIZED)) {
            Path output = dir.resolve("out.jsonl");
            Run r = run(args(server, questions.toString(), output, "--concurrency", "4"));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("refused the request: 401 Unauthorized"), r.err());
            int kept = lines(output).size();
            assertTrue(kept >= 1 && kept <= 9, kept + " lines");
            assertTrue(server.requests() < 30, server.requests() + " requests");
            assertFalse(Files.exists(dir.resolve("out.jsonl.failures.jsonl")), "stopped items are not failures of their own");
        }
    }

    @Test
    void aLongStreakOfFailedItemsStopsTheRun() throws IOException {
        Path questions = questionFile(100);
        try (CollectTestServer server = new CollectTestServer((q, a) -> q.equals("Is value 1 important?") ? Fault.NONE : Fault.SERVER_ERROR)) {
            Path output = dir.resolve("out.jsonl");
            Run r = run(args(server, questions.toString(), output, "--concurrency", "2", "--max-attempts", "2"));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("20 items in a row failed after all retries, stopping; last: server error: 500: 'internal error'"), r.err());
            assertTrue(server.requests() <= 1 + 2 * 22, server.requests() + " requests");
            int failed = lines(dir.resolve("out.jsonl.failures.jsonl")).size();
            assertTrue(failed >= 20 && failed <= 22, failed + " failures listed");
        }
    }

    @Test
    void badArgumentsGiveAClearMessageAndAFailingExitCode() throws IOException {
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path out = dir.resolve("o.jsonl");
            Run r = run(args(server, "nosuchset", out));
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("unknown question set 'nosuchset'; the bundled sets are controversial, uncontroversial, pvq"), r.err());

            r = run(args(server, "pvq", out, "--languages", "ja"));
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("question set 'pvq' has no language 'ja'; it has en, zh, de"), r.err());

            r = run(args(server, dir.resolve("missing.jsonl").toString(), out));
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("missing.jsonl: no such file"), r.err());

            r = run(args(server, "pvq", out, "--api-key-env", "UNIVAR_SURELY_UNSET_VAR"));
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("environment variable UNIVAR_SURELY_UNSET_VAR (--api-key-env) is not set"), r.err());

            r = run(args(server, "pvq", dir.resolve("o.csv")));
            assertEquals(2, r.exit()); // bad usage (was 1, against the README's promise of 2)
            assertTrue(r.err().contains("--output must end in .jsonl"), r.err());

            r = run(args(server, "pvq", out, "--timeout", "5 parsecs"));
            assertEquals(2, r.exit());
            assertTrue(r.err().contains("invalid duration"), r.err());

            r = run("collect", "--endpoint", "localhost:8000", "--llm", "m", "--questions", "pvq", "--output", out.toString());
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("invalid --endpoint"), r.err());
            assertEquals(0, server.requests());
        }
    }

    /** q4, q8: an endless chunked body; q3, q6, q9: a body larger than the cap; the rest answered. */
    static Fault oversized(String q, int attempt) {
        return switch (q) {
            case "Is value 4 important?", "Is value 8 important?" -> Fault.ENDLESS;
            case "Is value 3 important?", "Is value 6 important?", "Is value 9 important?" -> Fault.OVERSIZE;
            default -> Fault.NONE;
        };
    }

    @Test
    void oversizeAndEndlessResponsesAreCappedAndRecordedAsFailures() throws Exception {
        Path questions = questionFile(12);
        try (CollectTestServer server = new CollectTestServer(CollectCommandTest::oversized)) {
            Path output = dir.resolve("out.jsonl");
            Run r = run(args(server, questions.toString(), output, "--concurrency", "4", "--timeout", "20s"));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("7 answers collected"), r.err());
            assertTrue(r.err().contains("5 answers failed after all retries (5 × response too large)"), r.err());
            assertExactlyOnce(lines(output), 7);
            List<JsonObject> failed = lines(dir.resolve("out.jsonl.failures.jsonl"));
            assertEquals(Set.of("q3", "q4", "q6", "q8", "q9"),
                    Set.copyOf(failed.stream().map(o -> o.get("question_id").getAsString()).toList()));
            for (JsonObject f : failed) {
                assertEquals("too_large", f.get("kind").getAsString());
                assertEquals("response larger than 8388608 bytes (--max-response-bytes)", f.get("reason").getAsString());
                assertEquals(1, f.get("attempts").getAsInt(), "an over-size answer is not asked again");
            }
            // The client hung up near the cap instead of reading on: far less than the endless body's bound.
            assertTrue(server.maxStreamed.get() < (8L << 20) + (48L << 20), server.maxStreamed.get() + " bytes streamed");

            // A smaller cap: a normal answer (a few hundred bytes) still fits.
            Path small = dir.resolve("small.jsonl");
            r = run(args(server, questions.toString(), small, "--max-response-bytes", "4096"));
            assertEquals(1, r.exit(), r.err());
            assertExactlyOnce(lines(small), 7);
            for (JsonObject f : lines(dir.resolve("small.jsonl.failures.jsonl")))
                assertEquals("response larger than 4096 bytes (--max-response-bytes)", f.get("reason").getAsString());
        }
    }

    @Test
    void endlessBodiesKeepMemoryBoundedInASmallHeap() throws Exception {
        // Without a cap one endless body fills any heap; with the default 8 MiB cap, 4 workers fit in 128 MiB.
        Path questions = questionFile(16);
        try (CollectTestServer server = new CollectTestServer((q, a) -> q.equals("Is value 1 important?") ? Fault.NONE
                : Integer.parseInt(q.replaceAll("\\D", "")) % 2 == 0 ? Fault.ENDLESS : Fault.OVERSIZE)) {
            server.oversizeBytes = 64L << 20;
            Path output = dir.resolve("big.jsonl");
            Path log = dir.resolve("child.log");
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(List.of(args(server, questions.toString(), output, "--concurrency", "4", "--timeout", "20s")));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean ended = p.waitFor(45, TimeUnit.SECONDS);
            if (!ended) p.destroyForcibly().waitFor();
            String logText = Files.readString(log);
            assertTrue(ended, "the run ended: " + logText);
            assertEquals(1, p.exitValue(), logText);
            assertFalse(logText.contains("OutOfMemoryError"), logText);
            assertTrue(logText.contains("15 answers failed after all retries (15 × response too large)"), logText);
            assertEquals(1, lines(output).size());
            assertEquals(15, lines(dir.resolve("big.jsonl.failures.jsonl")).size());
        }
    }

    @Test
    void outOfRangeOptionsAreUsageErrorsBeforeAnyWork() throws IOException {
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path out = dir.resolve("sub/o.jsonl");
            String[][] cases = {
                    {"--concurrency", "0", "--concurrency must be between 1 and 256, got 0"},
                    {"--concurrency", "100000", "--concurrency must be between 1 and 256, got 100000"},
                    {"--samples", "0", "--samples must be between 1 and 100000, got 0"},
                    {"--max-tokens", "0", "--max-tokens must be between 1 and 1048576, got 0"},
                    {"--max-attempts", "0", "--max-attempts must be between 1 and 100, got 0"},
                    {"--max-response-bytes", "0", "--max-response-bytes must be between 1024 and 1073741824, got 0"},
                    {"--temperature", "-0.5", "--temperature must be between 0 and 2, got -0.5"},
                    {"--temperature", "NaN", "--temperature must be between 0 and 2, got NaN"},
            };
            for (String[] c : cases) {
                // An unknown question set too: the options are checked before anything is loaded or opened.
                Run r = run(args(server, "nosuchset", out, c[0], c[1]));
                assertEquals(2, r.exit(), String.join(" ", c) + ": " + r.err());
                assertEquals("univar collect: error: " + c[2], r.err().lines().findFirst().orElse(""), r.err());
                assertFalse(r.err().contains("nosuchset"), r.err());
                assertFalse(r.err().contains("Exception"), r.err());
            }
            assertFalse(Files.exists(dir.resolve("sub")), "nothing created");
            assertEquals(0, server.requests());
        }
    }

    @Test
    void ownQuestionsFromCsvWithSystemPrompt() throws IOException {
        Path csv = Files.writeString(dir.resolve("mine.csv"), "question_id,lang,question\n"
                + "a,en,\"Should we help strangers?\"\n" + "a,de,\"Sollten wir Fremden helfen?\"\n"
                + "b,en,\"Is tradition\nimportant?\"\n");
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path out = dir.resolve("mine.jsonl");
            Run r = run(args(server, csv.toString(), out, "--languages", "en", "--system-prompt", "Answer briefly."));
            assertEquals(0, r.exit(), r.err());
            List<JsonObject> lines = lines(out);
            assertExactlyOnce(lines, 2);
            assertEquals(Set.of("a", "b"), Set.copyOf(lines.stream().map(o -> o.get("question_id").getAsString()).toList()));
            assertTrue(server.hits.stream().allMatch(h -> "Answer briefly.".equals(h.system())));
            assertTrue(server.hits.stream().allMatch(h -> h.authorization() == null || System.getenv("OPENAI_API_KEY") != null),
                    "no key, no Authorization header");
        }
    }
}
