package dev.univar.collect;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class CollectQuestionSetsTest {
    @Test
    void countsMatchTheBundledFiles() {
        Map<String, Map<String, Integer>> counts = new java.util.HashMap<>();
        for (QuestionSets.SetInfo s : QuestionSets.list()) counts.put(s.name(), s.counts());
        assertEquals(Map.of("en", 653, "zh", 485, "de", 640, "ja", 420), counts.get("controversial"));
        assertEquals(Map.of("en", 395, "zh", 435, "de", 340, "ja", 425), counts.get("uncontroversial"));
        assertEquals(Map.of("en", 21, "zh", 21, "de", 21), counts.get("pvq"));
        assertEquals(List.of("en", "zh", "de", "ja"), List.copyOf(counts.get("controversial").keySet()));
    }

    @Test
    void idsAreUniquePerLanguageAndParaphrasesShareAGroup() {
        List<Question> qs = QuestionSets.load("controversial", List.of());
        Set<String> keys = new HashSet<>();
        for (Question q : qs) assertTrue(keys.add(q.id() + "|" + q.lang()), q.id());
        Question first = qs.getFirst();
        assertEquals("controversial-en-001-1", first.id());
        assertEquals("controversial-en-001", first.group());
        assertTrue(first.text().endsWith("?"), first.text());
        // The English US file has 131 original questions; most come with 4 paraphrases.
        long groups = qs.stream().filter(q -> q.lang().equals("en")).map(Question::group).distinct().count();
        assertEquals(131, groups);
        assertEquals(97, qs.stream().filter(q -> q.lang().equals("zh")).map(Question::group).distinct().count());
    }

    @Test
    void pvqItemsShareTheirIdAcrossTranslations() {
        List<Question> qs = QuestionSets.load("pvq", List.of("de", "zh"));
        assertEquals(42, qs.size());
        assertEquals("de", qs.getFirst().lang());
        assertEquals(qs.subList(0, 21).stream().map(Question::id).toList(), qs.subList(21, 42).stream().map(Question::id).toList());
        assertEquals("pvq-21", qs.get(20).id());
        assertNotEquals(qs.get(0).text(), qs.get(21).text());
    }

    @Test
    void unknownSetsAndLanguagesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> QuestionSets.load("values", List.of()));
        assertEquals("unknown question set 'values'; the bundled sets are controversial, uncontroversial, pvq (or pass a .jsonl/.csv file)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QuestionSets.load("pvq", List.of("en", "ja")));
        assertEquals("question set 'pvq' has no language 'ja'; it has en, zh, de", e.getMessage());
    }
}
