package dev.univar.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.univar.values.AnswerGroups;
import dev.univar.values.EmbeddedViews;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static dev.univar.cli.AnalysisFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@code univar identify} on the bundled sample: agreement with eval's prediction, unknown LLMs, bad input. */
class IdentifyCommandTest {
    /** Left out of the reference: identify must call its answers unknown at about the rate it documents. */
    static final String LEFT_OUT = "zephyr-7b-beta";

    @TempDir
    Path dir;

    @BeforeAll
    static void home() throws IOException {
        setUpHome();
    }

    @Test
    void namesHeldOutKeysAsOftenAsEvalPredictsAndFlagsAnLlmMissingFromTheReference() throws IOException {
        // Eval on 7 of the 8 LLMs, five held-out answers per decision.
        Path seven = sampleWithPropositions(dir, "seven.csv", Set.of(LEFT_OUT));
        Path all = sampleWithPropositions(dir, "all.csv", Set.of());
        Path evalJson = dir.resolve("eval.json");
        Run r = run("eval", "--corpus", seven.toString(), "--max-length", "64", "--probe", "--answers-per-decision", "5",
                "--output", evalJson.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("acc@1 by answers per decision") && r.out().contains("N=5"), r.out());
        JsonObject eval = JsonParser.parseString(Files.readString(evalJson)).getAsJsonObject();
        assertEquals(5, eval.get("answers_per_decision").getAsInt());
        Set<String> trainQ = strings(eval.getAsJsonArray("train_questions")), testQ = strings(eval.getAsJsonArray("test_questions"));
        JsonObject curve = eval.getAsJsonArray("models").get(0).getAsJsonObject().getAsJsonObject("accuracy_by_answers");

        // The reference: the training questions' answers. The input: eval's own decisions (the same groups of five
        // held-out answers), plus groups of the left-out LLM's answers to the held-out questions.
        Path reference = dir.resolve("reference.csv"), input = dir.resolve("input.csv");
        List<CSVRecord> rows = readCsv(seven);
        try (Writer w = Files.newBufferedWriter(reference, StandardCharsets.UTF_8); CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180)) {
            p.printRecord("question_id", "question", "answer", "model", "lang");
            for (CSVRecord rec : rows) if (trainQ.contains(rec.get("question_id"))) p.printRecord(rec.values());
        }
        Map<String, String> truth = new LinkedHashMap<>();
        try (Writer w = Files.newBufferedWriter(input, StandardCharsets.UTF_8); CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180)) {
            p.printRecord("question", "answer", "group");
            writeGroups(p, rows.stream().filter(x -> testQ.contains(x.get("question_id"))).toList(), "known", truth);
            writeGroups(p, readCsv(all).stream().filter(x -> x.get("model").equals(LEFT_OUT) && testQ.contains(x.get("question_id"))).toList(),
                    "unknown", truth);
        }
        for (String method : List.of("knn", "probe", "centroid")) {
            Path out = dir.resolve(method + ".json");
            r = run("identify", "--reference", reference.toString(), "--input", input.toString(), "--group-by", "group",
                    "--method", method, "--max-length", "64", "--top", "3", "--output", out.toString());
            assertEquals(0, r.exit(), r.err());
            JsonObject res = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
            assertEquals(method, res.get("method").getAsString());
            int known = 0, right = 0, knownFlagged = 0, unknown = 0, unknownFlagged = 0;
            for (JsonElement e : res.getAsJsonArray("groups")) {
                JsonObject g = e.getAsJsonObject();
                assertEquals(5, g.get("answers").getAsInt());
                JsonArray ranking = g.getAsJsonArray("ranking");
                assertEquals(3, ranking.size());
                String first = ranking.get(0).getAsJsonObject().get("key").getAsString(), model = truth.get(g.get("group").getAsString());
                boolean flagged = g.get("unknown").getAsBoolean();
                assertEquals(flagged, g.get("verdict").isJsonNull());
                if (!model.equals(LEFT_OUT)) {
                    known++;
                    right += first.equals(model) ? 1 : 0;
                    knownFlagged += flagged ? 1 : 0;
                } else {
                    unknown++;
                    unknownFlagged += flagged ? 1 : 0;
                }
            }
            assertEquals(7 * 12, known, "one decision per held-out answer");
            double predicted = curve.getAsJsonObject(method).get("5").getAsDouble(), got = (double) right / known;
            // k-NN and the centroids are fitted on the same answers as eval's: the same decisions. The probe's
            // temperature comes from identify's own calibration split, which can change a close call.
            assertEquals(predicted, got, method.equals("probe") ? 0.1 : 0.03, method + ": identify names the key first as often as eval predicts");
            assertTrue(got > 2.0 / 7, method + ": well above chance (1/7): " + got);

            JsonObject threshold = res.getAsJsonObject("held_out").getAsJsonArray("unknown_thresholds").get(0).getAsJsonObject();
            assertEquals(5, threshold.get("answers").getAsInt());
            double far = threshold.get("false_accept_rate").getAsDouble(), frr = threshold.get("false_reject_rate").getAsDouble();
            assertTrue(frr <= 0.1 + 1e-9, "at most --max-false-reject of the reference LLMs' held-out groups: " + frr);
            double flaggedUnknown = (double) unknownFlagged / unknown, flaggedKnown = (double) knownFlagged / known;
            System.out.printf(Locale.ROOT, "identify %s: held-out keys named first %.3f (eval predicts %.3f); flagged unknown: "
                    + "left-out LLM %.3f (documented 1 - false accepts = %.3f), reference LLMs %.3f (documented %.3f)%n",
                    method, got, predicted, flaggedUnknown, 1 - far, flaggedKnown, frr);
            assertEquals(1 - far, flaggedUnknown, 0.2, method + ": the left-out LLM is flagged at about the documented rate");
            assertEquals(frr, flaggedKnown, 0.15, method + ": reference LLMs are flagged at about the documented rate");
            assertTrue(r.out().contains("held-out reference questions, groups of 5: named first"), r.out());
        }
    }

    /** Eval's decisions over these held-out rows: {@link AnswerGroups#draw} of 5, seed 0, sources in key order. */
    private static void writeGroups(CSVPrinter p, List<CSVRecord> rows, String prefix, Map<String, String> truth) throws IOException {
        TreeMap<String, List<CSVRecord>> byModel = new TreeMap<>();
        for (CSVRecord rec : rows) byModel.computeIfAbsent(rec.get("model"), m -> new ArrayList<>()).add(rec);
        List<CSVRecord> ordered = new ArrayList<>();
        List<List<String>> questions = new ArrayList<>();
        int[] source = new int[rows.size()];
        int s = 0;
        for (List<CSVRecord> recs : byModel.values()) {
            for (CSVRecord rec : recs) {
                source[ordered.size()] = s;
                ordered.add(rec);
                questions.add(List.of(rec.get("question_id")));
            }
            s++;
        }
        EmbeddedViews v = new EmbeddedViews(new float[ordered.size()][0], source.clone(), source, questions);
        int i = 0;
        for (int[] g : AnswerGroups.draw(v, 5, 0)) {
            String name = prefix + (i++);
            truth.put(name, ordered.get(g[0]).get("model"));
            for (int m : g) p.printRecord(ordered.get(m).get("question"), ordered.get(m).get("answer"), name);
        }
    }

    @Test
    void badInputIsOneClearLine() throws IOException {
        Path ref = hostileCorpus(dir), out = dir.resolve("never.json");
        Path empty = Files.writeString(dir.resolve("empty.csv"), "question,answer\n");
        Run r = run("identify", "--reference", ref.toString(), "--input", empty.toString(), "--output", out.toString());
        assertEquals(1, r.exit());
        assertEquals("univar identify: error: " + empty + ": no answers to identify", lastLine(r.err()));

        Path blank = Files.writeString(dir.resolve("blank.csv"), "question,answer,g\nq1,yes,a\nq2,<|assistant|>,b\n");
        r = run("identify", "--reference", ref.toString(), "--input", blank.toString(), "--group-by", "g", "--output", out.toString());
        assertEquals(1, r.exit());
        assertEquals("univar identify: error: " + blank + ":3: group 'b' has no usable answers: every answer in it is empty", lastLine(r.err()));

        Path noAnswer = Files.writeString(dir.resolve("na.csv"), "question,reply\nq1,yes\n");
        r = run("identify", "--reference", ref.toString(), "--input", noAnswer.toString());
        assertEquals(1, r.exit());
        assertTrue(lastLine(r.err()).contains("no column 'answer'"), r.err());

        Path single = Files.writeString(dir.resolve("single.csv"), "question,answer,model\nq1,a,only\nq2,b,only\n");
        Path ok = Files.writeString(dir.resolve("ok.csv"), "question,answer\nq1,yes\n");
        r = run("identify", "--reference", single.toString(), "--input", ok.toString());
        assertEquals(1, r.exit());
        assertEquals("univar identify: error: " + single + ": the corpus holds a single LLM (only); telling LLMs apart needs at least 2",
                lastLine(r.err()));

        r = run("identify", "--reference", ref.toString(), "--input", ok.toString(), "--method", "svm");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--method must be knn, probe or centroid, got 'svm'"), r.err());
        r = run("identify", "--reference", ref.toString(), "--input", ok.toString(), "--output", dir.resolve("x.txt").toString());
        assertEquals(2, r.exit());
        Path inputJson = Files.writeString(dir.resolve("in.json"), "");
        r = run("identify", "--reference", ref.toString(), "--input", inputJson.toString(), "--output", inputJson.toString());
        assertEquals(2, r.exit(), "the output would destroy the input");
        assertTrue(r.err().contains("is the input"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void hostileNamesAndOneGroupOfEverything() throws IOException {
        Path ref = hostileCorpus(dir), out = dir.resolve("r.json");
        Path input = Files.writeString(dir.resolve("in.jsonl"), """
                {"question": "Should policy 3 be adopted?", "answer": "I disagree: tradition and order come first; change must be slow."}
                {"question": "Should policy 8 be adopted?", "answer": "I disagree: tradition and order come first, change must be slow."}
                """);
        Run r = run("identify", "--reference", ref.toString(), "--input", input.toString(), "--method", "centroid",
                "--max-length", "32", "--max-false-reject", "0", "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("all (2 answers): Tom & Jerry's \"LLM\""), r.out());
        JsonObject res = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        JsonObject g = res.getAsJsonArray("groups").get(0).getAsJsonObject();
        assertEquals("Tom & Jerry's \"LLM\"", g.get("verdict").getAsString());
        assertTrue(g.getAsJsonArray("ranking").get(0).getAsJsonObject().has("cosine_distance"));
        assertEquals(3, g.getAsJsonArray("ranking").size(), "3 reference LLMs, fewer than --top 5");
        assertFalse(g.get("unknown").getAsBoolean(), "--max-false-reject 0 never flags");
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines[lines.length - 1];
    }

    private static Set<String> strings(JsonArray a) {
        Set<String> s = new HashSet<>();
        a.forEach(e -> s.add(e.getAsString()));
        return s;
    }
}
