package dev.univar.cli;

import dev.univar.text.SentencePieceProcessor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code univar tokenizer train} and {@code univar tokenize --spm-model}, end to end through {@link Main#run}. */
class TokenizerCommandTest {
    @TempDir
    Path dir;


    static Run run(String... args) {
        return Run.of(args);
    }

    /** Skips without libsentencepiece-dev; fails when it is installed but the shim still does not load. */
    @BeforeAll
    static void requireLibrary() {
        String reason = SentencePieceProcessor.unavailableReason();
        if (reason == null) return;
        if (Files.isRegularFile(Path.of("/usr/include/sentencepiece_processor.h")))
            fail("libsentencepiece-dev is installed but the SentencePiece shim does not load: " + reason);
        abort("SentencePiece shim not available (" + reason + "); skipping");
    }

    static boolean hasSpmCli() {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "spm_encode")));
    }

    /** 2,000 texts of pseudo-words from a fixed seed: varied enough for a few hundred pieces. */
    static List<String> corpus() {
        String[] syllables = {"fa", "ir", "ness", "free", "dom", "tra", "di", "tion", "equ", "al", "ity", "wer", "te",
                "frei", "heit", "价", "值", "观", "自", "由", "価", "値", "と", "the", "of", "hu", "man", "val", "ues", "so",
                "ci", "ety", "an", "swer", "ques", "ti", "on", "mo", "del", "ka", "ro", "ün", "ß"};
        java.util.Random random = new java.util.Random(42);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            StringBuilder s = new StringBuilder();
            int words = 4 + random.nextInt(10);
            for (int w = 0; w < words; w++) {
                int len = 1 + random.nextInt(3);
                for (int k = 0; k < len; k++) s.append(syllables[random.nextInt(syllables.length)]);
                s.append(' ');
            }
            texts.add(s.toString().strip() + (i % 5 == 0 ? "." : "?"));
        }
        return texts;
    }

    void assertNoTempFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> partial = s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".partial")).toList();
            assertEquals(List.of(), partial, "no temp file left");
        }
    }

    @Test
    void trainsModelsThatSpmEncodeLoadsAndTokenizePrintsSpmEncodesIds() throws Exception {
        List<String> texts = corpus();
        Path txt = Files.write(dir.resolve("corpus.txt"), texts, StandardCharsets.UTF_8);
        for (String type : List.of("unigram", "bpe")) {
            Path prefix = dir.resolve("m-" + type);
            Run r = run("tokenizer", "train", "--input", txt.toString(), "--output", prefix.toString(),
                    "--vocab-size", "200", "--model-type", type, "--character-coverage", "1.0");
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.err().contains("trained a " + type + " model of 200 pieces on 2,000 texts"), r.err());
            assertTrue(Files.size(dir.resolve("m-" + type + ".model")) > 0);
            assertTrue(Files.readAllLines(dir.resolve("m-" + type + ".vocab")).size() == 200);
            assertNoTempFiles();

            // Inputs as for embed: the same texts as .jsonl and .csv give the same ids as the .txt.
            Path model = dir.resolve("m-" + type + ".model");
            Run fromTxt = run("tokenize", "--spm-model", model.toString(), "--input", txt.toString());
            assertEquals(0, fromTxt.exit(), fromTxt.err());
            List<String> lines = fromTxt.out().lines().toList();
            assertEquals(texts.size(), lines.size());
            StringBuilder jsonl = new StringBuilder(), csv = new StringBuilder("id,text\n");
            for (int i = 0; i < texts.size(); i++) {
                jsonl.append("{\"text\": \"").append(texts.get(i)).append("\"}\n");
                csv.append(i).append(",\"").append(texts.get(i)).append("\"\n");
            }
            Path j = Files.writeString(dir.resolve("t.jsonl"), jsonl), c = Files.writeString(dir.resolve("t.csv"), csv);
            assertEquals(fromTxt.out(), run("tokenize", "--spm-model", model.toString(), "--input", j.toString()).out());
            assertEquals(fromTxt.out(), run("tokenize", "--spm-model", model.toString(), "--input", c.toString()).out());

            if (hasSpmCli()) {
                Process p = new ProcessBuilder("spm_encode", "--model=" + model, "--output_format=id")
                        .redirectInput(txt.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String spm = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), "spm_encode loads the model univar trained");
                List<String> expected = spm.lines().map(l -> "[" + l.replace(' ', ',') + "]").toList();
                assertEquals(expected, lines, type);
            }
        }
    }

    @Test
    void tokenizeTruncatesAndKeepsEmptyTexts() throws IOException {
        Path txt = Files.write(dir.resolve("corpus.txt"), corpus(), StandardCharsets.UTF_8);
        assertEquals(0, run("tokenizer", "train", "--input", txt.toString(), "--output", dir.resolve("m.model").toString(),
                "--vocab-size", "150").exit(), "a trailing .model in --output is dropped");
        Path model = dir.resolve("m.model");
        assertTrue(Files.isRegularFile(model) && Files.isRegularFile(dir.resolve("m.vocab")));
        Path in = Files.writeString(dir.resolve("in.txt"), "fairness and freedom of human values\n\nfreedom\n");
        Run r = run("tokenize", "--spm-model", model.toString(), "--input", in.toString(), "--max-length", "3");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size());
        assertEquals(3, lines.get(0).split(",").length);
        assertEquals("[]", lines.get(1));
    }

    @Test
    void badArgumentsAndFailuresAreClearAndLeaveNothing() throws IOException {
        Path txt = Files.write(dir.resolve("corpus.txt"), corpus().subList(0, 50), StandardCharsets.UTF_8);
        String out = dir.resolve("bad").toString();
        assertEquals(2, run("tokenizer", "train", "--input", txt.toString(), "--output", out).exit(), "--vocab-size required");
        Run r = run("tokenizer", "train", "--input", txt.toString(), "--output", out, "--vocab-size", "100",
                "--model-type", "word");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--model-type must be unigram or bpe"), r.err());
        assertEquals(2, run("tokenizer", "train", "--input", txt.toString(), "--output", out, "--vocab-size", "100",
                "--character-coverage", "1.5").exit());

        r = run("tokenizer", "train", "--input", txt.toString(), "--output", out, "--vocab-size", "100000");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("Vocabulary size too high"), r.err());
        r = run("tokenizer", "train", "--input", dir.resolve("missing.txt").toString(), "--output", out, "--vocab-size", "100");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("missing.txt: no such file"), r.err());
        Path empty = Files.writeString(dir.resolve("empty.txt"), "\n\n");
        r = run("tokenizer", "train", "--input", empty.toString(), "--output", out, "--vocab-size", "100");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("no non-empty texts"), r.err());
        r = run("tokenizer", "train", "--input", txt.toString(), "--output", dir.resolve("no/such/dir/m").toString(),
                "--vocab-size", "100");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("no such directory"), r.err());
        assertFalse(Files.exists(dir.resolve("bad.model")));
        assertFalse(Files.exists(dir.resolve("bad.vocab")));
        assertNoTempFiles();

        r = run("tokenize", "--spm-model", txt.toString(), "--input", txt.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("not a SentencePiece model"), r.err());
        assertEquals(2, run("tokenize", "--spm-model", txt.toString(), "--model", "minilm", "--input", txt.toString()).exit());
    }

    @Test
    void helpListsTheTokenizerCommand() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("tokenizer"), r.out());
        r = run("tokenizer", "--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("train"), r.out());
    }
}
