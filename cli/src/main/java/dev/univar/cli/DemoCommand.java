package dev.univar.cli;

import dev.univar.nn.EmbeddingModel;
import dev.univar.values.LabelledTexts;
import dev.univar.values.SimilaritySummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Embed the bundled sample of LLM answers (data/sample/pct-answers.csv) and print how well",
                "the embeddings tell the 8 LLMs apart across questions: cosine similarity to the same and to other",
                "LLMs' answers, and nearest-centroid identification with the answer's question left out."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--sample", paramLabel = "FILE.csv",
            description = "CSV with columns 'model', 'question_id' and 'answer'. Default: the bundled sample.")
    Path sample;

    @Option(names = "--max-length", defaultValue = "128", paramLabel = "TOKENS", description = "Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        Path file = sample != null ? sample : bundledSample();
        LabelledTexts data = LabelledTexts.readCsv(file, "model", "question_id", "answer");
        System.err.printf(Locale.ROOT, "univar demo: %d answers of %d LLMs from %s%n", data.size(),
                data.labels().stream().distinct().count(), file);
        long start = System.nanoTime();
        float[][] embeddings = new float[data.size()][];
        try (EmbeddingModel model = modelOptions.load()) {
            Progress progress = new Progress(System.err);
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                float[][] rows = model.embed(data.texts().subList(from, to), maxLength);
                System.arraycopy(rows, 0, embeddings, from, rows.length);
                double secs = (System.nanoTime() - start) / 1e9;
                progress.progress(to, (double) to / data.size(), to / secs);
            }
            progress.endLine();
            double secs = (System.nanoTime() - start) / 1e9;
            System.err.printf(Locale.ROOT, "univar demo: embedded %d answers with %s in %.1f s (%.1f texts/s)%n",
                    data.size(), model.dir().getFileName(), secs, data.size() / secs);
        }
        SimilaritySummary summary = SimilaritySummary.of(data.labels(), data.questions(), embeddings);
        System.out.println();
        System.out.print(summary.format());
        return 0;
    }

    /** data/sample/pct-answers.csv under the installation (UNIVAR_ROOT, set by the launcher) or the working directory. */
    static Path bundledSample() {
        List<Path> candidates = new ArrayList<>();
        String root = System.getProperty("univar.root", System.getenv("UNIVAR_ROOT"));
        if (root != null) candidates.add(Path.of(root, "data", "sample", "pct-answers.csv"));
        candidates.add(Path.of("data", "sample", "pct-answers.csv"));
        for (Path p : candidates) if (Files.isRegularFile(p)) return p;
        throw new IllegalArgumentException("bundled sample not found (looked at " + candidates + "); pass --sample FILE.csv");
    }
}
