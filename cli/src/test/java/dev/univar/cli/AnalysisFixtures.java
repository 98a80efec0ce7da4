package dev.univar.cli;

import dev.univar.io.ModelStore;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Assumptions;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Small corpora and checks shared by the eval, map, compare and report tests. */
final class AnalysisFixtures {
    static final String PCT_COLUMNS = "question=full_prompt,answer=completion,model=model,question_id=pct_id";
    static final List<String> PCT_MODELS = List.of("Llama-2-7b-chat-hf", "Mistral-7B-Instruct-v0.2", "zephyr-7b-beta");
    private static Path home;

    private AnalysisFixtures() {
    }


    /** One model cache (and embedding cache) for every analysis test in this JVM: the import happens once. */
    static synchronized void setUpHome() throws IOException {
        if (home == null) {
            home = Files.createTempDirectory("univar-analysis-home");
            System.setProperty("univar.home", home.toString());
            ModelStore.resolve("minilm", m -> { });
        }
        System.setProperty("univar.home", home.toString());
    }

    static Run run(String... args) {
        return Run.of(args);
    }

    /** The real PCT data, or the test is skipped. */
    static Path pctData() {
        String shared = System.getProperty("univar.shared.data");
        Path dir = shared == null || shared.isBlank() || shared.startsWith("${") ? null : Path.of(shared, "pct");
        Assumptions.assumeTrue(dir != null && Files.isDirectory(dir), "../shared/data/pct not available (-Dunivar.shared.data)");
        return dir;
    }

    /**
     * 3 LLMs × the first {@code questions} PCT propositions (all 10 templates) of the real data, as one CSV. The
     * {@code full_prompt} column holds the bare proposition: the full prompt is ~70 tokens, which would leave the
     * answer no room at the tests' short --max-length.
     */
    static Path pctSubset(Path dir, int questions) throws IOException {
        Path out = dir.resolve("pct-subset.csv");
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180)) {
            p.printRecord("full_prompt", "completion", "model", "pct_id");
            for (String model : PCT_MODELS) {
                try (Reader r = Files.newBufferedReader(pctData().resolve(model + ".csv"), StandardCharsets.UTF_8);
                     CSVParser csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                    Set<String> ids = new HashSet<>();
                    for (CSVRecord rec : csv) {
                        String id = rec.get("pct_id");
                        if (!ids.contains(id) && ids.size() == questions) continue;
                        ids.add(id);
                        p.printRecord(rec.get("pct_prompt"), rec.get("completion"), rec.get("model"), id);
                    }
                }
            }
        }
        return out;
    }

    /** The bundled sample: 8 LLMs × 62 PCT propositions, one answer each. */
    static Path bundledSample() {
        return Path.of(System.getProperty("univar.root", ".."), "data", "sample", "pct-answers.csv");
    }

    /**
     * The bundled sample with the bare proposition as the question (the second paragraph of each templated prompt;
     * the whole prompt is ~70 tokens, which would leave the answer no room at the tests' short --max-length),
     * without the LLMs in {@code leaveOut}. Columns question_id, question, answer, model, lang.
     */
    static Path sampleWithPropositions(Path dir, String name, Set<String> leaveOut) throws IOException {
        Path out = dir.resolve(name);
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180)) {
            p.printRecord("question_id", "question", "answer", "model", "lang");
            for (CSVRecord rec : readCsv(bundledSample())) {
                if (leaveOut.contains(rec.get("model"))) continue;
                String[] paragraphs = rec.get("question").split("\n\n");
                p.printRecord(rec.get("question_id"), paragraphs[1].strip(), rec.get("answer"), rec.get("model"), rec.get("lang"));
            }
        }
        return out;
    }

    /**
     * A synthetic corpus whose model names and answers carry markup, quotes and ampersands: 3 LLMs × 10 questions
     * × 3 answers, each LLM with its own stance so the embeddings separate them.
     */
    static Path hostileCorpus(Path dir) throws IOException {
        Path out = dir.resolve("hostile.csv");
        String[] models = {"<script>alert(\"x\")</script>", "Tom & Jerry's \"LLM\"", "=cmd|' /C calc'!A0"};
        String[] stance = {"I strongly agree, because <b>freedom</b> & \"fairness\" matter most.",
                "I disagree: tradition and order come first; change must be slow.",
                "As an AI, I have no opinion, but some say yes and some say no."};
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180)) {
            p.printRecord("question", "answer", "model", "question_id");
            for (int m = 0; m < 3; m++)
                for (int q = 0; q < 10; q++)
                    for (int a = 0; a < 3; a++)
                        p.printRecord("Should policy " + q + " be adopted?", stance[m] + " (variant " + a + " on policy " + q + ")", models[m], "q" + q);
        }
        return out;
    }

    /** A PNG that decodes, has the expected size range and is not blank: enough non-white pixels and colours. */
    static BufferedImage assertPngNotBlank(Path png, double minInkFraction) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a PNG");
        long ink = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                if (rgb != 0xffffff) ink++;
            }
        double fraction = (double) ink / ((long) img.getWidth() * img.getHeight());
        assertTrue(fraction >= minInkFraction, png + ": only " + fraction + " of the pixels are not white");
        assertTrue(colours.size() >= 5, png + ": only " + colours.size() + " colours");
        return img;
    }

    /** Parses an SVG (or any XML) file; fails if it is not well-formed. */
    static org.w3c.dom.Document parseXml(Path file) throws Exception {
        var f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(file.toFile());
    }

    static List<CSVRecord> readCsv(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            return csv.getRecords();
        }
    }
}
