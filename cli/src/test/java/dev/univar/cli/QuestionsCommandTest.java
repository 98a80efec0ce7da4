package dev.univar.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code univar questions list|show}. */
class QuestionsCommandTest {
    @Test
    void listShowsSetsLanguagesAndCounts() {
        Run r = CollectCommandTest.run("questions", "list");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.getFirst().matches("set\\s+en\\s+zh\\s+de\\s+ja\\s+description"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("controversial\\s+653\\s+485\\s+640\\s+420\\s+.*")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("uncontroversial\\s+395\\s+435\\s+340\\s+425\\s+.*")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("pvq\\s+21\\s+21\\s+21\\s+-\\s+.*")), r.out());
    }

    @Test
    void showPrintsTheQuestionsOfALanguage() {
        Run r = CollectCommandTest.run("questions", "show", "pvq", "--language", "zh", "--limit", "5");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(5, lines.size(), r.out());
        assertTrue(lines.getFirst().startsWith("pvq-01\tzh\t"), lines.getFirst());
        assertTrue(lines.get(4).startsWith("pvq-05\tzh\t"), lines.get(4));

        r = CollectCommandTest.run("questions", "show", "controversial", "--language", "ja", "--limit", "2", "--format", "jsonl");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("{\"question_id\":\"controversial-ja-001-1\",\"lang\":\"ja\",\"question\":"), r.out());
        assertTrue(r.out().contains("\"question_group\":\"controversial-ja-001\""), r.out());
    }

    @Test
    void unknownSetOrLanguageIsAnError() {
        Run r = CollectCommandTest.run("questions", "show", "nope");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("unknown question set 'nope'"), r.err());
        r = CollectCommandTest.run("questions", "show", "pvq", "--language", "ja");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("has no language 'ja'"), r.err());
        assertEquals(2, CollectCommandTest.run("questions", "show").exit());
    }
}
