package dev.univar.train;

import dev.univar.corpus.Corpus;
import dev.univar.corpus.Key;
import dev.univar.corpus.MultiViewSampler;
import dev.univar.corpus.QaPair;
import dev.univar.corpus.QuestionSplit;
import dev.univar.data.AtomicFile;
import dev.univar.data.InputException;
import dev.univar.io.JsonInput;
import dev.univar.io.ModelStore;
import dev.univar.io.SafeTensors;
import dev.univar.model.Encoder;
import dev.univar.model.Gradients;
import dev.univar.model.ModelConfig;
import dev.univar.model.TrainingGraph;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;
import dev.univar.text.Encoding;
import dev.univar.text.Tokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * UniVaR's multi-view contrastive fine-tuning: each step draws view pairs (two disjoint views per key, one pair
 * per key), embeds them, takes symmetric InfoNCE over the batch, back-propagates, clips the global gradient norm
 * and applies AdamW with warm-up then inverse-square-root decay.
 *
 * <p>Gradient caching keeps memory bounded whatever the batch: when the batch has more views than
 * {@code microBatchViews}, all views are first embedded without keeping activations, the loss and its gradient
 * with respect to the embeddings are computed on the whole batch, then each micro-batch is run again with
 * activations and back-propagated from its slice of that gradient. The result equals one big backward pass.
 *
 * <p>The output folder is a Hugging Face model folder ({@code univar embed --model DIR} loads it) plus the
 * optimizer state, {@code trainer_state.json} and {@code loss.csv}; checkpoints are written every
 * {@code saveEvery} steps and at the end, each file atomically and the state file last, so a killed run resumes
 * from the last complete checkpoint and repeats exactly the steps the uninterrupted run would have taken.
 */
