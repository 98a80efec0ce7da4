package dev.univar.cli;

import dev.univar.model.BertConfig;
import dev.univar.model.ModelConfig;
import dev.univar.nn.ModelInit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Create a randomly initialised BERT encoder folder for a tokenizer, ready for univar train",
                "(e.g. for corpora in languages no bundled model covers, or for fast experiments)."})
final class InitCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "SentencePiece FILE.model (fairseq convention), tokenizer.json or vocab.txt.")
    Path tokenizer;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "New model folder.")
    Path output;

    @Option(names = "--layers", defaultValue = "2", description = "Transformer layers. Default: ${DEFAULT-VALUE}.")
    int layers;

    @Option(names = "--hidden", defaultValue = "128", description = "Hidden size. Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads. Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--intermediate", paramLabel = "N", description = "Feed-forward size. Default: 4 × hidden.")
    Integer intermediate;

    @Option(names = "--max-positions", defaultValue = "512", description = "Longest sequence. Default: ${DEFAULT-VALUE}.")
    int maxPositions;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the initial weights. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws Exception {
        Check.atLeast("--layers", layers, 1);
        Check.atLeast("--hidden", hidden, 1);
        Check.atLeast("--heads", heads, 1);
        if (intermediate != null) Check.atLeast("--intermediate", intermediate, 1);
        Check.atLeast("--max-positions", maxPositions, Check.MIN_MAX_LENGTH);
        if (hidden % heads != 0) throw new UsageException("--hidden " + hidden + " is not divisible by --heads " + heads);
        int inter = intermediate != null ? intermediate : 4 * hidden;
        ModelConfig config = ModelInit.create(tokenizer,
                v -> BertConfig.initial(v.size(), v.padId(), layers, hidden, heads, inter, maxPositions), output, seed);
        int vocab = config.vocabSize();
        System.err.printf("univar init: %d layers, hidden %d, %d heads, vocabulary %d into %s%n", layers, hidden, heads, vocab, output);
        return 0;
    }
}
