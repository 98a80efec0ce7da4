package dev.univar.text;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/** Shared by the SentencePiece tests: skips without the library or the CLI, reads the shared data, runs spm_*. */
final class SentencePieceSupport {
    private SentencePieceSupport() {
    }

    /**
     * Skips when the shim is not built because libsentencepiece-dev is absent; fails when the headers are
     * there but the shim still does not load (a build problem that skipping would hide).
     */
    static void requireLibrary() {
        String reason = SentencePieceProcessor.unavailableReason();
        if (reason == null) return;
        if (Files.isRegularFile(Path.of("/usr/include/sentencepiece_processor.h")))
            fail("libsentencepiece-dev is installed but the SentencePiece shim does not load: " + reason);
        Assumptions.abort("SentencePiece shim not available (" + reason + "); skipping");
    }

    /** Skips when the {@code sentencepiece} command-line tools (spm_encode, spm_train) are absent. */
    static void requireCli() {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "spm_encode")));
        Assumptions.assumeTrue(found, "spm_encode not on PATH (apt-get install sentencepiece); skipping");
    }

    /** Every {@code question} and {@code statement} of {@code questions/*.jsonl}, in file order. */
    static List<String> questions(Path shared) throws IOException {
        List<String> texts = new ArrayList<>();
        try (Stream<Path> files = Files.list(shared.resolve("questions"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                    for (String field : List.of("question", "statement"))
                        if (o.has(field) && o.get(field).isJsonPrimitive()) texts.add(o.get(field).getAsString());
                }
            }
        }
        return texts;
    }

    /** The {@code completion} and {@code full_prompt} of every row of the LLM answer files {@code pct/*.csv}. */
    static List<String> pctAnswers(Path shared, int rowsPerFile) throws IOException {
        List<String> texts = new ArrayList<>();
        try (Stream<Path> files = Files.list(shared.resolve("pct"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".csv")).sorted().toList()) {
                try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8);
                     CSVParser csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                    if (!csv.getHeaderMap().containsKey("completion")) continue; // pct_propositions.csv
                    int n = 0;
                    for (CSVRecord row : csv) {
                        if (n++ == rowsPerFile) break;
                        texts.add(row.get("completion"));
                        texts.add(row.get("full_prompt"));
                    }
                }
            }
        }
        return texts;
    }

    /**
     * spm_encode and spm_normalize read one text per line, so a text's line breaks become spaces before it
     * is handed to either side of a comparison (SentencePiece's nmt_nfkc normalisation maps them to spaces
     * too, so the ids of the original text are the same; the parity test checks that as well).
     */
    static String oneLine(String text) {
        return text.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
    }

    /** Runs a command, feeding {@code stdin} from a file, and returns its stdout lines; fails on a non-zero exit. */
    static List<String> run(Path stdin, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("spm-out", ".txt");
        Path err = Files.createTempFile("spm-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (stdin != null) pb.redirectInput(stdin.toFile());
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", command) + " timed out");
            }
            if (p.exitValue() != 0)
                fail(String.join(" ", command) + " exited " + p.exitValue() + ": " + Files.readString(err));
            return Files.readAllLines(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Parses one line of {@code spm_encode --output_format=id}. */
    static int[] ids(String line) {
        if (line.isEmpty()) return new int[0];
        String[] parts = line.split(" ");
        int[] ids = new int[parts.length];
        for (int i = 0; i < ids.length; i++) ids[i] = Integer.parseInt(parts[i]);
        return ids;
    }
}
