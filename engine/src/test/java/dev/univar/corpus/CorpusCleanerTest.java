package dev.univar.corpus;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CorpusCleanerTest {
    @Test
    void stripsTemplateResidueAndCountsIt() {
        Corpus c = new Corpus(List.of(
                new QaPair("q1", "Q", "<|assistant|>\nI agree.", "zephyr", "en"),
                new QaPair("q1", "Q", "[INST] x [/INST] I disagree.</s>", "mistral", "en"),
                new QaPair("q1", "Q", "<s> Fine. Tags like <b> stay.", "llama", "en"),
                new QaPair("q1", "Q", "Nothing here.", "gpt", "en")));
        CorpusCleaner.Result r = CorpusCleaner.clean(c);
        assertEquals(List.of("I agree.", "x  I disagree.", "Fine. Tags like <b> stay.", "Nothing here."),
                r.corpus().pairs().stream().map(QaPair::answer).toList());
        assertEquals(3, r.answersChanged());
        assertEquals(Map.of("<|assistant|> line", 1, "[INST]", 1, "[/INST]", 1, "</s>", 1, "<s>", 1), r.removed());
        assertTrue(r.summary().startsWith("removed chat-template residue from 3 answers"), r.summary());
        assertEquals("no chat-template residue found", CorpusCleaner.clean(new Corpus(List.of(c.pairs().get(3)))).summary());
    }
}
