package dev.univar.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.univar.corpus.Corpus;
import dev.univar.corpus.Key;
import dev.univar.corpus.QuestionSplit;
import dev.univar.values.Identification;
import dev.univar.values.LinearProbe;
import dev.univar.values.Metrics;
import dev.univar.values.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Identify which LLM wrote each held-out answer (or view of answers) from its embedding,",
                "by cosine k-NN and by a linear probe, on a question-level split (the paper's Table 1)."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    CorpusOptions corpus;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--baseline", paramLabel = "minilm|DIR|ORG/NAME", description = "Another model to evaluate alongside (repeatable).")
    List<String> baselines = new ArrayList<>();

    @Mixin
    Settings settings;

    @Option(names = "--output", required = true, paramLabel = "report.json", description = "Where to write the metrics as JSON.")
    Path output;

    /** The evaluation settings, shared with {@code report}. */
    static final class Settings {
        @Option(names = "--split", defaultValue = "question", paramLabel = "question",
                description = "How train and test are split: whole questions. Default: ${DEFAULT-VALUE}.")
        String split;

        @Option(names = "--test-fraction", defaultValue = "0.2", paramLabel = "F", description = "Default: ${DEFAULT-VALUE}.")
        double testFraction;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--knn", defaultValue = "50", paramLabel = "K", description = "Neighbours for k-NN. Default: ${DEFAULT-VALUE}.")
        int knn;

        @Option(names = "--probe",
                description = "Also train a linear probe (softmax regression, Adam 2e-3, 20 epochs, batch 512, linear decay).")
        boolean probe;

        @Option(names = "--view-size", defaultValue = "1", paramLabel = "N",
                description = "QA pairs per view (one key's answers joined). Default: ${DEFAULT-VALUE}.")
        int viewSize;

        @Option(names = "--label", defaultValue = "model", paramLabel = "model|lang|model-lang",
                description = "What is identified: the LLM, the language, or the LLM in a language (the key). Default: ${DEFAULT-VALUE}.")
        String label;

        Settings copy() {
            Settings s = new Settings();
            s.split = split;
            s.testFraction = testFraction;
            s.seed = seed;
            s.knn = knn;
            s.probe = probe;
            s.viewSize = viewSize;
            s.label = label;
            return s;
        }

        /** Checks the values before any work (usage errors). */
        void check() {
            Check.oneOf("--split", split, "question");
            Check.oneOf("--label", label, "model", "lang", "model-lang");
            Check.strictlyBetween("--test-fraction", testFraction, 0, 1);
            Check.atLeast("--knn", knn, 1);
            Check.atLeast("--view-size", viewSize, 1);
        }
    }

    /** One evaluated model's row. */
    record Row(String name, Identification id) {
    }

    record Result(List<String> labels, List<Row> rows, int nTrain, int nTest, QuestionSplit split, Settings settings) {
    }

    @Override
    public Integer call() throws Exception {
        Outputs.requireExtension(output, "--output", "json");
        corpus.check();
        settings.check();
        Outputs.check(Outputs.analysisInputs(corpus.corpus, modelOptions.model, baselines), new Outputs.Target("--output", output));
        Device device = modelOptions.device();
        device.check();
        Corpus c = corpus.load(System.err, "eval");
        List<String> models = new ArrayList<>(List.of(modelOptions.model));
        models.addAll(baselines);
        Result r = evaluate(c, models, settings, corpus, device, System.err);
        System.out.print(table(r));
        Outputs.write(output, json(r));
        System.err.println("univar eval: wrote " + output);
        return 0;
    }

    static Result evaluate(Corpus c, List<String> models, Settings s, CorpusOptions co, Device device, PrintStream err) throws Exception {
        s.check();
        QuestionSplit split = QuestionSplit.of(c, s.testFraction, s.seed);
        List<Views.View> train = Views.build(c.restrictTo(split.train()).byKey(), s.viewSize, s.seed, "training answers", co.answersOnly());
        List<Views.View> test = Views.build(c.restrictTo(split.test()).byKey(), s.viewSize, s.seed + 1, "held-out answers", co.answersOnly());
        Classes classes = classes(train, test, s);
        List<String> labels = classes.names();
        if (labels.size() < 2)
            throw new IllegalArgumentException("the corpus has a single " + (s.label.equals("lang") ? "language" : "label")
                    + " (" + labels.getFirst() + "); --label " + s.label + " needs at least 2");
        int[] yTrain = classes.train(), yTest = classes.test();
        err.printf(Locale.ROOT, "univar eval: %d training views (%d questions), %d test views (%d questions), %d labels%n",
                train.size(), split.train().size(), test.size(), split.test().size(), labels.size());
        List<String> texts = new ArrayList<>();
        train.forEach(v -> texts.add(v.text()));
        test.forEach(v -> texts.add(v.text()));
        List<Row> rows = new ArrayList<>();
        for (String model : models) {
            float[][] all = Embeddings.embed(model, device, co, texts, err, "eval");
            float[][] xTrain = java.util.Arrays.copyOfRange(all, 0, train.size()), xTest = java.util.Arrays.copyOfRange(all, train.size(), all.length);
            // k-NN and the probe are small dense jobs on the embeddings: they stay on the CPU whatever --device says.
            try (var backend = Device.cpu(device.threads()).open()) {
                rows.add(new Row(model, Identification.run(backend, xTrain, yTrain, xTest, yTest, labels.size(), s.knn,
                        s.probe ? LinearProbe.Options.defaults(s.seed) : null)));
            }
        }
        return new Result(labels, rows, train.size(), test.size(), split, s);
    }

    /**
     * The class a view is identified as: its (LLM, language) key, for {@code --label model} the key without its
     * language, for {@code --label lang} the key without its LLM. Classes are these pairs, never their printed names.
     */
    static Key label(Key k, Settings s) {
        return switch (s.label) {
            case "model" -> new Key(k.model(), "");
            case "lang" -> new Key("", k.lang());
            default -> k;
        };
    }

    /** The classes in key order, their printed names, and each view's class index. */
    record Classes(List<String> names, int[] train, int[] test) {
    }

    static Classes classes(List<Views.View> train, List<Views.View> test, Settings s) {
        TreeMap<Key, Integer> index = new TreeMap<>();
        train.forEach(v -> index.put(label(v.key(), s), 0));
        test.forEach(v -> index.put(label(v.key(), s), 0));
        List<String> names = new ArrayList<>();
        for (var e : index.entrySet()) {
            e.setValue(names.size());
            Key k = e.getKey();
            names.add(k.model().isEmpty() ? k.lang() : k.lang().isEmpty() ? k.model() : k.toString());
        }
        return new Classes(List.copyOf(names), train.stream().mapToInt(v -> index.get(label(v.key(), s))).toArray(),
                test.stream().mapToInt(v -> index.get(label(v.key(), s))).toArray());
    }

    static String table(Result r) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(8, r.rows().stream().mapToInt(x -> x.name().length()).max().orElse(8));
        String head = "  acc@1  acc@3  acc@5 acc@10  F1(w)";
        sb.append(String.format(Locale.ROOT, "%-" + w + "s  %-36s%s%n", "", "k-NN", r.settings().probe ? "  linear probe" : ""));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s %s%s%n", "model", head, r.settings().probe ? "  " + head : ""));
        for (Row row : r.rows()) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s %s", row.name(), cells(row.id().knn())));
            if (row.id().probe() != null) sb.append("  ").append(cells(row.id().probe()));
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%d labels (chance acc@1 %.1f%%), %d training and %d test views of %d QA pair(s), question-level split%n",
                r.labels().size(), 100.0 / r.labels().size(), r.nTrain(), r.nTest(), r.settings().viewSize));
        return sb.toString();
    }

    private static String cells(Metrics m) {
        return String.format(Locale.ROOT, " %6.2f %6.2f %6.2f %6.2f %6.2f", 100 * m.accuracy(1), 100 * m.accuracy(3),
                100 * m.accuracy(5), 100 * m.accuracy(10), 100 * m.f1Weighted());
    }

    static String json(Result r) {
        JsonObject root = new JsonObject();
        JsonArray models = new JsonArray();
        for (Row row : r.rows()) {
            JsonObject m = new JsonObject();
            m.addProperty("name", row.name());
            m.add("knn", metrics(row.id().knn()));
            if (row.id().probe() != null) m.add("probe", metrics(row.id().probe()));
            JsonObject conf = new JsonObject();
            conf.add("knn", matrix(row.id().knn().confusion()));
            if (row.id().probe() != null) conf.add("probe", matrix(row.id().probe().confusion()));
            m.add("confusion", conf);
            models.add(m);
        }
        root.add("models", models);
        root.add("keys", strings(r.labels()));
        root.addProperty("label", r.settings().label);
        root.addProperty("n_train", r.nTrain());
        root.addProperty("n_test", r.nTest());
        root.addProperty("view_size", r.settings().viewSize);
        root.addProperty("knn_k", r.settings().knn);
        root.addProperty("seed", r.settings().seed);
        root.addProperty("test_fraction", r.settings().testFraction);
        root.add("train_questions", strings(List.copyOf(r.split().train())));
        root.add("test_questions", strings(List.copyOf(r.split().test())));
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
    }

    private static JsonObject metrics(Metrics m) {
        JsonObject o = new JsonObject();
        for (int k : new int[]{1, 3, 5, 10}) o.addProperty("acc@" + k, m.accuracy(k));
        o.addProperty("precision_weighted", m.precisionWeighted());
        o.addProperty("recall_weighted", m.recallWeighted());
        o.addProperty("f1_weighted", m.f1Weighted());
        o.addProperty("f1_macro", m.f1Macro());
        return o;
    }

    private static JsonArray matrix(int[][] m) {
        JsonArray a = new JsonArray();
        for (int[] row : m) {
            JsonArray r = new JsonArray();
            for (int v : row) r.add(v);
            a.add(r);
        }
        return a;
    }

    private static JsonArray strings(List<String> s) {
        JsonArray a = new JsonArray();
        s.forEach(a::add);
        return a;
    }
}
