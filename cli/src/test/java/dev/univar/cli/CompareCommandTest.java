package dev.univar.cli;

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
}
