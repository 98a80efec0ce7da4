package dev.univar.cli;

import dev.univar.corpus.ColumnMap;
import dev.univar.corpus.Corpus;
import dev.univar.corpus.CorpusCleaner;
import dev.univar.hub.HubSettings;
import dev.univar.io.ModelStore;
import dev.univar.tensor.TrainingBackend;
import dev.univar.train.TrainOptions;
import dev.univar.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune an encoder with UniVaR's multi-view contrastive objective: views of λ QA pairs of one",
                "key (LLM × language), two disjoint views per key as positives, other keys in the batch as negatives,",
                "symmetric InfoNCE. Trains only on the training questions of a question-level split (--test-fraction,",
                "--seed; saved in OUTPUT/split.json). OUTPUT becomes a model folder that --model DIR loads, with",
                "loss.csv and the optimizer state; --resume continues from its last checkpoint."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--corpus", required = true, paramLabel = "PATH", description = "CSV/JSONL file or folder of answers.")
    Path corpus;

    @Option(names = "--columns", paramLabel = "PART=COLUMN,...",
            description = "Map question, answer, model, lang, question_id to your columns (defaults: their own names).")
    String columns;

    @Option(names = "--base", defaultValue = "minilm", paramLabel = "minilm|DIR|ORG/NAME", description = "Model to start from: minilm, a folder, or a Hub model ORG/NAME[@REVISION]. Default: ${DEFAULT-VALUE}.")
    String base;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Where the trained model and its state go.")
    Path output;

    @Option(names = "--lambda-min", defaultValue = "1", description = "Fewest QA pairs per view. Default: ${DEFAULT-VALUE}.")
    int lambdaMin;

    @Option(names = "--lambda-max", defaultValue = "5", description = "Most QA pairs per view. Default: ${DEFAULT-VALUE}.")
    int lambdaMax;

    @Option(names = "--steps", defaultValue = "1000", description = "Optimizer steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "VIEWS",
            description = "Views per step, two per key (capped at two per key in the corpus). Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--micro-batch", defaultValue = "16", paramLabel = "VIEWS",
            description = "Views per forward/backward pass (gradient caching keeps memory bounded). Default: ${DEFAULT-VALUE}.")
    int microBatch;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "TOKENS", description = "Views are truncated to this. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--lr", defaultValue = "2e-4", description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--warmup", defaultValue = "100", paramLabel = "STEPS", description = "Linear warm-up steps, then 1/sqrt decay. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--temperature", defaultValue = "0.02", description = "InfoNCE temperature (logit scale 1/T). Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay (not on biases, LayerNorm). Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--clip", defaultValue = "1.0", paramLabel = "NORM", description = "Global gradient-norm clipping. Default: ${DEFAULT-VALUE}.")
    double clip;

    @Option(names = "--test-fraction", defaultValue = "0.2", description = "Questions held out from training. Default: ${DEFAULT-VALUE}.")
    double testFraction;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the split and the sampler. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--save-every", defaultValue = "50", paramLabel = "STEPS", description = "Checkpoint interval. Default: ${DEFAULT-VALUE}.")
    int saveEvery;

    @Option(names = "--no-clean", description = "Keep chat-template residue (<|assistant|>, [INST], <s>) in answers.")
    boolean noClean;

    @Option(names = "--resume", description = "Continue the run in --output from its last checkpoint.")
    boolean resume;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: all cores.")
    Integer threads;

    @Mixin
    DeviceOptions deviceOptions;

    @Override
    public Integer call() throws Exception {
        int nThreads = Check.threads("--threads", threads);
        Check.atLeast("--steps", steps, 1);
        Check.atLeast("--lambda-min", lambdaMin, 1);
        Check.atLeast("--lambda-max", lambdaMax, lambdaMin);
        Check.atLeast("--batch-size", batchSize, 4);
        if (batchSize % 2 != 0) throw new UsageException("--batch-size counts views, two per key: it must be even, got " + batchSize);
        Check.atLeast("--micro-batch", microBatch, 1);
        Check.atLeast("--max-length", maxLength, 8);
        Check.positive("--lr", lr);
        Check.atLeast("--warmup", warmup, 0);
        Check.positive("--temperature", temperature);
        Check.nonNegative("--weight-decay", weightDecay);
        Check.positive("--clip", clip);
        Check.strictlyBetween("--test-fraction", testFraction, 0, 1);
        Check.atLeast("--save-every", saveEvery, 1);
        try {
            Trainer.checkOutputFolder(output, Outputs.modelInput(base), ModelStore.home().resolve("models"));
            Path hubCache = HubSettings.fromEnvironment().cache().toAbsolutePath().normalize();
            Path out = output.toAbsolutePath().normalize();
            if (out.startsWith(hubCache) || Files.isDirectory(hubCache) && Files.exists(output) && output.toRealPath().startsWith(hubCache.toRealPath()))
                throw new IllegalArgumentException(output + " is inside the Hugging Face Hub cache " + hubCache
                        + ", which univar and huggingface_hub manage; choose a folder outside it");
        } catch (IllegalArgumentException e) {
            throw new UsageException("--output " + e.getMessage());
        }
        // The device opens first: a missing driver or an unsupported precision fails before anything is read.
        try (TrainingBackend backend = deviceOptions.device(nThreads).open()) {
            return train(backend, nThreads);
        }
    }

    private int train(TrainingBackend backend, int nThreads) throws Exception {
        Path baseDir = Models.resolve(base);
        ColumnMap cols = ColumnMap.parse(columns);
        TrainOptions options = new TrainOptions(corpus, cols, baseDir, output, lambdaMin, lambdaMax, steps, batchSize, microBatch,
                maxLength, lr, warmup, temperature, weightDecay, clip,
                testFraction, seed, saveEvery, nThreads);
        Corpus data = Corpus.read(corpus, cols, n -> System.err.println("univar train: " + n));
        if (!noClean) {
            // As eval does: formatting residue would let the model tell LLMs apart by their serving stack.
            CorpusCleaner.Result cleaned = CorpusCleaner.clean(data);
            System.err.println("univar train: " + cleaned.summary() + (cleaned.answersChanged() > 0 ? " (--no-clean keeps it)" : ""));
            data = cleaned.corpus();
        }
        System.err.printf(Locale.ROOT, "univar train: %,d answers, %d keys, %d questions; base %s%n", data.size(),
                data.keys().size(), data.questionIds().size(), baseDir);
        TrainProgress progress = new TrainProgress(System.err);
        Trainer.Result r = new Trainer(options, data, backend, resume, progress).run();
        progress.endLine();
        if (!Double.isNaN(r.lastLoss()))
            System.err.printf(Locale.ROOT, "univar train: steps %d..%d, loss %.4f -> %.4f, %.1f views/s; model in %s%n",
                    r.firstStep(), r.lastStep(), r.firstLoss(), r.lastLoss(), r.viewsPerSecond(), output);
        return 0;
    }

    /** One progress line per step on a terminal (rewritten in place), one every few seconds otherwise. */
    static final class TrainProgress implements Trainer.Listener {
        private final java.io.PrintStream err;
        private final boolean terminal = System.console() != null && System.console().isTerminal();
        private long last;
        private boolean dirty;

        TrainProgress(java.io.PrintStream err) {
            this.err = err;
        }

        @Override
        public void notice(String message) {
            endLine();
            err.println("univar train: " + message);
        }

        @Override
        public void step(long step, long steps, double loss, double lr, double gradNorm, double viewsPerSecond, double eta) {
            long now = System.nanoTime();
            if (step != steps && now - last < (terminal ? 0 : 5_000_000_000L)) return;
            last = now;
            String line = String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  grad-norm %.3f  %.1f views/s  ETA %s",
                    step, steps, loss, lr, gradNorm, viewsPerSecond, Progress.duration(eta));
            if (terminal) {
                err.print("\r" + line + "\u001b[K");
                dirty = true;
            } else {
                err.println(line);
            }
        }

        @Override
        public void checkpoint(long step, Path dir) {
            if (!terminal) err.println("univar train: checkpoint at step " + step + " in " + dir);
        }

        void endLine() {
            if (dirty) {
                err.println();
                dirty = false;
            }
        }
    }
}
