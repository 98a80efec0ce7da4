package dev.univar.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.univar.cli.AnalysisFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@code univar report}: one self-contained HTML file, corpus text escaped, rendered by a real browser. */
class ReportCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void home() throws IOException {
        setUpHome();
    }

    @Test
    void reportIsSelfContainedEscapedAndRendersInChromium() throws Exception {
        Path html = dir.resolve("report.html");
        Run r = run("report", "--corpus", hostileCorpus(dir).toString(), "--max-length", "32", "--map-view-size", "2",
                "--permutations", "20", "--knn", "5", "--probe", "--baseline", "minilm", "--output", html.toString());
        assertEquals(0, r.exit(), r.err());
        String text = Files.readString(html);
        assertFalse(text.contains("<script"), "no markup from the corpus, and no scripts at all");
        assertTrue(text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        assertTrue(text.contains("Tom &amp; Jerry&#39;s &quot;LLM&quot;"));
        assertTrue(text.contains("<h2>Identifying LLMs</h2>") && text.contains("<h2>Value map</h2>")
                && text.contains("<h2>Distances between keys</h2>"));
        assertEquals(3, count(text, "<svg "), "accuracy against answers per decision, map and heatmap inline");
        assertTrue(text.contains("<h3>Combining answers</h3>"));
        // Nothing is fetched: no src/href attributes at all (the SVG namespace is a name, not a fetch).
        assertFalse(Pattern.compile("\\b(src|href)\\s*=", Pattern.CASE_INSENSITIVE).matcher(text).find());
        assertFalse(text.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").matches("(?s).*https?://.*"));
        // Each SVG block is well-formed XML by itself.
        Matcher m = Pattern.compile("(?s)<svg .*?</svg>").matcher(text);
        while (m.find()) parseXml(Files.writeString(dir.resolve("part.svg"), m.group()));

        Path chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium is not installed (scripts/test.sh installs it)");
        Path shot = dir.resolve("shot.png");
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile"),
                "--screenshot=" + shot, "--window-size=1200,2000", html.toUri().toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        boolean done = p.waitFor(90, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        assertTrue(done, "chromium finished");
        assertTrue(Files.isRegularFile(shot), "screenshot written: " + Files.readString(dir.resolve("chromium.log")));
        BufferedImage img = assertPngNotBlank(shot, 0.02);
        assertEquals(1200, img.getWidth());
    }

    static Path chromium() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) return p;
            }
        }
        return null;
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }
}