public final class Trainer {
    public static final String STATE_FILE = "trainer_state.json", OPTIMIZER_FILE = "optimizer.safetensors",
            LOSS_FILE = "loss.csv", SPLIT_FILE = "split.json";
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.txt", "tokenizer_config.json",
            "special_tokens_map.json", "sentencepiece.bpe.model");
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** What a run reports as it goes. */
    public interface Listener {
        default void notice(String message) {
        }

        default void step(long step, long steps, double loss, double lr, double gradNorm, double viewsPerSecond, double etaSeconds) {
        }

        default void checkpoint(long step, Path dir) {
        }
    }

    /** The outcome of a run. */
    public record Result(long firstStep, long lastStep, double firstLoss, double lastLoss, double viewsPerSecond) {
    }

    private final TrainOptions options;
    private final Corpus corpus;
    private final TrainingBackend backend;
    private final Listener listener;

    /** Checks everything that can be checked before training starts; bad input fails here with a clear message. */
    public Trainer(TrainOptions options, Corpus corpus, TrainingBackend backend, boolean resume, Listener listener) throws IOException {
        this.options = options;
        this.resumeRequested = resume;
        this.corpus = corpus;
        this.backend = backend;
        this.listener = listener;
        if (corpus.size() == 0) throw new IllegalArgumentException("the corpus is empty");
        if (corpus.models().size() < 2)
            throw new IllegalArgumentException("the corpus has answers of one LLM only (" + corpus.models()
                    + "): contrastive training needs at least two LLMs to tell apart");
        checkOutputFolder(options.output(), options.baseModel(), ModelStore.home().resolve("models"));
        boolean hasState = Files.isRegularFile(options.output().resolve(STATE_FILE));
        if (hasState && !resume)
            throw new IllegalArgumentException(options.output() + " holds a training run: pass --resume to continue it, or choose another --output");
        // The whole checkpoint is read and checked before any file is touched: a damaged one fails here.
        this.resumeState = hasState ? Checkpoint.read(options.output()) : null;
        if (resumeState != null && !resumeState.identity().equals(options.identity()))
            throw new IllegalArgumentException("--resume: the run in " + options.output() + " was started with different settings:\n  was: "
                    + resumeState.identity() + "\n  now: " + options.identity());
        Files.createDirectories(options.output());
        Path probe = options.output().resolve(".write-test");
        try {
            Files.writeString(probe, "");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException("cannot write to the output folder " + options.output() + ": " + e.getMessage(), e);
        }
    }

    private final boolean resumeRequested;
    /** The checkpoint to continue from, read and checked by the constructor; null for a fresh run. */
    private final Checkpoint resumeState;

    /**
     * Checks that {@code output} may receive a training run, before anything is written: it is not a file, not the
     * base model's folder (training would overwrite the model it starts from), not inside the model store
     * {@code modelStore}, and holds no model other than a run of this trainer (a folder with {@value #SPLIT_FILE}
     * or {@value #STATE_FILE}). {@code base} may be null. Refusals are IllegalArgumentExceptions whose message
     * starts with the folder's name; a file in the folder's place is an IOException.
     */
    public static void checkOutputFolder(Path output, Path base, Path modelStore) throws IOException {
        if (Files.exists(output) && !Files.isDirectory(output))
            throw new IOException(output + " is a file; training writes a model folder there");
        Path out = realOrNormal(output);
        if (base != null && Files.isDirectory(base) && out.equals(base.toRealPath()))
            throw new IllegalArgumentException(output + " is the base model's folder: training would overwrite the model it "
                    + "starts from; choose another folder");
        if (modelStore != null && Files.isDirectory(modelStore) && out.startsWith(modelStore.toRealPath()))
            throw new IllegalArgumentException(output + " is inside univar's model store " + modelStore
                    + ", whose models other commands load by name; choose a folder outside it");
        boolean run = Files.isRegularFile(output.resolve(STATE_FILE)) || Files.isRegularFile(output.resolve(SPLIT_FILE));
        for (String f : List.of("config.json", "model.safetensors"))
            if (!run && Files.exists(output.resolve(f)))
                throw new IllegalArgumentException(output + " holds a model (" + f + ") that is not a univar training run; "
                        + "training would replace it: choose an empty or new folder");
    }

    /** {@code p}'s real path when it exists, else its absolute normal form under its nearest existing ancestor's real path. */
    private static Path realOrNormal(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = nearestExisting(abs);
        return existing.toRealPath().resolve(existing.relativize(abs));
    }

    private static Path nearestExisting(Path p) {
        Path a = p.toAbsolutePath().normalize();
        while (a != null && !Files.exists(a)) a = a.getParent();
        return a == null ? p.toAbsolutePath().getRoot() : a;
    }

    /** A checkpoint's {@value #STATE_FILE}, read and checked whole: step, settings, and the files it needs. */
    private record Checkpoint(long step, String identity, Integer threads) {
        static Checkpoint read(Path dir) throws IOException {
            Path file = dir.resolve(STATE_FILE);
            JsonObject o;
            try {
                JsonElement e = JsonInput.parse(JsonInput.readText(file));
                if (!e.isJsonObject()) throw new InputException(file, 0, "not a JSON object; the checkpoint is damaged");
                o = e.getAsJsonObject();
            } catch (IllegalArgumentException e) {
                throw new InputException(file, 0, e.getMessage() + "; the checkpoint is damaged");
            }
            long step = integer(o, "step", file);
            if (step < 1) throw new InputException(file, 0, "field 'step' is " + step + "; a checkpoint's step is at least 1");
            JsonElement id = o.get("identity");
            if (id == null || !id.isJsonPrimitive() || !id.getAsJsonPrimitive().isString())
                throw new InputException(file, 0, "field 'identity' is missing or not a string");
            Integer threads = o.has("threads") ? (int) integer(o, "threads", file) : null;
            for (String f : List.of("model.safetensors", OPTIMIZER_FILE))
                if (!Files.isRegularFile(dir.resolve(f)))
                    throw new InputException(file, 0, "names step " + step + " but " + f + " is missing beside it");
            try (SafeTensors opt = SafeTensors.open(dir.resolve(OPTIMIZER_FILE))) {
                String saved = opt.metadata().get("univar.step");
                if (saved != null && !saved.equals(Long.toString(step)))
                    throw new InputException(file, 0, "names step " + step + " but " + OPTIMIZER_FILE + " is of step " + saved);
            }
            return new Checkpoint(step, id.getAsString(), threads);
        }

        private static long integer(JsonObject o, String field, Path file) {
            JsonElement e = o.get(field);
            try {
                if (e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
                    java.math.BigDecimal d = e.getAsBigDecimal();
                    return d.longValueExact();
                }
            } catch (ArithmeticException | NumberFormatException ignored) {
                // reported below
            }
            throw new InputException(file, 0, "field '" + field + "' is " + (e == null ? "missing" : e) + "; expected a whole number");
        }
    }

    public Result run() throws IOException {
        Path out = options.output();
        QuestionSplit split = QuestionSplit.of(corpus, options.testFraction(), options.seed());
        Corpus train = corpus.restrictTo(split.train());
        Map<Key, List<QaPair>> byKey = train.byKey();
        int pairs = Math.min(options.batchViews() / 2, byKey.size());
        if (pairs < options.batchViews() / 2)
            listener.notice("--batch-size " + options.batchViews() + " asks for " + options.batchViews() / 2
                    + " view pairs but there are " + byKey.size() + " keys (one pair per key): using " + pairs
                    + " pairs, " + 2 * pairs + " views per step");
        MultiViewSampler sampler = new MultiViewSampler(byKey, options.lambdaMin(), options.lambdaMax(), pairs, options.seed());

        boolean resuming = resumeState != null;
        if (resumeRequested && !resuming) listener.notice("nothing to resume in " + out + ": starting from step 0");
        Path weightsDir = resuming ? out : options.baseModel();
        long startStep = 0;
        if (resuming) {
            startStep = resumeState.step();
            if (resumeState.threads() != null && resumeState.threads() != options.threads())
                listener.notice("resuming with " + options.threads() + " threads where the run had " + resumeState.threads()
                        + ": sums may round differently from an uninterrupted run");
        }
        if (startStep >= options.steps()) {
            listener.notice("the run in " + out + " already reached step " + startStep + " of " + options.steps());
            return new Result(startStep, startStep, Double.NaN, Double.NaN, 0);
        }

        try (Tokenizer tokenizer = Tokenizer.forModelDir(options.baseModel());
             Weights.Loaded loaded = Weights.open(weightsDir);
             Arena arena = Arena.ofShared()) {
            ModelConfig config = loaded.config();
            if (tokenizer.vocabSize() > config.vocabSize())
                throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens, the model " + config.vocabSize());
            if (options.maxLength() > config.maxPositions())
                throw new IllegalArgumentException("--max-length " + options.maxLength() + " exceeds the model's "
                        + config.maxPositions() + " positions");
            Weights weights = loaded.weights().copy(arena, backend);
            try (TrainingGraph graph = new TrainingGraph(weights, backend);
                 Encoder encoder = new Encoder(weights, backend);
                 Gradients grads = new Gradients(config, backend);
                 AdamW adam = new AdamW(backend, AdamW.DEFAULT_BETA1, AdamW.DEFAULT_BETA2, AdamW.DEFAULT_EPS, options.weightDecay())) {
                if (resuming) {
                    try (SafeTensors opt = SafeTensors.open(out.resolve(OPTIMIZER_FILE))) {
                        Map<String, Tensor> state = new LinkedHashMap<>();
                        for (String name : opt.names()) state.put(name, opt.tensor(name));
                        adam.restore(state);
                    }
                    truncateLossFile(out.resolve(LOSS_FILE), startStep);
                } else {
                    AtomicFile.write(out.resolve(SPLIT_FILE), GSON.toJson(Map.of("seed", options.seed(),
                            "test_fraction", options.testFraction(), "train_questions", split.train(), "test_questions", split.test())));
                    Files.deleteIfExists(out.resolve(LOSS_FILE));
                }
                return loop(sampler, tokenizer, config, weights, graph, encoder, grads, adam, startStep);
            }
        }
    }

    private Result loop(MultiViewSampler sampler, Tokenizer tokenizer, ModelConfig config, Weights weights,
                        TrainingGraph graph, Encoder encoder, Gradients grads, AdamW adam, long startStep) throws IOException {
        Path out = options.output();
        LrSchedule schedule = new LrSchedule(options.lr(), options.warmup());
        boolean newFile = !Files.exists(out.resolve(LOSS_FILE));
        double firstLoss = Double.NaN, lastLoss = Double.NaN;
        long views = 0;
        long start = System.nanoTime();
        try (BufferedWriter lossCsv = Files.newBufferedWriter(out.resolve(LOSS_FILE), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            if (newFile) lossCsv.write("step,loss,lr,views_per_s,grad_norm\n");
            for (long step = startStep + 1; step <= options.steps(); step++) {
                long t0 = System.nanoTime();
                List<MultiViewSampler.ViewPair> batch = sampler.batch(step - 1);
                double loss = lossAndGradients(batch, tokenizer, config, graph, encoder, grads);
                double norm = AdamW.clipGlobalNorm(grads, options.clipNorm(), backend);
                double lr = schedule.at(step);
                adam.step(weights, grads, lr);
                double secs = (System.nanoTime() - t0) / 1e9;
                views += 2L * batch.size();
                double rate = 2.0 * batch.size() / secs;
                if (Double.isNaN(firstLoss)) firstLoss = loss;
                lastLoss = loss;
                lossCsv.write(String.format(Locale.ROOT, "%d,%.6f,%.6e,%.2f,%.4f%n", step, loss, lr, rate, norm));
                lossCsv.flush();
                double elapsed = (System.nanoTime() - start) / 1e9;
                listener.step(step, options.steps(), loss, lr, norm, views / elapsed,
                        elapsed / (step - startStep) * (options.steps() - step));
                if (!Double.isFinite(loss)) throw new IllegalStateException("the loss became " + loss + " at step " + step);
                if (step % options.saveEvery() == 0 || step == options.steps()) {
                    saveCheckpoint(step, config, weights, adam);
                    listener.checkpoint(step, out);
                }
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Result(startStep + 1, options.steps(), firstLoss, lastLoss, views / elapsed);
    }

    /** The batch's InfoNCE loss; leaves the gradients of all parameters in {@code grads}. */
    private double lossAndGradients(List<MultiViewSampler.ViewPair> batch, Tokenizer tokenizer, ModelConfig config,
                                    TrainingGraph graph, Encoder encoder, Gradients grads) {
        int p = batch.size(), n = 2 * p, dim = config.hiddenSize();
        // Views 0..p-1 are the first views of each pair, p..2p-1 the second: InfoNCE pairs row i with row p+i.
        Encoding[] enc = new Encoding[n];
        for (int i = 0; i < p; i++) {
            enc[i] = tokenizer.encode(batch.get(i).first(), options.maxLength());
            enc[p + i] = tokenizer.encode(batch.get(i).second(), options.maxLength());
        }
        int micro = options.microBatchViews();
        float[][] emb = new float[n][];
        grads.zero(backend);
        if (n <= micro) {
            Tensor e = graph.forward(Batch.pad(enc, tokenizer.padId()));
            for (int i = 0; i < n; i++) emb[i] = row(e, i, dim);
            float[][] dEmb = new float[n][dim];
            double loss = infoNce(emb, dEmb, p);
            graph.backward(tensorOf(dEmb, 0, n, dim), grads);
            return loss;
        }
        encoder.prepack(); // the weights changed at the last optimizer step: the encoder's packed copy is stale
        for (int from = 0; from < n; from += micro) {
            int to = Math.min(n, from + micro);
            float[][] rows = encoder.embed(Batch.pad(java.util.Arrays.copyOfRange(enc, from, to), tokenizer.padId()));
            System.arraycopy(rows, 0, emb, from, rows.length);
        }
        float[][] dEmb = new float[n][dim];
        double loss = infoNce(emb, dEmb, p);
        for (int from = 0; from < n; from += micro) {
            int to = Math.min(n, from + micro);
            graph.forward(Batch.pad(java.util.Arrays.copyOfRange(enc, from, to), tokenizer.padId()));
            graph.backward(tensorOf(dEmb, from, to - from, dim), grads);
        }
        return loss;
    }

    private double infoNce(float[][] emb, float[][] dEmb, int p) {
        float[][] a = java.util.Arrays.copyOfRange(emb, 0, p), b = java.util.Arrays.copyOfRange(emb, p, 2 * p);
        float[][] dA = new float[p][emb[0].length], dB = new float[p][emb[0].length];
        double loss = InfoNce.lossAndGradients(a, b, options.temperature(), dA, dB);
        System.arraycopy(dA, 0, dEmb, 0, p);
        System.arraycopy(dB, 0, dEmb, p, p);
        return loss;
    }

    private Arena scratch = Arena.ofAuto();
    private Tensor dScratch;

    /** Rows {@code [from, from+count)} of {@code rows} in a reused off-heap tensor. */
    private Tensor tensorOf(float[][] rows, int from, int count, int dim) {
        if (dScratch == null || dScratch.size() < (long) count * dim) {
            scratch = Arena.ofAuto();
            dScratch = Tensor.allocate(scratch, count, dim);
        }
        for (int i = 0; i < count; i++)
            MemorySegment.copy(rows[from + i], 0, dScratch.data(), ValueLayout.JAVA_FLOAT, (long) i * dim * Float.BYTES, dim);
        return dScratch.reshape(count, dim);
    }

    private static float[] row(Tensor t, int i, int dim) {
        return t.data().asSlice((long) i * dim * Float.BYTES, (long) dim * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }

    private void saveCheckpoint(long step, ModelConfig config, Weights weights, AdamW adam) throws IOException {
        backend.synchronize(); // the optimizer step has written the weights the host now reads
        Path out = options.output();
        SafeTensors.write(out.resolve(Weights.WEIGHTS_FILE), weights.named(),
                Map.of("format", "pt", "univar.step", Long.toString(step)));
        config.write(out.resolve(ModelConfig.CONFIG_FILE));
        for (String f : TOKENIZER_FILES) {
            Path src = options.baseModel().resolve(f);
            if (Files.isRegularFile(src) && !Files.exists(out.resolve(f))) AtomicFile.copy(src, out.resolve(f));
        }
        SafeTensors.write(out.resolve(OPTIMIZER_FILE), adam.state(), Map.of("univar.step", Long.toString(step)));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", step);
        state.put("steps", options.steps());
        state.put("base_model", options.baseModel().toAbsolutePath().normalize().toString());
        state.put("threads", options.threads());
        state.put("identity", options.identity());
        // Written last: a checkpoint exists only once this file names its step.
        AtomicFile.write(out.resolve(STATE_FILE), GSON.toJson(state));
    }

    /** Keeps the header and the rows up to {@code step}: the rows after the checkpoint are about to be redone. */
    static void truncateLossFile(Path file, long step) throws IOException {
        if (!Files.exists(file)) return;
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            int comma = line.indexOf(',');
            if (kept.isEmpty() || comma < 0) { kept.add(line); continue; }
            try {
                if (Long.parseLong(line.substring(0, comma)) <= step) kept.add(line);
            } catch (NumberFormatException e) {
                kept.add(line);
            }
        }
        AtomicFile.write(file, String.join("\n", kept) + "\n");
    }

    /** Hook for tests and the CLI: a consumer of notices as a listener. */
    public static Listener notices(Consumer<String> c) {
        return new Listener() {
            @Override
            public void notice(String message) {
                c.accept(message);
            }
        };
    }
}
