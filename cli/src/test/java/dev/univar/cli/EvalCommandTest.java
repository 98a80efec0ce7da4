package dev.univar.cli;

import dev.univar.corpus.Key;
import dev.univar.values.Views;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.univar.cli.AnalysisFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@code univar eval} end to end on a slice of the real PCT data, and its errors on bad input. */
class EvalCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void home() throws IOException {
        setUpHome();
    }

    @Test
    void evalIsReproducibleAndNeverTestsOnATrainingQuestion() throws IOException {
        Path corpus = pctSubset(dir, 10);
        Path out1 = dir.resolve("a.json"), out2 = dir.resolve("b.json");
        String[] args = {"eval", "--corpus", corpus.toString(), "--columns", PCT_COLUMNS, "--model", "minilm",
                "--max-length", "64", "--view-text", "answer", "--probe", "--knn", "10", "--seed", "3", "--output", out1.toString()};
        Run r = run(args);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("removed chat-template residue from 100 answers (100× <|assistant|> line)"), r.err());
        assertTrue(r.out().contains("acc@1") && r.out().contains("minilm"), r.out());
        args[args.length - 1] = out2.toString();
        Path cache = dev.univar.io.ModelStore.home().resolve("cache");
        long entries;
        try (var files = Files.list(cache)) {
            entries = files.count();
        }
        r = run(args);
        assertEquals(0, r.exit());
        // The second run and a compare over the same answers (listed in another order) reuse the cached embeddings.
        assertEquals(0, run("compare", "--corpus", corpus.toString(), "--columns", PCT_COLUMNS, "--max-length", "64",
                "--view-text", "answer", "--permutations", "5", "--output", dir.resolve("d.csv").toString()).exit());
        try (var files = Files.list(cache)) {
            assertEquals(entries, files.count(), "no new cache entry");
        }
        assertEquals(Files.readString(out1), Files.readString(out2), "same seed, same numbers");

        JsonObject json = JsonParser.parseString(Files.readString(out1)).getAsJsonObject();
        assertEquals(3, json.getAsJsonArray("keys").size());
        Set<String> train = strings(json.getAsJsonArray("train_questions")), test = strings(json.getAsJsonArray("test_questions"));
        assertEquals(8, train.size());
        assertEquals(2, test.size());
        Set<String> both = new HashSet<>(train);
        both.retainAll(test);
        assertEquals(Set.of(), both, "no question in both train and test");
        assertEquals(3 * 8 * 10, json.get("n_train").getAsInt());
        assertEquals(3 * 2 * 10, json.get("n_test").getAsInt());
        JsonObject model = json.getAsJsonArray("models").get(0).getAsJsonObject();
        assertEquals("minilm", model.get("name").getAsString());
        for (String method : new String[]{"knn", "probe"}) {
            JsonObject m = model.getAsJsonObject(method);
            double a1 = m.get("acc@1").getAsDouble(), a3 = m.get("acc@3").getAsDouble();
            assertTrue(a1 > 0.4, method + " beats chance (1/3) on the answers' style: " + a1);
            assertEquals(1.0, a3, 1e-12, "3 labels: acc@3 is 1");
            assertTrue(m.has("f1_weighted") && m.has("f1_macro"));
        }
        int total = 0;
        for (var row : model.getAsJsonObject("confusion").getAsJsonArray("knn"))
            for (var v : row.getAsJsonArray()) total += v.getAsInt();
        assertEquals(60, total);

        // Views of 4 answers: test views only from held-out questions (20 answers per key -> 5 views).
        Path out3 = dir.resolve("c.json");
        r = run("eval", "--corpus", corpus.toString(), "--columns", PCT_COLUMNS, "--max-length", "64", "--view-size", "4",
                "--seed", "3", "--knn", "5", "--output", out3.toString());
        assertEquals(0, r.exit(), r.err());
        json = JsonParser.parseString(Files.readString(out3)).getAsJsonObject();
        assertEquals(3 * 5, json.get("n_test").getAsInt());
        assertEquals(3 * 20, json.get("n_train").getAsInt());
        assertFalse(json.getAsJsonArray("models").get(0).getAsJsonObject().has("probe"));
    }

    @Test
    void labelsCanBeLlmAndLanguage() throws IOException {
        Path out = dir.resolve("l.json");
        Run r = run("eval", "--corpus", hostileCorpus(dir).toString(), "--max-length", "32", "--knn", "5",
                "--label", "model-lang", "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonObject json = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertTrue(strings(json.getAsJsonArray("keys")).contains("Tom & Jerry's \"LLM\"/en"), json.toString());
        assertEquals(1.0, json.getAsJsonArray("models").get(0).getAsJsonObject().getAsJsonObject("knn").get("acc@1").getAsDouble(),
                "three distinct stances are told apart");
    }

    @Test
    void answersPerDecisionCombineHeldOutAnswersOfOneKey() throws IOException {
        // 3 LLMs × 10 questions × 3 answers; 2 held-out questions, so a key has 2 answers on different questions.
        Path hostile = hostileCorpus(dir), out = dir.resolve("n2.json");
        Run r = run("eval", "--corpus", hostile.toString(), "--max-length", "32", "--knn", "5", "--probe",
                "--answers-per-decision", "2", "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonObject json = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertEquals(2, json.get("answers_per_decision").getAsInt());
        assertEquals(json.get("n_test").getAsInt(), json.get("n_decisions").getAsInt(), "every held-out answer anchors one decision");
        JsonObject model = json.getAsJsonArray("models").get(0).getAsJsonObject();
        for (String method : List.of("knn", "probe", "centroid")) {
            JsonObject curve = model.getAsJsonObject("accuracy_by_answers").getAsJsonObject(method);
            assertEquals(Set.of("1", "2"), curve.keySet(), "sizes the held-out questions allow");
            assertEquals(curve.get("2").getAsDouble(), model.getAsJsonObject(method).get("acc@1").getAsDouble(), 1e-12);
            assertEquals(1, model.getAsJsonObject("unknown").getAsJsonArray(method).get(0).getAsJsonObject().get("answers").getAsInt());
        }
        JsonObject cal = model.getAsJsonObject("probe_calibration");
        assertTrue(cal.get("temperature").getAsDouble() > 0 && cal.has("ece_before") && cal.has("ece_after"), cal.toString());
        assertTrue(r.out().contains("probe ECE on held-out answers"), r.out());

        r = run("eval", "--corpus", hostile.toString(), "--max-length", "32", "--answers-per-decision", "3", "--output", out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("has 2 held-out answers on different questions, fewer than --answers-per-decision 3"), r.err());
        r = run("eval", "--corpus", hostile.toString(), "--answers-per-decision", "0", "--output", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--answers-per-decision must be at least 1, got 0"), r.err());
    }

    @Test
    void modelLangClassesAreKeyPairsNotPrintedNames() {
        // Model a/b in language en and model a in language b/en print alike; they are two classes, not one.
        EvalCommand.Settings s = new EvalCommand.Settings();
        s.label = "model-lang";
        Key ab = new Key("a/b", "en"), a = new Key("a", "b/en");
        assertNotEquals(EvalCommand.label(ab, s), EvalCommand.label(a, s));
        List<Views.View> train = List.of(view(ab), view(a), view(new Key("c", "en"))), test = List.of(view(a), view(ab));
        EvalCommand.Classes c = EvalCommand.classes(train, test, s);
        assertEquals(3, c.names().size());
        assertNotEquals(c.train()[0], c.train()[1]);
        assertEquals(c.train()[1], c.test()[0]);
        assertEquals(c.train()[0], c.test()[1]);
        s.label = "model";
        c = EvalCommand.classes(List.of(view(ab), view(new Key("a/b", "de")), view(a)), List.of(view(a)), s);
        assertEquals(List.of("a", "a/b"), c.names());
        assertArrayEquals(new int[]{1, 1, 0}, c.train());
        assertArrayEquals(new int[]{0}, c.test());
    }

    @Test
    void langClassesAreLanguagesWhateverTheLlm() {
        EvalCommand.Settings s = new EvalCommand.Settings();
        s.label = "lang";
        List<Views.View> train = List.of(view(new Key("a", "zh")), view(new Key("b", "zh")), view(new Key("a", "en")));
        EvalCommand.Classes c = EvalCommand.classes(train, List.of(view(new Key("c", "en"))), s);
        assertEquals(List.of("en", "zh"), c.names());
        assertArrayEquals(new int[]{1, 1, 0}, c.train());
        assertArrayEquals(new int[]{0}, c.test());
    }

    private static Views.View view(Key k) {
        return new Views.View(k, "text", List.of("q"));
    }

    @Test
    void badInputNamesTheProblem() throws IOException {
        Path out = dir.resolve("never.json");
        Path missing = Files.writeString(dir.resolve("m.csv"), "question,answer\nq,a\n");
        Run r = run("eval", "--corpus", missing.toString(), "--output", out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("model"), r.err());
        assertTrue(r.err().contains(missing.toString()), r.err());

        Path single = Files.writeString(dir.resolve("s.csv"), "question,answer,model\nq1,a,only\nq2,b,only\n");
        r = run("eval", "--corpus", single.toString(), "--output", out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("single LLM (only)"), r.err());

        Path empty = Files.writeString(dir.resolve("e.csv"), "question,answer,model\n");
        r = run("eval", "--corpus", empty.toString(), "--output", out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("the corpus is empty"), r.err());

        Path hostile = hostileCorpus(dir);
        r = run("eval", "--corpus", hostile.toString(), "--view-size", "7", "--output", out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("held-out answers, fewer than --view-size 7"), r.err());

        r = run("eval", "--corpus", hostile.toString(), "--output", dir.resolve("x.txt").toString());
        assertEquals(2, r.exit()); // bad usage (was 1, against the README's promise of 2)
        assertTrue(r.err().contains("must end in .json"), r.err());
        assertFalse(Files.exists(out));
    }

    private static Set<String> strings(JsonArray a) {
        Set<String> s = new HashSet<>();
        a.forEach(e -> s.add(e.getAsString()));
        return s;
    }
}
