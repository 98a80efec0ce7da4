package dev.univar.cli;

import dev.univar.corpus.Key;
import dev.univar.values.Views;
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

/** {@code univar map}: PNG and SVG figures, the CSV beside them, determinism, and escaping of corpus text. */
class MapCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void home() throws IOException {
        setUpHome();
    }

    @Test
    void pngMapOfRealAnswersIsDeterministicAndNotBlank() throws IOException {
        Path corpus = pctSubset(dir, 10);
        Path png = dir.resolve("map.png");
        String[] args = {"map", "--corpus", corpus.toString(), "--columns", PCT_COLUMNS, "--max-length", "64",
                "--view-size", "2", "--seed", "1", "--output", png.toString()};
        Run r = run(args);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().matches("(?s)umap layout of 150 views: trustworthiness \\(k=10\\) 0\\.\\d{4}\\s*"), r.out());
        assertPngNotBlank(png, 0.01);
        Path csv = dir.resolve("map.csv");
        List<CSVRecord> rows = readCsv(csv);
        assertEquals(150, rows.size());
        assertEquals("HuggingFaceH4/zephyr-7b-beta", rows.get(0).get("model"));
        String first = Files.readString(csv);
        Files.delete(csv);
        assertEquals(0, run(args).exit());
        assertEquals(first, Files.readString(csv), "same seed, same layout");
    }

    @Test
    void svgMapEscapesCorpusTextAndCsvKeepsItIntact() throws Exception {
        Path corpus = hostileCorpus(dir);
        for (String method : List.of("umap", "tsne", "pca")) {
            Path svg = dir.resolve("map-" + method + ".svg");
            Run r = run("map", "--corpus", corpus.toString(), "--max-length", "32", "--view-size", "2", "--method", method,
                    "--output", svg.toString());
            assertEquals(0, r.exit(), r.err());
            parseXml(svg);
            String text = Files.readString(svg);
            assertFalse(text.contains("<script"), "markup from the corpus must not reach the SVG");
            assertTrue(text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), text);
            assertTrue(text.contains("Tom &amp; Jerry&#39;s &quot;LLM&quot;"));
            List<CSVRecord> rows = readCsv(dir.resolve("map-" + method + ".csv"));
            assertEquals(45, rows.size());
            assertEquals("<script>alert(\"x\")</script>", rows.get(0).get("model"));
        }
        String raw = Files.readString(dir.resolve("map-umap.csv"));
        assertTrue(raw.contains("\"<script>alert(\"\"x\"\")</script>\""), "quotes doubled inside a quoted cell");
        // The formula a spreadsheet would run is written as text: a leading quote, inside a quoted cell.
        assertTrue(raw.contains("\"'=cmd|' /C calc'!A0\""), raw);
        assertFalse(raw.contains("\"=cmd"), raw);
    }

    @Test
    void badArgumentsNameTheProblem() throws IOException {
        Path corpus = hostileCorpus(dir);
        Run r = run("map", "--corpus", corpus.toString(), "--output", dir.resolve("m.gif").toString());
        assertEquals(2, r.exit()); // bad usage (was 1, against the README's promise of 2)
        assertTrue(r.err().contains("must end in .png or .svg"), r.err());
        r = run("map", "--corpus", corpus.toString(), "--view-size", "31", "--output", dir.resolve("m.png").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("has 30 answers, fewer than --view-size 31"), r.err());
        r = run("map", "--corpus", corpus.toString(), "--method", "mds", "--output", dir.resolve("m.png").toString());
        assertEquals(2, r.exit()); // bad usage (was 1, against the README's promise of 2)
        assertTrue(r.err().contains("--method must be umap, tsne or pca"), r.err());
        assertFalse(Files.exists(dir.resolve("m.png")));
    }

    @Test
    void csvGuardsTextCellsAgainstFormulasButNotNumbers() throws Exception {
        Key k = new Key("+cmd", "-x");
        List<Views.View> views = List.of(new Views.View(k, "t", List.of("@q1", "q2")), new Views.View(new Key("m", "en"), "t", List.of("=q")));
        double[][] xy = {{-0.5, 1}, {0.25, -2}};
        String csv = MapCommand.csv(new MapCommand.Result(views, xy, List.of("+cmd", "m"), List.of("-x", "en"),
                List.of(k, new Key("m", "en")), xy, 0.9, "pca"));
        Path f = Files.writeString(dir.resolve("c.csv"), csv);
        List<CSVRecord> rows = readCsv(f);
        assertEquals("'+cmd", rows.get(0).get("model"));
        assertEquals("'-x", rows.get(0).get("lang"));
        assertEquals("'@q1;q2", rows.get(0).get("questions"));
        assertEquals("'=q", rows.get(1).get("questions"));
        assertEquals("-0.500000", rows.get(0).get("x"), "a number we format is never prefixed");
        assertEquals("-2.000000", rows.get(1).get("y"));
        assertEquals("m", rows.get(1).get("model"));
    }
}
