package dev.univar.collect;

import dev.univar.data.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class CollectCorpusFileTest {
    @TempDir
    Path dir;

    static String line(String id, int sample) {
        return "{\"question_id\":\"" + id + "\",\"question\":\"q\",\"answer\":\"a\",\"model\":\"m\",\"lang\":\"en\",\"sample\":" + sample + "}";
    }

    static WorkItem.Key key(String id, int sample) {
        return new WorkItem.Key("m", id, "en", sample);
    }

    @Test
    void readsWhatIsThereAndAppends() throws IOException {
        Path f = Files.writeString(dir.resolve("c.jsonl"), line("a", 0) + "\n\n" + line("a", 1) + "\n");
        try (CorpusFile c = CorpusFile.open(f)) {
            assertEquals(2, c.validLines());
            assertTrue(c.done().contains(key("a", 1)));
            assertFalse(c.repaired());
            c.append(key("b", 0), line("b", 0));
        }
        assertTrue(Files.readString(f).endsWith(line("b", 0) + "\n"));
    }

    @Test
    void aTruncatedLastLineIsCutOff() throws IOException {
        String good = line("a", 0) + "\n";
        Path f = Files.writeString(dir.resolve("c.jsonl"), good + line("b", 0).substring(0, 30));
        try (CorpusFile c = CorpusFile.open(f)) {
            assertTrue(c.repaired());
            assertFalse(c.done().contains(key("b", 0)));
            c.append(key("b", 0), line("b", 0));
        }
        assertEquals(good + line("b", 0) + "\n", Files.readString(f));
    }

    @Test
    void aLastLineOfZerosIsCutOff() throws IOException {
        // What a power loss can leave: the file grew but the page never reached the disk.
        Path f = dir.resolve("c.jsonl");
        byte[] good = (line("a", 0) + "\n").getBytes();
        byte[] bytes = new byte[good.length + 40];
        System.arraycopy(good, 0, bytes, 0, good.length);
        bytes[bytes.length - 1] = '\n';
        Files.write(f, bytes);
        try (CorpusFile c = CorpusFile.open(f)) {
            assertTrue(c.repaired());
            assertEquals(1, c.validLines());
        }
        assertEquals(line("a", 0) + "\n", Files.readString(f));
    }

    @Test
    void aCompleteLastLineWithoutNewlineIsKept() throws IOException {
        Path f = Files.writeString(dir.resolve("c.jsonl"), line("a", 0));
        try (CorpusFile c = CorpusFile.open(f)) {
            assertFalse(c.repaired());
            assertTrue(c.done().contains(key("a", 0)));
            c.append(key("b", 0), line("b", 0));
        }
        assertEquals(line("a", 0) + "\n" + line("b", 0) + "\n", Files.readString(f));
    }

    @Test
    void aBadLineInTheMiddleIsAnErrorWithItsLine() throws IOException {
        Path f = Files.writeString(dir.resolve("c.jsonl"), line("a", 0) + "\n{\"text\":\"other tool\"}\n" + line("b", 0) + "\n");
        var e = assertThrows(InputException.class, () -> CorpusFile.open(f));
        assertEquals(f + ":2: no string field 'model' (not a line univar collect wrote)", e.getMessage());
        Path g = Files.writeString(dir.resolve("d.jsonl"), "{broken\n" + line("a", 0));
        e = assertThrows(InputException.class, () -> CorpusFile.open(g));
        assertTrue(e.getMessage().startsWith(g + ":1: malformed JSON"), e.getMessage());
    }

    @Test
    void twoWritersAreRefused() throws IOException {
        Path f = dir.resolve("c.jsonl");
        try (CorpusFile c = CorpusFile.open(f)) {
            var e = assertThrows(InputException.class, () -> CorpusFile.open(f));
            assertTrue(e.getMessage().contains("another univar collect is writing this file"), e.getMessage());
        }
        CorpusFile.open(f).close();
    }

    @Test
    void aFileThisRunCreatedAndNeverWroteIsRemovedOnClose() throws IOException {
        Path f = dir.resolve("new.jsonl");
        CorpusFile.open(f).close();
        assertFalse(Files.exists(f), "no empty file left behind");

        try (CorpusFile c = CorpusFile.open(f)) {
            c.append(key("a", 0), line("a", 0));
        }
        assertEquals(line("a", 0) + "\n", Files.readString(f));

        // An empty file that was there before the run is the user's: it stays.
        Path empty = Files.createFile(dir.resolve("empty.jsonl"));
        CorpusFile.open(empty).close();
        assertTrue(Files.exists(empty));
        assertEquals(0, Files.size(empty));
    }
}
