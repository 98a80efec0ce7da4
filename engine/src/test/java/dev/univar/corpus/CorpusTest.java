package dev.univar.corpus;

import dev.univar.SharedData;
import dev.univar.data.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class CorpusTest {
    @TempDir
    Path dir;

    @Test
    void columnMapParsesAndRejects() {
        ColumnMap c = ColumnMap.parse("question=full_prompt, answer=completion,question_id=pct_id");
        assertEquals("full_prompt", c.question());
        assertEquals("completion", c.answer());
        assertEquals("model", c.model());
        assertEquals("pct_id", c.questionId());
        assertEquals(Set.of("full_prompt", "completion", "model", "pct_id"), c.required());
        assertThrows(IllegalArgumentException.class, () -> ColumnMap.parse("questionfull_prompt"));
        assertThrows(IllegalArgumentException.class, () -> ColumnMap.parse("prompt=x"));
        assertThrows(IllegalArgumentException.class, () -> ColumnMap.parse("model=a,model=b"));
    }

    @Test
    void columnMapTextDoesNotDependOnSetOrder() {
        // The text is part of a training run's identity, compared by --resume in another JVM: Set.copyOf's
        // iteration order changes from one JVM to the next, so the parts must print sorted.
        ColumnMap a = ColumnMap.parse("question=q,answer=a,model=m,question_id=id");
        ColumnMap b = ColumnMap.parse("question_id=id,model=m,answer=a,question=q");
        assertEquals(a.toString(), b.toString());
        assertTrue(a.toString().contains("explicit=[answer, model, question, question_id]"), a.toString());
        assertEquals(a, b);
    }

    @Test
    void readsCsvAndJsonlWithDefaults() throws IOException {
        Files.writeString(dir.resolve("a.csv"), "question,answer,model\n\"Is it fair?\",\"Yes,\nmostly.\",m1\nQ2,A2,m2\n");
        Files.writeString(dir.resolve("b.jsonl"), "{\"question\":\"Q3\",\"answer\":\"A3\",\"model\":\"m1\",\"lang\":\"de\",\"question_id\":7}\n");
        Files.writeString(dir.resolve("notes.md"), "ignored");
        Corpus c = Corpus.read(dir, ColumnMap.DEFAULTS, n -> fail(n));
        assertEquals(3, c.size());
        QaPair first = c.pairs().get(0);
        assertEquals("Is it fair?", first.questionId());
        assertEquals("Yes,\nmostly.", first.answer());
        assertEquals("en", first.lang());
        assertEquals(new QaPair("7", "Q3", "A3", "m1", "de"), c.pairs().get(2));
        assertEquals(List.of(new Key("m1", "de"), new Key("m1", "en"), new Key("m2", "en")), c.keys());
        assertEquals("Q: Q2 A: A2", c.pairs().get(1).asViewLine());
    }

    @Test
    void missingColumnsAreNamed() throws IOException {
        Path f = Files.writeString(dir.resolve("x.csv"), "question,reply,model\nq,a,m\n");
        InputException e = assertThrows(InputException.class, () -> Corpus.read(f, ColumnMap.DEFAULTS, n -> { }));
        assertTrue(e.getMessage().contains("x.csv:1: no column 'answer'"), e.getMessage());
        Path j = Files.writeString(dir.resolve("y.jsonl"), "{\"question\":\"q\",\"answer\":\"a\",\"model\":\"m\"}\n{\"question\":\"q\",\"model\":\"m\"}\n");
        e = assertThrows(InputException.class, () -> Corpus.read(j, ColumnMap.DEFAULTS, n -> { }));
        assertTrue(e.getMessage().contains("y.jsonl:2: no field 'answer'"), e.getMessage());
        Path g = Files.writeString(dir.resolve("z.csv"), "question,answer,model\nq,a,m\n");
        e = assertThrows(InputException.class, () -> Corpus.read(g, ColumnMap.parse("lang=language"), n -> { }));
        assertTrue(e.getMessage().contains("no column 'language'"), e.getMessage());
    }

    @Test
    void languageWithASlashIsRejectedSoKeysPrintUnambiguously() throws IOException {
        // Model a/b in language en and model a in language b/en would both print as a/b/en.
        Path f = Files.writeString(dir.resolve("corp.csv"), "question,answer,model,lang\nq,x,a/b,en\nq,y,a,b/en\n");
        InputException e = assertThrows(InputException.class, () -> Corpus.read(f, ColumnMap.DEFAULTS, n -> { }));
        assertEquals(f + ":3: language 'b/en' (column 'lang') contains '/'; language codes are BCP 47 tags such as en or zh-Hant",
                e.getMessage());
        Path j = Files.writeString(dir.resolve("corp.jsonl"),
                "{\"question\":\"q\",\"answer\":\"x\",\"model\":\"m\",\"language\":\"zh/Hant\"}\n");
        e = assertThrows(InputException.class, () -> Corpus.read(j, ColumnMap.parse("lang=language"), n -> { }));
        assertTrue(e.getMessage().startsWith(j + ":1: language 'zh/Hant' (field 'language') contains '/'"), e.getMessage());
        // A model name may hold a slash (Hugging Face ids do): with none in the language the printed key stays unambiguous.
        Path ok = Files.writeString(dir.resolve("ok.csv"), "question,answer,model,lang\nq,x,org/m,zh-Hant\n");
        assertEquals("org/m/zh-Hant", Corpus.read(ok, ColumnMap.DEFAULTS, n -> { }).keys().get(0).toString());
    }

    @Test
    void nullFieldsAreNamedAsNull() throws IOException {
        Path j = Files.writeString(dir.resolve("n.jsonl"), "{\"question\":\"q\",\"answer\":null,\"model\":\"m\"}\n");
        InputException e = assertThrows(InputException.class, () -> Corpus.read(j, ColumnMap.DEFAULTS, n -> { }));
        assertTrue(e.getMessage().startsWith(j + ":1: field 'answer' is null"), e.getMessage());
    }

    @Test
    void folderSkipsFilesWithoutTheColumnsWithANotice() throws IOException {
        Files.writeString(dir.resolve("answers.csv"), "question,answer,model\nq,a,m\n");
        Files.writeString(dir.resolve("meta.csv"), "id,text\n1,x\n");
        List<String> notices = new ArrayList<>();
        Corpus c = Corpus.read(dir, ColumnMap.DEFAULTS, notices::add);
        assertEquals(1, c.size());
        assertEquals(1, notices.size());
        assertTrue(notices.get(0).contains("meta.csv"));
    }

    @Test
    void questionSplitIsDisjointDeterministicAndOrderFree() {
        List<QaPair> pairs = new ArrayList<>();
        for (int q = 0; q < 50; q++) for (String m : List.of("a", "b", "c")) pairs.add(new QaPair("q" + q, "Q" + q, "A", m, "en"));
        Corpus c = new Corpus(pairs);
        QuestionSplit s = QuestionSplit.of(c, 0.2, 0);
        assertEquals(10, s.test().size());
        assertEquals(40, s.train().size());
        Set<String> both = new HashSet<>(s.train());
        both.retainAll(s.test());
        assertTrue(both.isEmpty());
        List<QaPair> reversed = new ArrayList<>(pairs);
        java.util.Collections.reverse(reversed);
        assertEquals(s.test(), QuestionSplit.of(new Corpus(reversed), 0.2, 0).test());
        assertNotEquals(s.test(), QuestionSplit.of(c, 0.2, 1).test());
    }

    @Test
    void readsTheRealPctFolder() {
        Path pct = SharedData.dir().resolve("pct");
        List<String> notices = new ArrayList<>();
        Corpus c = Corpus.read(pct, ColumnMap.parse("question=full_prompt,answer=completion,model=model,question_id=pct_id"), notices::add);
        assertEquals(8 * 620, c.size());
        assertEquals(8, c.keys().size());
        assertEquals(62, c.questionIds().size());
        assertEquals(1, notices.size(), notices.toString()); // pct_propositions.csv has no answers
    }

    @Test
    void samplerDrawsDisjointViewsOnePairPerKeyReproducibly() {
        List<QaPair> pairs = new ArrayList<>();
        for (String m : List.of("a", "b", "c", "d")) for (int q = 0; q < 12; q++) pairs.add(new QaPair("q" + q, "Q" + q, m + q, m, "en"));
        Map<Key, List<QaPair>> byKey = new Corpus(pairs).byKey();
        MultiViewSampler s = new MultiViewSampler(byKey, 1, 5, 3, 42);
        for (long step = 0; step < 50; step++) {
            List<MultiViewSampler.ViewPair> batch = s.batch(step);
            assertEquals(3, batch.size());
            assertEquals(3, batch.stream().map(MultiViewSampler.ViewPair::key).distinct().count(), "one pair per key");
            for (var vp : batch) {
                List<String> l1 = List.of(vp.first().split("\n")), l2 = List.of(vp.second().split("\n"));
                assertTrue(l1.size() >= 1 && l1.size() <= 5 && l2.size() >= 1 && l2.size() <= 5);
                Set<String> inter = new HashSet<>(l1);
                inter.retainAll(l2);
                assertTrue(inter.isEmpty(), "views share no QA pair");
                for (String line : l1) assertTrue(line.matches("Q: Q\\d+ A: " + vp.key().model() + "\\d+"), line);
            }
            assertEquals(batch, s.batch(step), "same step, same batch");
        }
        assertNotEquals(s.batch(1), s.batch(2));
    }

    @Test
    void samplerRejectsBadCorpora() {
        List<QaPair> one = List.of(new QaPair("q", "Q", "A", "m", "en"), new QaPair("q2", "Q", "A", "m", "en"));
        var e = assertThrows(IllegalArgumentException.class, () -> new MultiViewSampler(new Corpus(one).byKey(), 1, 1, 1, 0));
        assertTrue(e.getMessage().contains("at least 2 keys"));
        List<QaPair> few = new ArrayList<>(one);
        few.add(new QaPair("q", "Q", "A", "n", "en"));
        e = assertThrows(IllegalArgumentException.class, () -> new MultiViewSampler(new Corpus(few).byKey(), 1, 2, 1, 0));
        assertTrue(e.getMessage().contains("n/en has 1 training answers, fewer than --lambda-max 2"), e.getMessage());
    }
}
