package dev.univar.cli;

import dev.univar.embed.EmbedJob;
import dev.univar.nn.EmbeddingModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Embed every text of a file into a float32 .npy matrix [N, dim], rows in input order,",
                "mean-pooled and L2-normalised (as sentence-transformers does).",
                "Input: .txt (one text per line), .jsonl (field --text-field) or .csv (column --text-field), UTF-8.",
                "An empty input gives a [0, dim] matrix. The output appears only when the run is complete."})
final class EmbedCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Texts to embed (.txt, .jsonl, .csv).")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE.npy", description = "Where to write the embeddings.")
    Path output;

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
            description = "JSONL field or CSV column holding the text. Default: ${DEFAULT-VALUE}.")
    String textField;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "TOKENS",
            description = "Longer texts are truncated to this many tokens, [CLS] and [SEP] included (a notice says so). Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Texts per batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        Outputs.requireExtension(output, "--output", "npy");
        Check.maxLength("--max-length", maxLength);
        Check.atLeast("--batch-size", batchSize, 1);
        modelOptions.threads();
        Outputs.check(java.util.Arrays.asList(input, Outputs.modelInput(modelOptions.model)), new Outputs.Target("--output", output));
        try (EmbeddingModel model = modelOptions.load()) {
            Progress progress = new Progress(System.err);
            EmbedJob.Summary s = new EmbedJob(model, maxLength, batchSize).run(input, textField, output, progress);
            progress.endLine();
            System.err.printf(Locale.ROOT, "univar: embedded %,d texts in %.1f s (%.1f texts/s) into %s [%d, %d]%s%n",
                    s.texts(), s.seconds(), s.textsPerSecond(), output, s.texts(), s.dim(),
                    s.truncated() > 0 ? "; " + s.truncated() + " truncated to " + maxLength + " tokens" : "");
        }
        return 0;
    }
}
