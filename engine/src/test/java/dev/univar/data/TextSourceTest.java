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

class TextSourceTest {
    @TempDir
    Path dir;

    private List<TextRecord> readAll(Path file, String field) {
        List<TextRecord> out = new ArrayList<>();
        try (TextSource s = TextSource.open(file, field)) {
            while (s.hasNext()) out.add(s.next());
            assertEquals(1.0, s.progress(), 1e-9);
        }
        return out;
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    @Test
    void txtKeepsEmptyLinesAndSkipsByteOrderMark() throws IOException {
        List<TextRecord> r = readAll(write("a.txt", "\uFEFFfirst\n\nthird\r\nfourth"), "text");
        assertEquals(List.of("first", "", "third", "fourth"), r.stream().map(TextRecord::text).toList());
        assertEquals(List.of(1L, 2L, 3L, 4L), r.stream().map(TextRecord::line).toList());
    }

    @Test
    void jsonlReadsFieldAndSkipsBlankLines() throws IOException {
        List<TextRecord> r = readAll(write("a.jsonl", "{\"text\":\"a\\nb\",\"x\":1}\n\n{\"text\":\"c\"}\n"), "text");
        assertEquals(List.of("a\nb", "c"), r.stream().map(TextRecord::text).toList());
        assertEquals(List.of(1L, 3L), r.stream().map(TextRecord::line).toList());
    }

    @Test
    void malformedJsonlNamesFileAndLine() throws IOException {
        Path f = write("bad.jsonl", "{\"text\":\"ok\"}\n{\"text\": \"unterminated}\n");
        InputException e = assertThrows(InputException.class, () -> readAll(f, "text"));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().startsWith(f + ":2: malformed JSON"), e.getMessage());
    }

    @Test
    void jsonlMissingOrNonStringField() throws IOException {
        InputException e = assertThrows(InputException.class, () -> readAll(write("m.jsonl", "{\"body\":\"x\"}\n"), "text"));
        assertTrue(e.getMessage().contains(":1: no field 'text'"), e.getMessage());
        e = assertThrows(InputException.class, () -> readAll(write("n.jsonl", "{\"text\":\"x\"}\n{\"text\":3}\n"), "text"));
        assertTrue(e.getMessage().contains(":2: field 'text' is a number"), e.getMessage());
        e = assertThrows(InputException.class, () -> readAll(write("o.jsonl", "[1,2]\n"), "text"));
        assertTrue(e.getMessage().contains(":1: expected a JSON object"), e.getMessage());
    }

    @Test
    void csvWithMultiLineQuotedFieldsReportsStartingLines() throws IOException {
        Path f = write("a.csv", "id,text\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n3,plain\n");
        List<TextRecord> r = readAll(f, "text");
        assertEquals(List.of("two\nlines", "say \"hi\"", "plain"), r.stream().map(TextRecord::text).toList());
        assertEquals(List.of(2L, 4L, 5L), r.stream().map(TextRecord::line).toList());
    }

    @Test
    void csvWithoutTheColumnNamesTheColumns() throws IOException {
        Path f = write("a.csv", "id,body\n1,x\n");
        InputException e = assertThrows(InputException.class, () -> readAll(f, "text"));
        assertTrue(e.getMessage().startsWith(f + ":1: no column 'text'"), e.getMessage());
        assertTrue(e.getMessage().contains("[id, body]"), e.getMessage());
    }

    @Test
    void malformedCsvNamesLine() throws IOException {
        Path f = write("bad.csv", "id,text\n1,ok\n2,\"broken\"x\n");
        InputException e = assertThrows(InputException.class, () -> readAll(f, "text"));
        assertTrue(e.getMessage().startsWith(f + ":"), e.getMessage());
        assertTrue(e.getMessage().contains("malformed CSV"), e.getMessage());
    }

    @Test
    void invalidUtf8NamesTheLine() throws IOException {
        Path f = dir.resolve("bad.txt");
        byte[] bad = {'o', 'k', '\n', 'f', 'i', 'n', 'e', '\n', (byte) 0xC3, (byte) 0x28, '\n'};
        Files.write(f, bad);
        InputException e = assertThrows(InputException.class, () -> readAll(f, "text"));
        assertEquals(3, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("invalid UTF-8"));
    }

    @Test
    void invalidUtf8InLargeFileNamesTheRightLine() throws IOException {
        Path f = dir.resolve("big.txt");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20000; i++) sb.append("line number ").append(i).append('\n');
        byte[] good = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[good.length + 3];
        System.arraycopy(good, 0, all, 0, good.length);
        all[good.length] = 'x';
        all[good.length + 1] = (byte) 0xFF;
        all[good.length + 2] = '\n';
        Files.write(f, all);
        InputException e = assertThrows(InputException.class, () -> readAll(f, "text"));
        assertEquals(20001, e.line(), e.getMessage());
    }

    @Test
    void missingFileAndUnknownExtension() {
        InputException e = assertThrows(InputException.class, () -> TextSource.open(dir.resolve("nope.txt"), "text"));
        assertTrue(e.getMessage().endsWith("nope.txt: no such file"), e.getMessage());
        e = assertThrows(InputException.class, () -> TextSource.open(dir.resolve("x.parquet"), "text"));
        assertTrue(e.getMessage().contains("unknown input format"));
    }

    @Test
    void emptyFilesGiveNoTexts() throws IOException {
        assertTrue(readAll(write("e.txt", ""), "text").isEmpty());
        assertTrue(readAll(write("e.jsonl", ""), "text").isEmpty());
    }
}
