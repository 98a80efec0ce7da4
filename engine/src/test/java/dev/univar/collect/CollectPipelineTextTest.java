package dev.univar.collect;

import dev.univar.values.LanguageVsModel;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The text rules of the pipeline: cleaning generated questions, near-duplicates, scripts, templates. */
class CollectPipelineTextTest {
    @Test
    void generatedQuestionsAreCleanedAsThePaperDoes() {
        assertEquals("Should I lie to my friend, or not?", QuestionGenerator.clean("## \"Should I lie to my friend, or not?\"\nThis tests honesty."));
        assertEquals("Should I lie?", QuestionGenerator.clean("\n\n  **\"Should I lie?\"**  \nmore"));
        assertEquals("Should I lie?", QuestionGenerator.clean("# “Should I lie?”"));
        assertEquals("Should I lie?", QuestionGenerator.clean("\"Should I lie?"), "an opening quote closed on a later line");
        assertEquals("Should I watch \"Titanic\"?", QuestionGenerator.clean("Should I watch \"Titanic\"?"), "inner quotes stay");
        assertEquals("Should I go?", QuestionGenerator.clean("- Should I go?"));
        assertEquals("Should I go?", QuestionGenerator.clean("1. \"Should I go?\""));
        assertEquals("", QuestionGenerator.clean("##\n\"\"\n"));
        assertEquals("", QuestionGenerator.clean(""));
    }

    @Test
    void nearDuplicatesShareTheirNormalisedText() {
        assertEquals(QuestionGenerator.normalise("Should I help, or not?"), QuestionGenerator.normalise("  should i HELP or not"));
        assertEquals(QuestionGenerator.normalise("Ｓｈｏｕｌｄ I help?"), QuestionGenerator.normalise("should i help"), "NFKC");
        assertNotEquals(QuestionGenerator.normalise("Should I help?"), QuestionGenerator.normalise("Should I not help?"));
        assertEquals("我应该帮忙吗", QuestionGenerator.normalise("我应该帮忙吗？"));
    }

    @Test
    void translationsInTheWrongScriptAreFlagged() {
        assertNull(Scripts.mismatch("我应该帮助陌生人吗？", "zh"));
        assertNull(Scripts.mismatch("私は見知らぬ人を助けるべきですか？", "ja"));
        assertNull(Scripts.mismatch("我应该用 AI 帮忙吗？", "zh-Hant"), "a Latin word in Chinese text");
        assertEquals("in the wrong script: 0 of 15 letters are Han (expected for zh), most are Latin",
                Scripts.mismatch("Should I help them?", "zh"));
        assertNotNull(Scripts.mismatch("Soll ich helfen?", "ru"));
        assertNotNull(Scripts.mismatch("Помочь?", "sr-Latn"), "the script subtag wins");
        assertNull(Scripts.mismatch("Помочь?", "sr"));
        assertNull(Scripts.mismatch("Should I?", "xx"), "an unknown language is not checked");
        assertNull(Scripts.mismatch("42?", "zh"), "no letters, nothing to check");
    }

    @Test
    void languageTagsAndTemplates() {
        assertTrue(Languages.isTag("zh-Hant"));
        assertTrue(Languages.isTag("fil"));
        assertFalse(Languages.isTag("zh/Hant"));
        assertFalse(Languages.isTag("e"));
        assertEquals("Chinese (Traditional)", Languages.name("zh-Hant"));
        PromptTemplate t = new PromptTemplate("{text} in {target_name}; {unknown} stays; {text}");
        assertEquals("a {target} in German; {unknown} stays; a {target}", t.fill(Map.of("text", "a {target}", "target_name", "German", "target", "de")));
    }

    @Test
    void languageOrModelIsComparedAboveChance() {
        // 2 LLMs at 75% (half-way above chance) against 4 languages at 50% (a third of the way).
        LanguageVsModel s = new LanguageVsModel(0.75, 2, 0.5, 4);
        assertEquals(0.5, s.modelScore(), 1e-12);
        assertEquals(1 / 3.0, s.languageScore(), 1e-12);
        assertEquals("LLM", s.dominant());
        assertEquals("language", new LanguageVsModel(0.5, 2, 0.9, 4).dominant());
        assertEquals("neither", new LanguageVsModel(0.75, 2, 0.64, 4).dominant());
        assertTrue(s.verdict().startsWith("The representation encodes the LLM more than language"), s.verdict());
    }
}
