package dev.univar.cli;

import dev.univar.corpus.Key;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.univar.cli.AnalysisFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@code univar compare}: distances CSV, heatmaps, determinism. */
class CompareCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void home() throws IOException {
        setUpHome();
    }

    @Test
    void distancesBetweenRealLlmsWithHeatmap() throws Exception {
        Path corpus = pctSubset(dir, 10);
        Path csv = dir.resolve("d.csv"), png = dir.resolve("d.png");
        String[] args = {"compare", "--corpus", corpus.toString(), "--columns", PCT_COLUMNS, "--max-length", "64",
                "--permutations", "50", "--output", csv.toString(), "--heatmap", png.toString()};
        Run r = run(args);
        assertEquals(0, r.exit(), r.err());
        List<CSVRecord> rows = readCsv(csv);
        assertEquals(3, rows.size());
        for (CSVRecord row : rows) {
            double p = Double.parseDouble(row.get("mmd_p_value"));
            assertTrue(p > 0 && p <= 1);
            assertTrue(Double.parseDouble(row.get("centroid_cosine_distance")) > 0);
            assertTrue(Double.parseDouble(row.get("energy_distance")) > 0);
        }
        assertPngNotBlank(png, 0.05);
        String first = Files.readString(csv);
        assertEquals(0, run(args).exit());
        assertEquals(first, Files.readString(csv), "same seed, same distances and p-values");

        Path svg = dir.resolve("d.svg");
        assertEquals(0, run("compare", "--corpus", hostileCorpus(dir).toString(), "--max-length", "32", "--permutations", "20",
                "--output", dir.resolve("h.csv").toString(), "--heatmap", svg.toString()).exit());
        parseXml(svg);
        assertFalse(Files.readString(svg).contains("<script"));
        // Three LLMs with three different stances: every pair differs, at the smallest p 20 permutations allow.
        for (CSVRecord row : readCsv(dir.resolve("h.csv"))) assertEquals(1 / 21.0, Double.parseDouble(row.get("mmd_p_value")), 1e-5);
        assertTrue(readCsv(dir.resolve("h.csv")).stream().anyMatch(x -> x.get("key_a").equals("<script>alert(\"x\")</script>/en")
                || x.get("key_b").equals("<script>alert(\"x\")</script>/en")));
    }

    @Test
    void csvGuardsTextCellsAgainstFormulasButNotNumbers() throws Exception {
        List<Key> keys = List.of(new Key("=cmd|' /C calc'!A0", "en"), new Key("-evil", "@de"), new Key("plain", "en"));
        double[][] m = {{0, -0.5, 0.25}, {-0.5, 0, 0.125}, {0.25, 0.125, 0}};
        String csv = CompareCommand.csv(new CompareCommand.Result(keys, m, m, m, m, m, 10));
        List<CSVRecord> rows = parse(csv);
        assertEquals(3, rows.size());
        assertEquals("'=cmd|' /C calc'!A0/en", rows.get(0).get("key_a"));
        assertEquals("'-evil/@de", rows.get(0).get("key_b"));
        assertEquals("plain/en", rows.get(1).get("key_b"));
        assertEquals("-0.500000", rows.get(0).get("mmd2"), "a number we format is never prefixed");
        for (CSVRecord row : rows)
            for (String cell : row.values()) assertFalse(cell.matches("(?s)[=+@\t\r].*"), cell);
    }

    @Test
    void collidingKeysAreRejectedWhenTheCorpusIsRead() throws IOException {
        // Model a/b in language en and model a in language b/en both printed as a/b/en: one row written twice.
        Path corpus = Files.writeString(dir.resolve("corp.csv"),
                "question,answer,model,lang\nq,x,a/b,en\nq,y,a/b,en\nq,z,a,b/en\nq,w,a,b/en\nq,v,c,en\nq,u,c,en\n");
        Run r = run("compare", "--corpus", corpus.toString(), "--output", dir.resolve("d.csv").toString());
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains(corpus + ":4: language 'b/en' (column 'lang') contains '/'"), r.err());
        assertFalse(Files.exists(dir.resolve("d.csv")));
    }

    private static List<CSVRecord> parse(String csv) throws IOException {
        Path f = Files.createTempFile("distances", ".csv");
        try {
            return readCsv(Files.writeString(f, csv));
        } finally {
            Files.delete(f);
        }
    }
}
