package dev.univar.cli;

import dev.univar.data.AtomicFile;
import dev.univar.data.TextSource;
import dev.univar.text.SentencePieceProcessor;
import dev.univar.text.SentencePieceTrainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Tokenizer tools. `univar tokenizer train` trains a SentencePiece model.",
        subcommands = {TokenizerCommand.Train.class, CommandLine.HelpCommand.class})
final class TokenizerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Train a SentencePiece model (the library's own trainer, as spm_train) and write",
                    "PREFIX.model and PREFIX.vocab; both appear only when training succeeded.",
                    "Input as for embed: .txt (one text per line), .jsonl or .csv; a text's line breaks become spaces."})
    static final class Train implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--input", required = true, paramLabel = "FILE", description = "Training texts (.txt, .jsonl, .csv).")
        Path input;

        @Option(names = "--output", required = true, paramLabel = "PREFIX",
                description = "Writes PREFIX.model and PREFIX.vocab (a trailing .model is dropped).")
        Path output;

        @Option(names = "--vocab-size", required = true, paramLabel = "N", description = "Number of pieces.")
        int vocabSize;

        @Option(names = "--model-type", defaultValue = "unigram", paramLabel = "unigram|bpe",
                description = "Segmentation algorithm. Default: ${DEFAULT-VALUE}.")
        String modelType;

        @Option(names = "--character-coverage", defaultValue = "0.9995", paramLabel = "FRACTION",
                description = "Share of characters the pieces cover; rarer ones are <unk>. 1.0 suits small "
                        + "alphabets, 0.9995 (the default) rich ones such as Chinese and Japanese.")
        double characterCoverage;

        @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
                description = "JSONL field or CSV column holding the text. Default: ${DEFAULT-VALUE}.")
        String textField;

        @Option(names = "--verbose", description = "Show SentencePiece's training log.")
        boolean verbose;

        @Override
        public Integer call() throws Exception {
            SentencePieceTrainer.ModelType type = switch (modelType.toLowerCase(Locale.ROOT)) {
                case "unigram" -> SentencePieceTrainer.ModelType.UNIGRAM;
                case "bpe" -> SentencePieceTrainer.ModelType.BPE;
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--model-type must be unigram or bpe, not '" + modelType + "'");
            };
            if (vocabSize < 2)
                throw new CommandLine.ParameterException(spec.commandLine(), "--vocab-size must be at least 2");
            if (!(characterCoverage > 0 && characterCoverage <= 1))
                throw new CommandLine.ParameterException(spec.commandLine(), "--character-coverage must be in (0, 1]");
            String name = output.getFileName().toString();
            if (name.endsWith(".model")) name = name.substring(0, name.length() - ".model".length());
            if (name.isEmpty()) throw new IllegalArgumentException("--output needs a file name prefix: " + output);
            Path parent = output.toAbsolutePath().getParent();
            if (!Files.isDirectory(parent)) throw new IllegalArgumentException("no such directory: " + parent);
            Outputs.check(List.of(input), new Outputs.Target("--output", parent.resolve(name + ".model")),
                    new Outputs.Target("--output", parent.resolve(name + ".vocab")));
            // Load the shim first, so that a machine without it fails before reading the input.
            String unavailable = SentencePieceProcessor.unavailableReason();
            if (unavailable != null) {
                spec.commandLine().getErr().println("univar tokenizer train: error: " + unavailable);
                return 1;
            }
            return train(parent, name, type);
        }

        private int train(Path parent, String name, SentencePieceTrainer.ModelType type) throws IOException {
            long start = System.nanoTime();
            // Everything is written beside the output under hidden temporary names and renamed at the end, so
            // a failed or interrupted run leaves no PREFIX.model / PREFIX.vocab behind.
            Path tmpPrefix = Files.createTempFile(parent, "." + name + ".", ".partial");
            Path corpus = parent.resolve(tmpPrefix.getFileName() + ".txt");
            Path tmpModel = parent.resolve(tmpPrefix.getFileName() + ".model");
            Path tmpVocab = parent.resolve(tmpPrefix.getFileName() + ".vocab");
            try {
                long texts = writeCorpus(corpus);
                if (texts == 0) throw new IllegalArgumentException(input + ": no non-empty texts to train on");
                SentencePieceTrainer.train(new SentencePieceTrainer.Options(corpus, tmpPrefix, vocabSize, type,
                        characterCoverage, !verbose, Map.of()));
                Path model = parent.resolve(name + ".model"), vocab = parent.resolve(name + ".vocab");
                AtomicFile.replace(tmpVocab, vocab);
                AtomicFile.replace(tmpModel, model);
                System.err.printf(Locale.ROOT, "univar: trained a %s model of %d pieces on %,d texts in %.1f s: %s, %s%n",
                        type.name().toLowerCase(Locale.ROOT), vocabSize, texts, (System.nanoTime() - start) / 1e9,
                        model, vocab);
                return 0;
            } finally {
                for (Path p : new Path[]{tmpPrefix, corpus, tmpModel, tmpVocab}) Files.deleteIfExists(p);
            }
        }

        /** Streams the input's texts into a one-text-per-line file, as SentencePiece's trainer reads; counts them. */
        private long writeCorpus(Path corpus) throws IOException {
            long n = 0;
            try (TextSource source = TextSource.open(input, textField);
                 BufferedWriter w = Files.newBufferedWriter(corpus, StandardCharsets.UTF_8)) {
                while (source.hasNext()) {
                    String text = source.next().text().replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
                    if (text.isBlank()) continue;
                    w.write(text);
                    w.write('\n');
                    n++;
                }
            }
            return n;
        }
    }
}
