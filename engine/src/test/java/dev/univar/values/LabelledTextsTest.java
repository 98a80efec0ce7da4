package dev.univar.values;

import dev.univar.data.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LabelledTextsTest {
    @TempDir
    Path dir;

    @Test
    void readsQuotedFieldsAndRejectsRecordsOfTheWrongWidth() throws IOException {
        Path ok = Files.writeString(dir.resolve("ok.csv"), "\uFEFFmodel,q,answer\nm1,q1,\"yes, \"\"mostly\"\"\nand more\"\nm2,q1,no\n");
        LabelledTexts t = LabelledTexts.readCsv(ok, "model", "q", "answer");
        assertEquals(List.of("m1", "m2"), t.labels());
        assertEquals(List.of("yes, \"mostly\"\nand more", "no"), t.texts());

        Path wide = Files.writeString(dir.resolve("wide.csv"), "model,q,answer\nm1,q1,\"a\nb\"\nm2,q1,yes, mostly\n");
        InputException e = assertThrows(InputException.class, () -> LabelledTexts.readCsv(wide, "model", "q", "answer"));
        assertTrue(e.getMessage().startsWith(wide + ":4: record has 4 fields but the header has 3 columns"), e.getMessage());
        Path narrow = Files.writeString(dir.resolve("narrow.csv"), "model,q,answer\nm1,q1\n");
        e = assertThrows(InputException.class, () -> LabelledTexts.readCsv(narrow, "model", "q", "answer"));
        assertTrue(e.getMessage().startsWith(narrow + ":2: record has 2 fields"), e.getMessage());
        e = assertThrows(InputException.class, () -> LabelledTexts.readCsv(ok, "llm", "q", "answer"));
        assertTrue(e.getMessage().startsWith(ok + ":1: no column 'llm'"), e.getMessage());
    }
}
