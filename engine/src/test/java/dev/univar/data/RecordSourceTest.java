package dev.univar.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Strict parsing: input that is not what it claims to be is one error naming the file and line, never a guess. */
class RecordSourceTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static List<RecordSource.Row> readAll(Path file) {
        List<RecordSource.Row> rows = new ArrayList<>();
        try (RecordSource s = RecordSource.open(file)) {
            while (s.hasNext()) rows.add(s.next());
        }
        return rows;
    }

    private static List<String> texts(Path file) {
        List<String> out = new ArrayList<>();
        try (TextSource s = TextSource.open(file, "text")) {
            while (s.hasNext()) out.add(s.next().text());
        }
        return out;
    }

    /** The error for {@code file}, checked to be one line naming the file and {@code line}. */
    private static InputException error(Path file, long line, Runnable read) {
        InputException e = assertThrows(InputException.class, read::run);
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ":" + line + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void jsonlSingleQuotesAreRejected() throws IOException {
        Path f = write("q.jsonl", "{\"text\":\"ok\"}\n{'text': 'x'}\n");
        InputException e = error(f, 2, () -> readAll(f));
        assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("double quotes"), e.getMessage());
        assertFalse(e.getMessage().contains("setStrictness"), "no advice meant for Java programmers: " + e.getMessage());
    }

    @Test
    void jsonlOtherLeniencyIsRejected() throws IOException {
        for (String bad : List.of("{text: \"x\"}", "{\"text\": x}", "{\"text\": NaN}", "{\"text\": \"x\"} // note",
                "{\"text\": \"x\"} {\"text\": \"y\"}", "{\"text\": \"x\",}", "{\"text\": \"a\tb\"}")) {
            Path f = write("l.jsonl", bad + "\n");
            InputException e = error(f, 1, () -> readAll(f));
            assertTrue(e.getMessage().contains("malformed JSON"), bad + " -> " + e.getMessage());
            assertFalse(e.getMessage().contains("setStrictness"), e.getMessage());
        }
        Path f = write("nan.jsonl", "{\"n\": 1, \"text\":  NaN}\n");
        assertTrue(error(f, 1, () -> readAll(f)).getMessage().contains("unexpected 'NaN' at column 19"));
        Path g = write("comma.jsonl", "{\"text\": \"x\", }\n");
        assertTrue(error(g, 1, () -> readAll(g)).getMessage().contains("no trailing comma"));
    }

    @Test
    void jsonlDuplicateKeysAreRejected() throws IOException {
        Path f = write("d.jsonl", "{\"text\":\"fine\"}\n\n{\"text\":\"a\",\"text\":\"b\"}\n");
        InputException e = error(f, 3, () -> readAll(f));
        assertTrue(e.getMessage().contains("'text'") && e.getMessage().contains("twice"), e.getMessage());
        Path g = write("n.jsonl", "{\"text\":\"a\",\"meta\":{\"k\":1,\"k\":2}}\n");
        e = error(g, 1, () -> readAll(g));
        assertTrue(e.getMessage().contains("'k'") && e.getMessage().contains("meta"), e.getMessage());
    }

    @Test
    void legitimateJsonlStillParses() throws IOException {
        Path f = write("ok.jsonl", "{\"text\":\"say \\\"hi\\\" \\\\ o'clock\",\"n\":1.50}\n"
                + "{\"meta\":{\"a\":[1,{\"b\":null}],\"c\":{}},\"text\":\"caf\\u00e9 \\ud83d\\ude00\",\"n\":1e3,\"ok\":true}\n"
                + "  {\"text\" : \"spaced\" , \"k\":{\"text\":\"inner\"}}  \r\n");
        assertEquals(List.of("say \"hi\" \\ o'clock", "café 😀", "spaced"), texts(f));
        List<RecordSource.Row> rows = readAll(f);
        assertEquals("1.50", rows.get(0).scalar("n"));
        assertEquals("1e3", rows.get(1).scalar("n"));
        assertEquals("true", rows.get(1).scalar("ok"));
        assertEquals(List.of("meta", "text", "n", "ok"), rows.get(1).fields());
    }

    @Test
    void jsonlNullFieldSaysNull() throws IOException {
        Path f = write("null.jsonl", "{\"text\":\"a\"}\n\n{\"text\": null}\n");
        InputException e = error(f, 3, () -> texts(f));
        assertEquals(f + ":3: field 'text' is null; expected a string", e.getMessage());
        e = error(f, 3, () -> readAll(f).get(1).scalar("text"));
        assertTrue(e.getMessage().contains("field 'text' is null"), e.getMessage());
    }

    @Test
    void jsonlNonStringFieldSaysWhatItIs() throws IOException {
        Path f = write("obj.jsonl", "{\"text\":{\"a\":1}}\n");
        assertEquals(f + ":1: field 'text' is an object; expected a string", error(f, 1, () -> texts(f)).getMessage());
        Path g = write("num.jsonl", "{\"text\":3}\n");
        assertEquals(g + ":1: field 'text' is a number (3); expected a string", error(g, 1, () -> texts(g)).getMessage());
        Path h = write("arr.jsonl", "{\"text\":[\"a\"]}\n");
        assertEquals(h + ":1: field 'text' is an array; expected a string", error(h, 1, () -> texts(h)).getMessage());
        Path m = write("missing.jsonl", "{\"body\":\"x\"}\n");
        assertTrue(error(m, 1, () -> texts(m)).getMessage().contains("no field 'text'; the fields are [body]"));
    }

    @Test
    void csvRowWithMoreFieldsThanTheHeaderIsRejected() throws IOException {
        Path f = write("more.csv", "id,text\n1,a\n2,b,extra\n3,c\n");
        InputException e = error(f, 3, () -> readAll(f));
        assertTrue(e.getMessage().contains("3 fields") && e.getMessage().contains("2 columns"), e.getMessage());
    }

    @Test
    void csvRowWithFewerFieldsThanTheHeaderIsRejected() throws IOException {
        Path f = write("fewer.csv", "id,text,lang\n1,\"a\nb\",en\n2,c\n");
        InputException e = error(f, 4, () -> readAll(f));
        assertTrue(e.getMessage().contains("2 fields") && e.getMessage().contains("3 columns"), e.getMessage());
        Path g = write("blank.csv", "id,text\n1,a\n\n");
        assertTrue(error(g, 3, () -> readAll(g)).getMessage().contains("1 field"));
    }

    @Test
    void csvDuplicateColumnIsRejected() throws IOException {
        Path f = write("dup.csv", "text,id,text\na,1,b\n");
        InputException e = error(f, 1, () -> readAll(f));
        assertTrue(e.getMessage().contains("column 'text' appears twice"), e.getMessage());
    }

    @Test
    void legitimateCsvStillParses() throws IOException {
        Path f = write("ok.csv", "\uFEFFid,text\r\n1,\"a, b\"\r\n2,\"two\nlines, \"\"quoted\"\"\"\r\n3,\r\n4,\"\"\n");
        assertEquals(List.of("a, b", "two\nlines, \"quoted\"", "", ""), texts(f));
        assertEquals(List.of(2L, 3L, 5L, 6L), readAll(f).stream().map(RecordSource.Row::line).toList());
        Path one = write("one.csv", "text\na\n\nb\n");
        assertEquals(List.of("a", "", "b"), texts(one), "in a one-column CSV a blank line is an empty text");
    }
}
