package dev.univar.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.univar.cli.AnalysisFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * No command destroys its inputs, takes unbounded threads, or answers bad usage with anything but one line and
 * exit code 2; outputs are checked before any work.
 */
class OutputSafetyTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void home() throws IOException {
        setUpHome();
    }

    private static void assertOneErrorLine(Run r) {
        assertEquals(1, r.err().lines().filter(l -> l.contains("error:")).count(), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    /** A small random BERT with MiniLM's tokenizer: a base model that is quick to load. */
    private Path smallModel(String name) throws IOException {
        Path tokenizer = Path.of(System.getProperty("univar.home"), "models", "all-minilm-l6-v2", "tokenizer.json");
        Path out = dir.resolve(name);
        Run r = run("init", "--tokenizer", tokenizer.toString(), "--layers", "1", "--hidden", "16", "--heads", "2",
                "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        return out;
    }

    @Test
    void trainRefusesToWriteOverItsBaseModelOrTheModelStore() throws IOException {
        Path corpus = hostileCorpus(dir);
        Path base = smallModel("bc");
        byte[] weights = Files.readAllBytes(base.resolve("model.safetensors"));
        Run r = run("train", "--corpus", corpus.toString(), "--base", base.toString(), "--output", base.toString(),
                "--steps", "2", "--batch-size", "4", "--max-length", "16");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--output " + base + " is the base model's folder"), r.err());
        assertOneErrorLine(r);
        assertArrayEquals(weights, Files.readAllBytes(base.resolve("model.safetensors")));

        Path store = Path.of(System.getProperty("univar.home"), "models", "all-minilm-l6-v2");
        byte[] minilm = Files.readAllBytes(store.resolve("config.json"));
        r = run("train", "--corpus", corpus.toString(), "--base", base.toString(), "--output", store.toString(),
                "--steps", "2", "--batch-size", "4", "--max-length", "16");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("is inside univar's model store"), r.err());
        assertArrayEquals(minilm, Files.readAllBytes(store.resolve("config.json")));

        Path file = Files.writeString(dir.resolve("file.csv"), "x\n");
        r = run("train", "--corpus", corpus.toString(), "--base", base.toString(), "--output", file.toString(),
                "--steps", "2", "--batch-size", "4", "--max-length", "16");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains(file + " is a file; training writes a model folder there"), r.err());
        assertOneErrorLine(r);
    }

    @Test
    void noOutputMayBeAnInput() throws IOException {
        Path corpus = hostileCorpus(dir);
        byte[] before = Files.readAllBytes(corpus);
        Run r = run("compare", "--corpus", corpus.toString(), "--output", corpus.toString(), "--max-length", "16");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--output " + corpus + " is the input " + corpus), r.err());
        assertOneErrorLine(r);

        // map writes its coordinates beside the figure: map.svg's map.csv here is the corpus.
        Path d = Files.createDirectories(dir.resolve("d"));
        Path mapCsv = Files.copy(corpus, d.resolve("map.csv"));
        r = run("map", "--corpus", mapCsv.toString(), "--output", d.resolve("map.svg").toString(), "--max-length", "16");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("the coordinates file of --output, " + mapCsv + " is the input"), r.err());
        assertFalse(Files.exists(d.resolve("map.svg")));

        // The same file under another name: a hard link, a symbolic link, a file inside a corpus folder.
        Path hard = Files.createLink(dir.resolve("hard.csv"), corpus);
        r = run("compare", "--corpus", corpus.toString(), "--output", hard.toString(), "--max-length", "16");
        assertEquals(2, r.exit(), r.err());
        Path soft = Files.createSymbolicLink(dir.resolve("soft.csv"), corpus);
        r = run("eval", "--corpus", soft.toString(), "--output", dir.resolve("e.json").toString(), "--max-length", "16");
        assertNotEquals(2, r.exit(), "reading through a link is fine: " + r.err());
        Files.writeString(d.resolve("e.json"), "{}");
        r = run("eval", "--corpus", d.toString(), "--output", d.resolve("e.json").toString(), "--max-length", "16");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("is inside the input folder " + d), r.err());
        assertArrayEquals(before, Files.readAllBytes(corpus), "the corpus is untouched");

        // embed into the input file, tokenizer train over its own input.
        Path texts = Files.writeString(dir.resolve("t.npy"), "not really npy\n");
        r = run("embed", "--input", texts.toString(), "--output", texts.toString());
        assertEquals(2, r.exit(), r.err());
        assertEquals("not really npy\n", Files.readString(texts));
    }

    @Test
    void outputsAreCheckedBeforeAnyWork() throws IOException {
        Path input = Files.writeString(dir.resolve("in.txt"), "one\ntwo\n");
        Path folder = Files.createDirectories(dir.resolve("existing_dir.npy"));
        long start = System.nanoTime();
        Run r = run("embed", "--input", input.toString(), "--output", folder.toString(), "--model", dir.resolve("absent-model").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--output " + folder + " is a folder; it must name a file"), r.err());
        assertFalse(r.err().contains("neither a known model"), "checked before the model is looked at: " + r.err());
        assertOneErrorLine(r);
        assertTrue(System.nanoTime() - start < 5_000_000_000L);

        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys")));
        r = run("embed", "--input", input.toString(), "--output", "/sys/o.npy");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("cannot write /sys/o.npy: permission denied"), r.err());
        assertFalse(r.err().contains(".partial"), "the message names the output, not a temporary file: " + r.err());
        assertOneErrorLine(r);
    }

    @Test
    void outOfRangeOptionValuesAreUsageErrors() throws IOException {
        Path input = Files.writeString(dir.resolve("in.txt"), "one\n");
        String out = dir.resolve("o.npy").toString();
        String cores = String.valueOf(Runtime.getRuntime().availableProcessors());
        for (String[] bad : List.of(
                new String[]{"--threads", "100000", "--threads must be between 1 and " + 4 * Integer.parseInt(cores) + ", got 100000"},
                new String[]{"--threads", "2147483647", "got 2147483647"},
                new String[]{"--threads", "0", "--threads must be between 1"},
                new String[]{"--batch-size", "0", "--batch-size must be at least 1, got 0"},
                new String[]{"--max-length", "1", "--max-length must be at least 2, got 1"})) {
            Run r = run("embed", "--input", input.toString(), "--output", out, bad[0], bad[1]);
            assertEquals(2, r.exit(), String.join(" ", bad) + ": " + r.err());
            assertTrue(r.err().contains(bad[2]), r.err());
            assertOneErrorLine(r);
        }
        Run r = run("embed", "--input", input.toString(), "--output", dir.resolve("o.bin").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("must end in .npy"), r.err());

        Path corpus = hostileCorpus(dir);
        r = run("train", "--corpus", corpus.toString(), "--output", dir.resolve("t").toString(), "--steps", "0");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--steps must be at least 1, got 0"), r.err());
        r = run("train", "--corpus", corpus.toString(), "--output", dir.resolve("t").toString(), "--threads", "100000");
        assertEquals(2, r.exit(), r.err());
        r = run("compare", "--corpus", corpus.toString(), "--output", dir.resolve("c.csv").toString(), "--permutations", "0");
        assertEquals(2, r.exit(), r.err());
        r = run("map", "--corpus", corpus.toString(), "--output", dir.resolve("m.png").toString(), "--method", "mds");
        assertEquals(2, r.exit(), r.err());
        r = run("bench", "gemm", "--threads", "100000");
        assertEquals(2, r.exit(), r.err());
        assertFalse(Files.exists(dir.resolve("t")), "nothing written");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }

    @Test
    void aStalePartialLeftByAKilledRunIsRemovedByTheNextRun() throws IOException {
        Path input = Files.writeString(dir.resolve("in.txt"), "one\n");
        Path stale = Files.writeString(dir.resolve(".o.npy.00000000deadbeef.partial"), "what kill -9 left");
        Run r = run("embed", "--input", input.toString(), "--output", dir.resolve("o.npy").toString());
        assertEquals(0, r.exit(), r.err());
        assertFalse(Files.exists(stale));
    }
}
