package dev.univar.collect;

import dev.univar.data.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CollectQuestionFileTest {
    @TempDir
    Path dir;

    @Test
    void jsonlWithAndWithoutIdsAndLanguages() throws IOException {
        Path f = Files.writeString(dir.resolve("q.jsonl"), """
                {"question_id": 7, "lang": "de", "question": "Ist Freiheit wichtig?"}

                {"question": "Is freedom important?", "extra": true}
                {"question_id": "x", "question": "Is duty important?", "question_group": "g1"}
                """);
        List<Question> qs = QuestionFile.read(f, List.of());
        assertEquals(List.of(new Question("7", "7", "de", "Ist Freiheit wichtig?"),
                new Question("q2", "q2", "und", "Is freedom important?"),
                new Question("x", "g1", "und", "Is duty important?")), qs);
        // With one --languages value, questions without a language take it; a language filter applies.
        qs = QuestionFile.read(f, List.of("en"));
        assertEquals(List.of("q2", "x"), qs.stream().map(Question::id).toList());
        assertEquals("en", qs.getFirst().lang());
        assertEquals(List.of("7"), QuestionFile.read(f, List.of("de", "fr")).stream().map(Question::id).toList());
    }

    @Test
    void csvWithMultiLineFields() throws IOException {
        Path f = Files.writeString(dir.resolve("q.csv"), "\uFEFFquestion,lang\n\"Is\ntradition important?\",en\nWhy?,ja\n");
        List<Question> qs = QuestionFile.read(f, List.of());
        assertEquals(List.of(new Question("q1", "q1", "en", "Is\ntradition important?"), new Question("q2", "q2", "ja", "Why?")), qs);
    }

    @Test
    void problemsNameFileAndLine() throws IOException {
        assertProblem("a.jsonl", "{\"question\":\"ok\"}\n{oops\n", ":2: malformed JSON");
        assertProblem("b.jsonl", "{\"question\":\"ok\"}\n{\"text\":\"no\"}\n", ":2: no field 'question'; the fields are [text]");
        assertProblem("c.jsonl", "{\"question_id\":\"a\",\"question\":\"1\"}\n{\"question_id\":\"a\",\"question\":\"2\"}\n",
                ":2: duplicate question_id 'a' in language 'und' (first on line 1)");
        assertProblem("d.csv", "id,text\n1,x\n", ":1: no column 'question'; the columns are [id, text]");
        assertProblem("e.jsonl", "{\"question\":\"  \"}\n", ":1: empty question");
        assertProblem("f.txt", "question\n", ": unknown question file format");
        assertProblem("g.csv", "question,lang\nfine,en\n\"two\nlines\",en\nx,en\n\"a\",\"b\",c,d\n\"\"\"\n", "");
        Path bad = dir.resolve("h.jsonl");
        Files.write(bad, new byte[]{'{', '}', '\n', (byte) 0xC0, (byte) 0xAF, '\n'});
        var e = assertThrows(InputException.class, () -> QuestionFile.read(bad, List.of()));
        assertEquals(bad + ":2: invalid UTF-8", e.getMessage());
    }

    private void assertProblem(String name, String content, String expected) throws IOException {
        Path f = Files.writeString(dir.resolve(name), content);
        if (expected.isEmpty()) {
            // Only that it fails cleanly, as an InputException naming the file.
            var e = assertThrows(InputException.class, () -> QuestionFile.read(f, List.of()));
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            return;
        }
        var e = assertThrows(InputException.class, () -> QuestionFile.read(f, List.of()));
        assertTrue(e.getMessage().startsWith(f + expected), e.getMessage());
    }
}
