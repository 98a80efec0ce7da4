package dev.univar.corpus;

import dev.univar.data.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Answers to identify: groups, cleaning, and one clear line for each kind of bad input. */
class InputAnswersTest {
    @TempDir
    Path dir;

    @Test
    void groupsInFirstSeenOrderWithViewTextAsTraining() throws IOException {
        Path f = Files.writeString(dir.resolve("a.jsonl"), """
                {"question": "Q1?", "answer": "<|assistant|>\\nYes.", "who": "b"}
                {"question": "Q2?", "answer": "No.", "who": "a"}

                {"question": "Q3?", "answer": "  ", "who": "b"}
                {"question": "Q4?", "answer": "Maybe.", "who": 7}
                """);
        List<String> notices = new ArrayList<>();
        InputAnswers in = InputAnswers.read(f, "question", "answer", "who", true, notices::add);
        assertEquals(List.of("b", "a", "7"), List.copyOf(in.groups().keySet()));
        assertEquals(3, in.answers().size());
        assertEquals(1, in.skipped());
        InputAnswers.Answer first = in.groups().get("b").getFirst();
        assertEquals("Q: Q1? A: Yes.", first.viewText(false), "the text training and eval embed");
        assertEquals("Yes.", first.viewText(true));
        assertEquals(1, first.line());
        assertEquals(5, in.groups().get("7").getFirst().line());
        assertTrue(notices.stream().anyMatch(n -> n.contains("skipped 1 empty answer(s), at line(s) 4")), notices.toString());
        assertTrue(notices.stream().anyMatch(n -> n.contains("chat-template residue from 1 answers")), notices.toString());

        InputAnswers one = InputAnswers.read(f, "question", "answer", null, false, n -> { });
        assertEquals(List.of(InputAnswers.ALL), List.copyOf(one.groups().keySet()));
        assertEquals("<|assistant|>\nYes.", one.answers().getFirst().answer());
    }

    @Test
    void badInputIsOneLineNamingFileAndLine() throws IOException {
        Path empty = Files.writeString(dir.resolve("e.csv"), "question,answer\n");
        InputException e = assertThrows(InputException.class, () -> InputAnswers.read(empty, "question", "answer", null, true, n -> { }));
        assertEquals(empty + ": no answers to identify", e.getMessage());

        Path blankGroup = Files.writeString(dir.resolve("g.csv"), "question,answer,g\nq1,yes,x\nq2,,y\nq3,<s></s>,y\nq4,no,x\n");
        e = assertThrows(InputException.class, () -> InputAnswers.read(blankGroup, "question", "answer", "g", true, n -> { }));
        assertEquals(blankGroup + ":3: group 'y' has no usable answers: every answer in it is empty", e.getMessage());

        Path allEmpty = Files.writeString(dir.resolve("a.csv"), "question,answer\nq1,\n");
        e = assertThrows(InputException.class, () -> InputAnswers.read(allEmpty, "question", "answer", null, true, n -> { }));
        assertTrue(e.getMessage().contains("no usable answers"), e.getMessage());

        Path noGroup = Files.writeString(dir.resolve("n.csv"), "question,answer\nq1,yes\n");
        e = assertThrows(InputException.class, () -> InputAnswers.read(noGroup, "question", "answer", "llm", true, n -> { }));
        assertTrue(e.getMessage().contains("llm") && e.getMessage().contains("--group-by"), e.getMessage());

        Path emptyGroup = Files.writeString(dir.resolve("eg.csv"), "question,answer,g\nq1,yes,\n");
        e = assertThrows(InputException.class, () -> InputAnswers.read(emptyGroup, "question", "answer", "g", true, n -> { }));
        assertEquals(emptyGroup + ":2: empty group (column 'g')", e.getMessage());

        Path notString = Files.writeString(dir.resolve("s.jsonl"), "{\"question\": \"q\", \"answer\": 3}\n");
        e = assertThrows(InputException.class, () -> InputAnswers.read(notString, "question", "answer", null, true, n -> { }));
        assertTrue(e.getMessage().startsWith(notString + ":1: field 'answer'"), e.getMessage());

        Path txt = Files.writeString(dir.resolve("t.txt"), "an answer\n");
        e = assertThrows(InputException.class, () -> InputAnswers.read(txt, "question", "answer", null, true, n -> { }));
        assertTrue(e.getMessage().contains(".csv or .jsonl"), e.getMessage());
    }
}
