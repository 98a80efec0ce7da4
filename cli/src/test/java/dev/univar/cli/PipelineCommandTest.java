package dev.univar.cli;

import com.google.gson.JsonObject;
import dev.univar.cli.CollectTestServer.Fault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static dev.univar.cli.CollectCommandTest.lines;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The paper's data pipeline, {@code questions generate} → {@code translate} → {@code collect} → {@code translate}
 * back, against the fault-injecting loopback server: exactly once under faults and {@code kill -9}, resume, failure
 * lists, ids and languages carried through every step, and the recipe end to end into {@code train} and
 * {@code eval}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PipelineCommandTest {
    @TempDir
    Path dir;

    static Run run(String... args) {
        return Run.of(args);
    }

    static String[] chat(CollectTestServer server, String llm, String... rest) {
        List<String> a = new ArrayList<>(List.of(rest));
        a.addAll(List.of("--endpoint", server.baseUrl(), "--llm", llm, "--retry-base-delay", "5ms"));
        return a.toArray(String[]::new);
    }

    /** {@code n} situations as JSONL, ids sit-1 … and values; situation i is about "task i". */
    Path situations(int n) throws IOException {
        List<String> rows = new ArrayList<>();
        for (int i = 1; i <= n; i++)
            rows.add("{\"id\":\"sit-" + i + "\",\"value\":\"value " + (i % 3) + "\",\"situation\":\"Leave task " + i + " unfinished to help a friend.\"}");
        return Files.write(dir.resolve("situations" + n + ".jsonl"), rows, StandardCharsets.UTF_8);
    }

    /** English questions q1… as a question file. */
    Path questions(int n) throws IOException {
        List<String> rows = new ArrayList<>();
        for (int i = 1; i <= n; i++)
            rows.add("{\"question_id\":\"q" + i + "\",\"question\":\"Should I keep promise " + i + ", or not?\",\"lang\":\"en\",\"question_group\":\"g" + (i % 4) + "\",\"value\":\"v" + i + "\"}");
        return Files.write(dir.resolve("questions" + n + ".jsonl"), rows, StandardCharsets.UTF_8);
    }

    /** Each key once: fails on a duplicate; returns the keys. */
    static Set<String> assertUnique(List<JsonObject> lines, Function<JsonObject, String> key) {
        Set<String> keys = new HashSet<>();
        for (JsonObject o : lines) assertTrue(keys.add(key.apply(o)), "duplicate " + key.apply(o));
        return keys;
    }

    static String s(JsonObject o, String field) {
        return o.get(field).isJsonNull() ? null : o.get(field).getAsString();
    }

    static String translationKey(JsonObject o, String field) {
        return (o.has("model") ? s(o, "model") : "") + "|" + s(o, "question_id") + "|" + s(o, field + "_original_lang")
                + "|" + (o.has("sample") ? s(o, "sample") : "") + "|" + s(o, field + "_lang");
    }

    // ---------------------------------------------------------------------------------------- questions generate

    @Test
    void generateCleansDropsNearDuplicatesAndKeepsIdsAcrossReruns() throws IOException {
        Path sit = Files.writeString(dir.resolve("sit.csv"), """
                id,value,situation
                ben-1,benevolence,Help a stranger who dropped their groceries.
                ben-2,benevolence,help a stranger who dropped their GROCERIES!
                ,tradition,"Skip a family dinner
                to finish work."
                """);
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path out = dir.resolve("q.jsonl");
            Run r = run(chat(server, "gen-llm", "questions", "generate", "--situations", sit.toString(), "--per-situation", "2",
                    "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals(6, server.requests());
            List<JsonObject> qs = lines(out);
            // Every sample of a situation came back the same, and ben-2's question is ben-1's but for case and '!'.
            assertEquals(2, qs.size(), qs.toString());
            assertTrue(r.err().contains("wrote 2 questions to " + out + " (4 near-duplicates left out)"), r.err());
            JsonObject first = qs.getFirst();
            assertEquals("ben-1-0", s(first, "question_id"));
            assertEquals("Should I help a stranger who dropped their groceries, or not?", s(first, "question"), "first line, no '##', no quotes");
            assertEquals("en", s(first, "lang"));
            assertEquals("ben-1", s(first, "question_group"));
            assertEquals("benevolence", s(first, "value"));
            assertEquals("Help a stranger who dropped their groceries.", s(first, "situation"));
            assertEquals("gen-llm", s(first, "generator"));
            assertEquals("s3-0", s(qs.get(1), "question_id"), "no id: s<record>");
            assertEquals("Should I skip a family dinner to finish work, or not?", s(qs.get(1), "question"), "a situation is one line");
            assertTrue(server.hits.getFirst().question().startsWith("Here is a situation: Help a stranger"), "the default prompt");
            assertTrue(server.hits.getFirst().question().contains("should or should not"), server.hits.getFirst().question());
            assertEquals(6, lines(dir.resolve("q.jsonl.raw.jsonl")).size());

            // A rerun asks nothing and writes the same file.
            String before = Files.readString(out);
            r = run(chat(server, "gen-llm", "questions", "generate", "--situations", sit.toString(), "--per-situation", "2",
                    "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals(6, server.requests());
            assertEquals(before, Files.readString(out));
            assertTrue(r.err().contains("(6 of 6 already there"), r.err());

            // More samples: only the new ones are asked, and the ids stay.
            r = run(chat(server, "gen-llm", "questions", "generate", "--situations", sit.toString(), "--per-situation", "3",
                    "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals(9, server.requests());
            List<JsonObject> again = lines(out);
            assertEquals(List.of("ben-1-0", "s3-0"), again.stream().map(o -> s(o, "question_id")).toList());
        }
    }

    @Test
    void generateUnderFaultsWritesEachQuestionOnceAndListsFailures() throws IOException {
        Path sit = situations(30);
        Fault[] cycle = {Fault.NONE, Fault.SERVER_ERROR, Fault.DROP, Fault.MALFORMED_JSON, Fault.EMPTY, Fault.ECHO, Fault.DROP_MID_BODY};
        try (CollectTestServer server = new CollectTestServer((q, a) -> {
            if (q.contains("task 7 ")) return Fault.EMPTY; // never usable: fails after all attempts
            return a == 1 ? cycle[Math.floorMod(q.hashCode(), cycle.length)] : Fault.NONE;
        })) {
            Path out = dir.resolve("q.jsonl"), raw = dir.resolve("q.jsonl.raw.jsonl"), failures = dir.resolve("q.jsonl.failures.jsonl");
            Run r = run(chat(server, "gen", "questions", "generate", "--situations", sit.toString(), "--output", out.toString(),
                    "--concurrency", "8", "--max-attempts", "3", "--timeout", "1s")); // a body cut short waits for the timeout
            assertEquals(1, r.exit(), r.err());
            for (Fault f : cycle) assertTrue(server.hits.stream().anyMatch(h -> h.fault() == f), "fault injected: " + f);
            Set<String> keys = assertUnique(lines(raw), o -> s(o, "situation_id") + "|" + s(o, "sample"));
            assertEquals(29, keys.size());
            List<JsonObject> failed = lines(failures);
            assertEquals(1, failed.size());
            assertEquals("sit-7", s(failed.getFirst(), "situation_id"));
            assertEquals("unusable", s(failed.getFirst(), "kind"));
            assertEquals(3, failed.getFirst().get("attempts").getAsInt());
            assertTrue(r.err().contains("1 questions failed after all retries (1 × unusable answer)"), r.err());
            List<JsonObject> qs = lines(out);
            assertEquals(29, qs.size(), "what was generated is written");
            for (JsonObject o : qs)
                assertEquals("Should I leave task " + s(o, "situation_id").substring(4) + " unfinished to help a friend, or not?", s(o, "question"),
                        "no echoed prompt or empty answer was taken");

            // The server recovers: the rerun asks only for sit-7, and the list is gone.
            server.script = (q, a) -> Fault.NONE;
            int before = server.requests();
            r = run(chat(server, "gen", "questions", "generate", "--situations", sit.toString(), "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals(before + 1, server.requests());
            assertEquals(30, assertUnique(lines(raw), o -> s(o, "situation_id") + "|" + s(o, "sample")).size());
            assertEquals(30, lines(out).size());
            assertEquals("sit-7-0", s(lines(out).get(6), "question_id"), "situation order, not arrival order");
            assertFalse(Files.exists(failures));
        }
    }

    // ---------------------------------------------------------------------------------------------- translate

    @Test
    void translateKeepsIdsAndOriginalsAndRetriesUnusableTranslations() throws IOException {
        Path in = questions(5);
        try (CollectTestServer server = new CollectTestServer((q, a) -> {
            if (q.contains("promise 4") && q.contains("(ja)")) return Fault.ECHO; // always: listed as failed
            if (a > 1) return Fault.NONE;
            if (q.contains("promise 1") && q.contains("(zh)")) return Fault.WRONG_SCRIPT;
            if (q.contains("promise 2") && q.contains("(de)")) return Fault.ECHO;
            if (q.contains("promise 3") && q.contains("(ja)")) return Fault.EMPTY;
            return Fault.NONE;
        })) {
            Path out = dir.resolve("multi.jsonl");
            Run r = run(chat(server, "mt", "translate", "--input", in.toString(), "--to", "en,zh,de,ja", "--output", out.toString(),
                    "--max-attempts", "3"));
            assertEquals(1, r.exit(), r.err());
            assertEquals(5 * 3 + 3 + 2, server.requests(), "en is copied; three retries; two more for the echo");
            List<JsonObject> rows = lines(out);
            assertUnique(rows, o -> translationKey(o, "question"));
            assertEquals(5 * 4 - 1, rows.size());
            for (JsonObject o : rows) {
                String id = s(o, "question_id"), lang = s(o, "lang"), english = "Should I keep promise " + id.substring(1) + ", or not?";
                assertEquals(lang, s(o, "question_lang"));
                assertEquals("en", s(o, "question_original_lang"));
                assertEquals(english, s(o, "question_original"));
                assertEquals(CollectTestServer.translate(english, "en", lang), s(o, "question"), lang);
                assertEquals("v" + id.substring(1), s(o, "value"), "the row's other fields are kept");
                assertEquals("g" + Integer.parseInt(id.substring(1)) % 4, s(o, "question_group"));
                assertEquals(lang.equals("en") ? null : "mt", s(o, "translator"));
            }
            List<JsonObject> failed = lines(dir.resolve("multi.jsonl.failures.jsonl"));
            assertEquals(1, failed.size());
            JsonObject f = failed.getFirst();
            assertEquals(List.of("q4", "en", "ja", "unusable", "the translation repeats the source text"),
                    List.of(s(f, "question_id"), s(f, "lang"), s(f, "to"), s(f, "kind"), s(f, "reason")));
            assertTrue(r.err().contains("1 translations failed after all retries (1 × unusable answer)"), r.err());
            assertTrue(server.hitsFor(server.hits.stream().filter(h -> h.question().contains("promise 1") && h.question().contains("(zh)"))
                    .findFirst().orElseThrow().question()).size() == 2, "the Latin 'Chinese' was asked again");

            // The rerun asks only the failed one; collect reads the file as its questions, in every language.
            server.script = (q, a) -> Fault.NONE;
            r = run(chat(server, "mt", "translate", "--input", in.toString(), "--to", "en,zh,de,ja", "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals(20, assertUnique(lines(out), o -> translationKey(o, "question")).size());
            Path corpus = dir.resolve("answers.jsonl");
            r = run(chat(server, "llm", "collect", "--questions", out.toString(), "--output", corpus.toString()));
            assertEquals(0, r.exit(), r.err());
            List<JsonObject> answers = lines(corpus);
            assertEquals(20, answers.size());
            assertEquals(Set.of("en", "zh", "de", "ja"), Set.copyOf(answers.stream().map(o -> s(o, "lang")).toList()));
            assertEquals(5, answers.stream().map(o -> s(o, "question_id")).distinct().count(), "translations share their question's id");
        }
    }

    @Test
    void translateChecksItsArgumentsAndInputBeforeAnyRequest() throws IOException {
        Path in = questions(3);
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path out = dir.resolve("t.jsonl");
            String[][] usage = {
                    {"--to", "zh/Hant", "--to: 'zh/Hant' is not a BCP 47 tag"},
                    {"--field", "text", "--field must be question or answer, got 'text'"},
                    {"--from", "e n", "--from must be a BCP 47 tag"},
                    {"--temperature", "3", "--temperature must be between 0 and 2, got 3"},
            };
            for (String[] c : usage) {
                List<String> a = new ArrayList<>(List.of(chat(server, "mt", "translate", "--input", in.toString(), "--output", out.toString())));
                if (!c[0].equals("--to")) a.addAll(List.of("--to", "zh"));
                a.addAll(List.of(c[0], c[1]));
                Run r = run(a.toArray(String[]::new));
                assertEquals(2, r.exit(), r.err());
                assertTrue(r.err().startsWith("univar translate: error: " + c[2]), r.err());
            }
            Run r = run(chat(server, "mt", "translate", "--input", in.toString(), "--to", "zh", "--output", in.toString()));
            assertEquals(2, r.exit(), r.err());
            assertTrue(r.err().contains("is the input"), r.err());
            r = run(chat(server, "mt", "translate", "--input", in.toString(), "--to", "zh", "--output", dir.resolve("t.csv").toString()));
            assertEquals(2, r.exit(), r.err());

            Path noLang = Files.writeString(dir.resolve("nolang.csv"), "question_id,question\na,Is it fair?\n");
            r = run(chat(server, "mt", "translate", "--input", noLang.toString(), "--to", "zh", "--output", out.toString()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(noLang + ":2: no column 'lang': give --from"), r.err());
            Path dup = Files.writeString(dir.resolve("dup.jsonl"), "{\"question_id\":\"a\",\"question\":\"x\",\"lang\":\"en\"}\n"
                    + "{\"question_id\":\"a\",\"question\":\"y\",\"lang\":\"en\"}\n");
            r = run(chat(server, "mt", "translate", "--input", dup.toString(), "--to", "zh", "--output", out.toString()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(dup + ":2: same ids as line 1"), r.err());
            assertEquals(0, server.requests());
            assertFalse(Files.exists(out));

            // --from picks the rows in one language; rows without 'lang' are in it.
            r = run(chat(server, "mt", "translate", "--input", noLang.toString(), "--from", "en", "--to", "de", "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals("[de] Is it fair?", s(lines(out).getFirst(), "question"));
        }
    }

    @Test
    void generateChecksItsArgumentsAndInput() throws IOException {
        try (CollectTestServer server = new CollectTestServer((q, a) -> Fault.NONE)) {
            Path out = dir.resolve("g.jsonl");
            Path sit = situations(2);
            Run r = run(chat(server, "g", "questions", "generate", "--situations", sit.toString(), "--per-situation", "0", "--output", out.toString()));
            assertEquals(2, r.exit(), r.err());
            assertTrue(r.err().contains("--per-situation must be between 1 and 1000, got 0"), r.err());
            r = run(chat(server, "g", "questions", "generate", "--situations", sit.toString(), "--lang", "x/y", "--output", out.toString()));
            assertEquals(2, r.exit(), r.err());
            Path bad = Files.writeString(dir.resolve("bad.csv"), "id,text\na,b\n");
            r = run(chat(server, "g", "questions", "generate", "--situations", bad.toString(), "--output", out.toString()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(bad + ":1: no column 'situation'"), r.err());
            Path dup = Files.writeString(dir.resolve("dup.csv"), "id,situation\na,x\na,y\n");
            r = run(chat(server, "g", "questions", "generate", "--situations", dup.toString(), "--output", out.toString()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(dup + ":3: duplicate id 'a' (first on line 2)"), r.err());
            Path template = Files.writeString(dir.resolve("t.txt"), "Ask about {value}.");
            r = run(chat(server, "g", "questions", "generate", "--situations", sit.toString(), "--prompt-template", template.toString(), "--output", out.toString()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(template + ": the prompt template has no {situation}"), r.err());
            assertEquals(0, server.requests());

            // A template of one's own: {value} filled from the row.
            Files.writeString(template, "Here is a situation: {situation} ({value})\nWrite one question in {language}.");
            r = run(chat(server, "g", "questions", "generate", "--situations", sit.toString(), "--prompt-template", template.toString(), "--output", out.toString()));
            assertEquals(0, r.exit(), r.err());
            assertEquals("Here is a situation: Leave task 1 unfinished to help a friend. (value 1)\nWrite one question in English.",
                    server.hits.getFirst().question());
        }
    }

    // ----------------------------------------------------------------------------------------------- kill -9

    /** Starts {@code univar args…} in a child JVM, SIGKILLs it once {@code file} has {@code lines} lines; returns the count then. */
    int killMidRun(Path file, int lines, int total, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline && p.isAlive() && count(file) < lines) Thread.sleep(5);
        assertTrue(p.isAlive(), "the child was still running: " + Files.readString(log));
        p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no flush, no lock release by the JVM
        int atKill = count(file);
        assertTrue(atKill > 0 && atKill < total, "killed mid-run after " + atKill + " lines");
        return atKill;
    }

    private static int count(Path file) throws IOException {
        return Files.exists(file) ? (int) Files.readString(file).chars().filter(c -> c == '\n').count() : 0;
    }

    /** First requests of a prompt fail in turns (transport faults, and unusable answers where they can be seen). */
    static CollectTestServer.Script firstAttemptFaults(Fault... faults) {
        return (q, a) -> a == 1 ? faults[Math.floorMod(q.hashCode(), faults.length)] : Fault.NONE;
    }

    @Test
    void translateKilledWithSigkillUnderFaultsThenRerunTranslatesEachRowOnce() throws Exception {
        Path in = questions(120);
        try (CollectTestServer server = new CollectTestServer(firstAttemptFaults(Fault.NONE, Fault.NONE, Fault.SERVER_ERROR,
                Fault.DROP, Fault.EMPTY, Fault.WRONG_SCRIPT, Fault.ECHO))) {
            server.latencyMillis = 20;
            Path out = dir.resolve("killed.jsonl");
            String[] args = chat(server, "mt", "translate", "--input", in.toString(), "--to", "zh,de,ja", "--output", out.toString(),
                    "--concurrency", "8");
            int atKill = killMidRun(out, 60, 360, args);
            int hitsBefore = server.requests();
            Run r = run(args);
            assertEquals(0, r.exit(), r.err());
            List<JsonObject> rows = lines(out);
            assertEquals(360, assertUnique(rows, o -> translationKey(o, "question")).size());
            for (JsonObject o : rows)
                assertEquals(CollectTestServer.translate(s(o, "question_original"), "en", s(o, "lang")), s(o, "question"));
            long asked = server.hits.subList(hitsBefore, server.requests()).stream().map(CollectTestServer.Hit::question).distinct().count();
            assertTrue(asked >= 360 - atKill && asked <= 360 - atKill + 1, "rerun asked " + asked + " of " + (360 - atKill) + " missing");
            System.out.printf("translate kill -9: %d of 360 lines at the kill, rerun asked %d distinct prompts, %d requests in all, "
                    + "%d with a fault; 360 unique lines%n", atKill, asked, server.requests(),
                    server.hits.stream().filter(h -> h.fault() != Fault.NONE).count());
        }
    }

    @Test
    void generateKilledWithSigkillThenRerunWritesEachQuestionOnce() throws Exception {
        Path sit = situations(150);
        try (CollectTestServer server = new CollectTestServer(firstAttemptFaults(Fault.NONE, Fault.NONE, Fault.SERVER_ERROR,
                Fault.MALFORMED_JSON, Fault.EMPTY, Fault.ECHO))) {
            server.latencyMillis = 20;
            Path out = dir.resolve("q.jsonl"), raw = dir.resolve("q.jsonl.raw.jsonl");
            String[] args = chat(server, "gen", "questions", "generate", "--situations", sit.toString(), "--output", out.toString(),
                    "--concurrency", "8");
            int atKill = killMidRun(raw, 30, 150, args);
            assertFalse(Files.exists(out), "the questions file is written whole, at the end");
            Run r = run(args);
            assertEquals(0, r.exit(), r.err());
            assertEquals(150, assertUnique(lines(raw), o -> s(o, "situation_id") + "|" + s(o, "sample")).size());
            List<JsonObject> qs = lines(out);
            assertEquals(150, assertUnique(qs, o -> s(o, "question_id")).size());
            for (int i = 0; i < 150; i++) assertEquals("sit-" + (i + 1) + "-0", s(qs.get(i), "question_id"));
            System.out.printf("generate kill -9: %d of 150 raw lines at the kill, %d requests in all, %d with a fault; 150 unique questions%n",
                    atKill, server.requests(), server.hits.stream().filter(h -> h.fault() != Fault.NONE).count());
        }
    }

    // ------------------------------------------------------------------------------------------------ the recipe

    /** Faults on the first request of each prompt, of the kinds each step can meet (and, where it can, detect). */
    static Fault recipeFault(String prompt, int attempt) {
        if (attempt > 1) return Fault.NONE;
        Fault[] kinds = CollectTestServer.TRANSLATE.matcher(prompt).matches()
                ? new Fault[]{Fault.NONE, Fault.NONE, Fault.SERVER_ERROR, Fault.EMPTY, Fault.WRONG_SCRIPT, Fault.ECHO, Fault.DROP}
                : CollectTestServer.GENERATE.matcher(prompt).matches()
                ? new Fault[]{Fault.NONE, Fault.SERVER_ERROR, Fault.EMPTY, Fault.ECHO, Fault.MALFORMED_JSON}
                : new Fault[]{Fault.NONE, Fault.NONE, Fault.SERVER_ERROR, Fault.DROP, Fault.MALFORMED_JSON, Fault.HTML};
        return kinds[Math.floorMod(prompt.hashCode(), kinds.length)];
    }

    /** Runs one step of the recipe, checks it succeeded, and says what the server saw. */
    private Run step(CollectTestServer server, String name, Path output, String... args) throws IOException {
        int before = server.requests();
        Run r = run(args);
        assertEquals(0, r.exit(), name + ": " + r.err());
        var hits = server.hits.subList(before, server.requests());
        System.out.printf("recipe %-18s %3d lines, %3d requests (%d distinct prompts), %2d with a fault%n", name + ":",
                lines(output).size(), hits.size(), hits.stream().map(CollectTestServer.Hit::question).distinct().count(),
                hits.stream().filter(h -> h.fault() != Fault.NONE).count());
        return r;
    }

    @Test
    void theRecipeRunsEndToEndUnderFaultsIntoTrainAndEval() throws Exception {
        AnalysisFixtures.setUpHome(); // MiniLM's tokenizer.json, for a tiny random encoder
        Path sit = situations(10);
        try (CollectTestServer server = new CollectTestServer(PipelineCommandTest::recipeFault)) {
            server.answers = (model, q) -> (model.equals("llm-a") ? "I agree. " : "I disagree. ") + q;
            // 1. situations -> English questions.
            Path questions = dir.resolve("questions.jsonl");
            step(server, "generate", questions, chat(server, "gen-llm", "questions", "generate", "--situations", sit.toString(),
                    "--output", questions.toString(), "--concurrency", "4"));
            Map<String, String> english = new HashMap<>();
            for (JsonObject o : lines(questions)) english.put(s(o, "question_id"), s(o, "question"));
            assertEquals(10, english.size());
            // 2. questions -> the same questions in en, zh, de (en copied).
            Path multi = dir.resolve("questions-multi.jsonl");
            step(server, "translate out", multi, chat(server, "mt-llm", "translate", "--input", questions.toString(),
                    "--to", "en,zh,de", "--output", multi.toString()));
            assertEquals(30, assertUnique(lines(multi), o -> translationKey(o, "question")).size());
            // 3. two LLMs answer in every language, into one corpus.
            Path corpus = dir.resolve("corpus.jsonl");
            for (String llm : List.of("llm-a", "llm-b"))
                step(server, "collect " + llm, corpus, chat(server, llm, "collect", "--questions", multi.toString(), "--output", corpus.toString()));
            List<JsonObject> answers = lines(corpus);
            assertEquals(60, assertUnique(answers, o -> s(o, "model") + "|" + s(o, "question_id") + "|" + s(o, "lang") + "|" + s(o, "sample")).size());
            // 4. answers, then questions, back to English; lang keeps naming the key.
            Path answersEn = dir.resolve("corpus-answers-en.jsonl"), corpusEn = dir.resolve("corpus-en.jsonl");
            step(server, "answers to en", answersEn, chat(server, "mt-llm", "translate", "--input", corpus.toString(), "--field", "answer",
                    "--to", "en", "--output", answersEn.toString()));
            step(server, "questions to en", corpusEn, chat(server, "mt-llm", "translate", "--input", answersEn.toString(), "--field", "question",
                    "--to", "en", "--output", corpusEn.toString()));
            List<JsonObject> rows = lines(corpusEn);
            assertEquals(60, assertUnique(rows, o -> s(o, "model") + "|" + s(o, "question_id") + "|" + s(o, "lang") + "|" + s(o, "sample")).size());
            Map<String, Integer> perKey = new HashMap<>();
            for (JsonObject o : rows) {
                String lang = s(o, "lang"), q = english.get(s(o, "question_id"));
                assertNotNull(q, "the id of a generated question: " + o);
                assertTrue(Set.of("en", "zh", "de").contains(lang), lang);
                assertEquals(lang, s(o, "answer_original_lang"));
                assertEquals(lang, s(o, "question_original_lang"));
                assertEquals("en", s(o, "answer_lang"));
                assertEquals(q, s(o, "question"), "the question back in English");
                String stance = s(o, "model").equals("llm-a") ? "I agree. " : "I disagree. ";
                assertEquals(stance + q, s(o, "answer"), "the answer back in English");
                assertEquals(stance + CollectTestServer.translate(q, "en", lang), s(o, "answer_original"), "the answer as given");
                perKey.merge(s(o, "model") + "/" + lang, 1, Integer::sum);
            }
            assertEquals(Map.of("llm-a/en", 10, "llm-a/zh", 10, "llm-a/de", 10, "llm-b/en", 10, "llm-b/zh", 10, "llm-b/de", 10), perKey);
        }
        // 5. train a tiny random encoder for a couple of steps, then identify keys, LLMs and languages.
        Path tokenizer = Path.of(System.getProperty("univar.home"), "models", "all-minilm-l6-v2", "tokenizer.json");
        Path corpusEn = dir.resolve("corpus-en.jsonl"), tiny = dir.resolve("tiny"), trained = dir.resolve("trained");
        Run r = run("init", "--tokenizer", tokenizer.toString(), "--layers", "1", "--hidden", "16", "--heads", "2", "--output", tiny.toString());
        assertEquals(0, r.exit(), r.err());
        r = run("train", "--corpus", corpusEn.toString(), "--base", tiny.toString(), "--output", trained.toString(), "--steps", "2",
                "--batch-size", "4", "--max-length", "32", "--lambda-max", "2", "--warmup", "1", "--save-every", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("6 keys") || r.out().contains("6 keys") || Files.exists(trained.resolve("model.safetensors")), r.err());
        for (String label : List.of("model-lang", "model", "lang")) {
            Path json = dir.resolve("eval-" + label + ".json");
            r = run("eval", "--corpus", corpusEn.toString(), "--model", trained.toString(), "--label", label, "--knn", "5",
                    "--max-length", "32", "--output", json.toString());
            assertEquals(0, r.exit(), label + ": " + r.err());
            JsonObject e = com.google.gson.JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            List<String> keys = e.getAsJsonArray("keys").asList().stream().map(com.google.gson.JsonElement::getAsString).toList();
            assertEquals(switch (label) {
                case "model-lang" -> List.of("llm-a/de", "llm-a/en", "llm-a/zh", "llm-b/de", "llm-b/en", "llm-b/zh");
                case "model" -> List.of("llm-a", "llm-b");
                default -> List.of("de", "en", "zh");
            }, keys);
        }
        Path html = dir.resolve("report.html");
        r = run("report", "--corpus", corpusEn.toString(), "--model", trained.toString(), "--label", "model-lang", "--knn", "5",
                "--max-length", "32", "--method", "pca", "--map-view-size", "1", "--permutations", "5", "--output", html.toString());
        assertEquals(0, r.exit(), r.err());
        String text = Files.readString(html);
        assertTrue(text.contains("<h2>Language or LLM?</h2>"), text);
        assertTrue(text.contains("The representation encodes"), text);
        assertTrue(r.out().contains(trained + ": The representation encodes"), r.out());
    }
}
