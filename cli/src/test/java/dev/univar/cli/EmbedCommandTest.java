package dev.univar.cli;

import dev.univar.cpu.CpuBackend;
import dev.univar.io.ModelStore;
import dev.univar.nn.EmbeddingModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The {@code embed}, {@code tokenize} and {@code demo} commands end to end, through {@link Main#run}. */
class EmbedCommandTest {
    static Path home;

    @TempDir
    Path dir;


    @BeforeAll
    static void importModelOnce() throws IOException {
        home = Files.createTempDirectory("univar-home");
        System.setProperty("univar.home", home.toString());
        ModelStore.resolve("minilm", m -> { });
    }

    static Run run(String... args) {
        return Run.of(args);
    }

    static float[][] readNpy(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = Short.toUnsignedInt(b.getShort(8));
        String header = new String(b.array(), 10, headerLen, StandardCharsets.US_ASCII);
        String[] dims = header.substring(header.indexOf("'shape': (") + 10, header.indexOf(')')).split(",\\s*");
        int rows = Integer.parseInt(dims[0].trim()), cols = Integer.parseInt(dims[1].trim());
        b.position(10 + headerLen);
        float[][] m = new float[rows][cols];
        for (float[] row : m) for (int c = 0; c < cols; c++) row[c] = b.getFloat();
        return m;
    }

    void assertNothingWritten(Path output) throws IOException {
        assertFalse(Files.exists(output), "no output on failure");
        try (Stream<Path> s = Files.list(output.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")), "no temp file left");
        }
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        for (String c : List.of("demo", "embed", "tokenize")) assertTrue(r.out().contains(c), r.out());
    }

    @Test
    void embedKeepsInputOrderAndMatchesTheModel() throws IOException {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 75; i++) texts.add(i % 3 == 0 ? "short " + i : "a longer text about values number " + i + " ".repeat(i) + "fairness ".repeat(i % 11));
        Path input = Files.write(dir.resolve("in.txt"), texts, StandardCharsets.UTF_8);
        Path output = dir.resolve("out.npy");
        Run r = run("embed", "--input", input.toString(), "--output", output.toString(), "--batch-size", "8",
                "--max-length", "64", "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        float[][] m = readNpy(output);
        assertEquals(75, m.length);
        assertEquals(384, m[0].length);
        try (EmbeddingModel model = EmbeddingModel.load(ModelStore.resolve("minilm", x -> { }), new CpuBackend(1))) {
            for (int i : new int[]{0, 1, 2, 40, 74}) {
                float[] expected = model.embed(List.of(texts.get(i)), 64)[0];
                for (int d = 0; d < 384; d++) assertEquals(expected[d], m[i][d], 1e-5, "row " + i);
            }
        }
        assertTrue(r.err().contains("embedded 75 texts"), r.err());
    }

    @Test
    void jsonlAndCsvInputs() throws IOException {
        Path jsonl = Files.writeString(dir.resolve("a.jsonl"), "{\"body\":\"one\"}\n{\"body\":\"two\"}\n");
        Path out1 = dir.resolve("a.npy");
        assertEquals(0, run("embed", "--input", jsonl.toString(), "--output", out1.toString(), "--text-field", "body").exit());
        Path csv = Files.writeString(dir.resolve("a.csv"), "id,text\n1,one\n2,\"two\"\n");
        Path out2 = dir.resolve("b.npy");
        assertEquals(0, run("embed", "--input", csv.toString(), "--output", out2.toString()).exit());
        float[][] a = readNpy(out1), b = readNpy(out2);
        assertEquals(2, a.length);
        assertArrayEquals(a[1], b[1], 1e-6f);
    }

    @Test
    void emptyInputGivesZeroRows() throws IOException {
        Path input = Files.writeString(dir.resolve("empty.txt"), "");
        Path output = dir.resolve("empty.npy");
        Run r = run("embed", "--input", input.toString(), "--output", output.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(0, readNpy(output).length);
        assertTrue(new String(Files.readAllBytes(output), StandardCharsets.US_ASCII).contains("(0, 384)"));
    }

    @Test
    void badInputsFailWithFileAndLineAndLeaveNoOutput() throws IOException {
        Path output = dir.resolve("never.npy");
        Path missing = dir.resolve("missing.txt");
        Run r = run("embed", "--input", missing.toString(), "--output", output.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(missing + ": no such file"), r.err());
        assertNothingWritten(output);

        Path jsonl = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\":\"fine\"}\n{\"text\":\"fine\"}\n{oops\n");
        r = run("embed", "--input", jsonl.toString(), "--output", output.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(jsonl + ":3: malformed JSON"), r.err());
        assertNothingWritten(output);

        Path csv = Files.writeString(dir.resolve("nocol.csv"), "id,body\n1,x\n");
        r = run("embed", "--input", csv.toString(), "--output", output.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(csv + ":1: no column 'text'"), r.err());
        assertNothingWritten(output);

        Path utf8 = dir.resolve("bad.txt");
        Files.write(utf8, new byte[]{'o', 'k', '\n', (byte) 0xC0, (byte) 0xAF, '\n'});
        r = run("embed", "--input", utf8.toString(), "--output", output.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(utf8 + ":2: invalid UTF-8"), r.err());
        assertNothingWritten(output);
    }

    @Test
    void overLongTextsAreTruncatedWithANotice() throws IOException {
        Path input = Files.write(dir.resolve("long.txt"), List.of("short", "word ".repeat(500)), StandardCharsets.UTF_8);
        Path output = dir.resolve("long.npy");
        Run r = run("embed", "--input", input.toString(), "--output", output.toString(), "--max-length", "128");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains(input + ":2: text of 502 tokens truncated to --max-length 128"), r.err());
        assertEquals(2, readNpy(output).length);
    }

    @Test
    void badArgumentsAreUsageErrors() throws IOException {
        Path input = Files.writeString(dir.resolve("x.txt"), "x\n");
        assertEquals(2, run("embed", "--input", input.toString()).exit());
        assertEquals(2, run("embed", "--input", input.toString(), "--output", dir.resolve("x.bin").toString()).exit()); // was 1, against the README
        assertEquals(1, run("embed", "--input", input.toString(), "--output", dir.resolve("x.npy").toString(),
                "--max-length", "100000").exit());
        Run r = run("embed", "--input", input.toString(), "--output", dir.resolve("y.npy").toString(), "--model", dir.resolve("nomodel").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("neither a known model name"), r.err());
    }

    @Test
    void tokenizePrintsOneJsonArrayPerText() throws IOException {
        Path input = Files.write(dir.resolve("t.txt"), List.of("Hello, world!", ""), StandardCharsets.UTF_8);
        Run r = run("tokenize", "--input", input.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("[101,7592,1010,2088,999,102]\n[101,102]\n", r.out());
    }

    @Test
    void killedRunLeavesNoOutput() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20000; i++) lines.add("text number " + i + " about the values of fairness and care");
        Path input = Files.write(dir.resolve("big.txt"), lines, StandardCharsets.UTF_8);
        Path output = dir.resolve("big.npy");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dunivar.home=" + home, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "embed", "--input", input.toString(), "--output", output.toString(), "--threads", "1")
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        boolean partialSeen = false;
        while (System.nanoTime() < deadline && p.isAlive() && !partialSeen) {
            try (Stream<Path> s = Files.list(dir)) {
                partialSeen = s.anyMatch(f -> f.getFileName().toString().endsWith(".partial"));
            }
            Thread.sleep(20);
        }
        assertTrue(partialSeen, "the child started writing: " + Files.readString(dir.resolve("child.log")));
        Thread.sleep(300);
        p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs
        assertFalse(Files.exists(output), "a killed run leaves nothing at the output path");
    }

    @Test
    void demoRunsTheWholeJobAndSaysWhereEverythingIs() throws IOException {
        Path sample = Path.of(System.getProperty("univar.root", ".."), "data", "sample", "pct-answers.csv");
        Path out = dir.resolve("demo");
        // A smoke test of the wiring: two training steps, short texts (the real demo trains 60 steps at 128 tokens).
        Run r = run("demo", "--sample", sample.toAbsolutePath().toString(), "--max-length", "32", "--steps", "2",
                "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        for (String f : List.of("eval.json", "map.png", "map.csv", "distances.csv", "distances.png", "report.html")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
            assertTrue(r.out().contains(out.resolve(f).toAbsolutePath().toString()), r.out());
        }
        assertTrue(r.out().contains("trained model"), r.out());
        assertTrue(r.out().contains("minilm"), "the table compares with the base model: " + r.out());
        // A second run reuses the trained model.
        Run again = run("demo", "--sample", sample.toAbsolutePath().toString(), "--max-length", "32", "--steps", "2",
                "--output", out.toString());
        assertEquals(0, again.exit(), again.err());
        assertTrue(again.err().contains("already reached step 2"), again.err());
        // The same sample at another path (another clone of the project) trains its own model: it used to hit the
        // first run's cache entry, whose --resume refused a different corpus path.
        Path moved = Files.createDirectories(dir.resolve("other-clone")).resolve("pct-answers.csv");
        Files.copy(sample, moved);
        Run elsewhere = run("demo", "--sample", moved.toString(), "--max-length", "32", "--steps", "2",
                "--output", dir.resolve("demo2").toString());
        assertEquals(0, elsewhere.exit(), elsewhere.err());
    }
}
