package dev.univar.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.univar.corpus.Corpus;
import dev.univar.corpus.Key;
import dev.univar.corpus.QuestionSplit;
import dev.univar.values.AnswerGroups;
import dev.univar.values.EmbeddedViews;
import dev.univar.values.Identification;
import dev.univar.values.Identifier;
import dev.univar.values.KeyLabels;
import dev.univar.values.LinearProbe;
import dev.univar.values.UnknownThreshold;
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
import java.util.Map;
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

        @Option(names = "--answers-per-decision", defaultValue = "1", paramLabel = "N",
                description = {"Held-out views of one key (on different questions) combined into one decision, as `identify` "
                        + "combines answers: summed log-probabilities (probe), summed votes (k-NN), mean distance (centroid). "
                        + "1 is the paper's protocol. Accuracy for 1, 2, 5 and 10 is reported whatever N is. Default: ${DEFAULT-VALUE}."})
        int answersPerDecision = 1;

        Settings copy() {
            Settings s = new Settings();
            s.split = split;
            s.testFraction = testFraction;
            s.seed = seed;
            s.knn = knn;
            s.probe = probe;
            s.viewSize = viewSize;
            s.label = label;
            s.answersPerDecision = answersPerDecision;
            return s;
        }

        /** Checks the values before any work (usage errors). */
        void check() {
            Check.oneOf("--split", split, "question");
            Check.oneOf("--label", label, "model", "lang", "model-lang");
            Check.strictlyBetween("--test-fraction", testFraction, 0, 1);
            Check.atLeast("--knn", knn, 1);
            Check.atLeast("--view-size", viewSize, 1);
            Check.atLeast("--answers-per-decision", answersPerDecision, 1);
        }

        KeyLabels.Label labelKind() {
            return KeyLabels.Label.parse(label);
        }

        /** The engine's settings: k-NN, centroid and (with --probe) the probe, unknown-LLM thresholds included. */
        Identification.Settings engine() {
            return new Identification.Settings(knn, probe ? LinearProbe.Options.defaults(seed) : null, answersPerDecision,
                    Identification.Settings.CURVE, VALIDATION_FRACTION, true, Identification.Settings.MAX_FALSE_REJECT, seed);
        }
    }

    /** Share of the training questions the probe's temperature is fitted on. */
    static final double VALIDATION_FRACTION = 0.2;

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
        KeyLabels labels = labels(train, test, s);
        if (labels.size() < 2)
            throw new IllegalArgumentException("the corpus has a single " + (s.label.equals("lang") ? "language" : "label")
                    + " (" + labels.names().getFirst() + "); --label " + s.label + " needs at least 2");
        err.printf(Locale.ROOT, "univar eval: %d training views (%d questions), %d test views (%d questions), %d labels%n",
                train.size(), split.train().size(), test.size(), split.test().size(), labels.size());
        checkGroups(test, s);
        List<String> texts = new ArrayList<>();
        train.forEach(v -> texts.add(v.text()));
        test.forEach(v -> texts.add(v.text()));
        List<Row> rows = new ArrayList<>();
        for (String model : models) {
            float[][] all = Embeddings.embed(model, device, co, texts, err, "eval");
            EmbeddedViews xTrain = labels.embedded(train, java.util.Arrays.copyOfRange(all, 0, train.size()));
            EmbeddedViews xTest = labels.embedded(test, java.util.Arrays.copyOfRange(all, train.size(), all.length));
            // k-NN and the probe are small dense jobs on the embeddings: they stay on the CPU whatever --device says.
            try (var backend = Device.cpu(device.threads()).open()) {
                rows.add(new Row(model, Identification.run(backend, xTrain, xTest, labels.size(), s.engine())));
            }
        }
        return new Result(labels.names(), rows, train.size(), test.size(), split, s);
    }

    /** Every key must have --answers-per-decision held-out views on different questions (a data limit: exit 1). */
    static void checkGroups(List<Views.View> test, Settings s) {
        List<Key> keys = List.copyOf(new java.util.TreeSet<>(test.stream().map(Views.View::key).toList()));
        EmbeddedViews v = KeyLabels.of(keys, KeyLabels.Label.MODEL_LANG).embedded(test, new float[test.size()][0]);
        int shortOne = AnswerGroups.shortSource(v, s.answersPerDecision);
        if (shortOne >= 0) {
            int have = AnswerGroups.maxSize(v.select(i -> v.source()[i] == shortOne));
            throw new IllegalArgumentException("key " + keys.get(shortOne) + " has " + have + " held-out "
                    + (s.viewSize == 1 ? "answers" : "views") + " on different questions, fewer than --answers-per-decision "
                    + s.answersPerDecision + " (a larger --test-fraction holds out more questions)");
        }
    }

    /**
     * The class a view is identified as: its (LLM, language) key, for {@code --label model} the key without its
     * language, for {@code --label lang} the key without its LLM. Classes are these pairs, never their printed names.
     */
    static Key label(Key k, Settings s) {
        return KeyLabels.classOf(k, s.labelKind());
    }

    static KeyLabels labels(List<Views.View> train, List<Views.View> test, Settings s) {
        List<Key> keys = new ArrayList<>();
        train.forEach(v -> keys.add(v.key()));
        test.forEach(v -> keys.add(v.key()));
        return KeyLabels.of(keys, s.labelKind());
    }

    /** The classes in key order, their printed names, and each view's class index. */
    record Classes(List<String> names, int[] train, int[] test) {
    }

    static Classes classes(List<Views.View> train, List<Views.View> test, Settings s) {
        KeyLabels l = labels(train, test, s);
        return new Classes(l.names(), train.stream().mapToInt(v -> l.indexOf(v.key())).toArray(),
                test.stream().mapToInt(v -> l.indexOf(v.key())).toArray());
    }

    static String table(Result r) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(8, r.rows().stream().mapToInt(x -> x.name().length()).max().orElse(8));
        List<Identifier.Method> methods = r.settings().engine().methods();
        String head = "  acc@1  acc@3  acc@5 acc@10  F1(w)";
        sb.append(String.format(Locale.ROOT, "%-" + w + "s", ""));
        for (Identifier.Method m : methods) sb.append(String.format(Locale.ROOT, "  %-36s", m.title()));
        sb.append('\n').append(String.format(Locale.ROOT, "%-" + w + "s", "model"));
        for (int i = 0; i < methods.size(); i++) sb.append(i == 0 ? " " : "  ").append(head);
        sb.append('\n');
        for (Row row : r.rows()) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s ", row.name()));
            for (int i = 0; i < methods.size(); i++) sb.append(i == 0 ? "" : "  ").append(cells(row.id().methods().get(methods.get(i)).metrics()));
            sb.append('\n');
        }
        int n = r.settings().answersPerDecision;
        sb.append(String.format(Locale.ROOT, "%d labels (chance acc@1 %.1f%%), %d training and %d test views of %d QA pair(s), "
                        + "question-level split; %d decisions of %d view(s) each%n",
                r.labels().size(), 100.0 / r.labels().size(), r.nTrain(), r.nTest(), r.settings().viewSize,
                r.rows().isEmpty() ? 0 : r.rows().getFirst().id().decisions(), n));
        // Accuracy against the number of held-out answers combined per decision.
        java.util.SortedSet<Integer> sizes = new java.util.TreeSet<>();
        for (Row row : r.rows()) row.id().methods().values().forEach(m -> sizes.addAll(m.accuracyByAnswers().keySet()));
        sb.append(String.format(Locale.ROOT, "%nacc@1 by answers per decision (views of one key on different questions)%n%-" + w + "s  %-12s", "model", "method"));
        for (int k : sizes) sb.append(String.format(Locale.ROOT, " %6s", "N=" + k));
        sb.append('\n');
        for (Row row : r.rows())
            for (var e : row.id().methods().entrySet()) {
                sb.append(String.format(Locale.ROOT, "%-" + w + "s  %-12s", row.name(), e.getKey().title()));
                for (int k : sizes) {
                    Double a = e.getValue().accuracyByAnswers().get(k);
                    sb.append(a == null ? "      -" : String.format(Locale.ROOT, " %6.2f", 100 * a));
                }
                sb.append('\n');
            }
        for (Row row : r.rows()) {
            Identification.MethodResult p = row.id().methods().get(Identifier.Method.PROBE);
            if (p == null || p.eceBefore().isEmpty()) continue;
            var t = row.id().temperature();
            sb.append(String.format(Locale.ROOT, "%s: probe ECE on held-out answers %.4f -> %.4f with temperature %.3f "
                            + "(fitted on %d validation views: ECE %.4f -> %.4f%s)%n", row.name(), p.eceBefore().get(1),
                    p.eceAfter().get(1), t.value(), t.validationViews(), t.validationEceBefore(), t.validationEceAfter(),
                    t.used() ? "" : "; not used, it did not lower the ECE"));
        }
        // The unknown-LLM threshold at the decisions' size.
        boolean header = false;
        for (Row row : r.rows())
            for (var e : row.id().methods().entrySet()) {
                UnknownThreshold u = e.getValue().unknown().get(n);
                if (u == null) continue;
                if (!header) {
                    sb.append(String.format(Locale.ROOT, "unknown LLM (each LLM left out in turn), %d answer(s) per decision:%n", n));
                    header = true;
                }
                sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %-12s %s; false accepts %.1f%%, false rejects %.1f%%%n", row.name(),
                        e.getKey().title(), describe(u), 100 * u.falseAcceptRate(), 100 * u.falseRejectRate()));
            }
        return sb.toString();
    }

    /** "probability < 0.62 is unknown", "never flags" */
    static String describe(UnknownThreshold u) {
        if (u.acceptsAll()) return "never flags (no threshold helps)";
        return String.format(Locale.ROOT, "unknown when %s %s %.4f", u.method().confidence(), u.method().higherIsBetter() ? "<" : ">", u.threshold());
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
            JsonObject conf = new JsonObject(), curve = new JsonObject(), unknown = new JsonObject();
            for (var e : row.id().methods().entrySet()) {
                String id = e.getKey().id();
                m.add(id, metrics(e.getValue().metrics()));
                conf.add(id, matrix(e.getValue().metrics().confusion()));
                curve.add(id, bySize(e.getValue().accuracyByAnswers()));
                JsonArray u = new JsonArray();
                e.getValue().unknown().values().forEach(t -> u.add(threshold(t, r.labels())));
                unknown.add(id, u);
            }
            m.add("confusion", conf);
            m.add("accuracy_by_answers", curve);
            Identification.MethodResult p = row.id().methods().get(Identifier.Method.PROBE);
            if (p != null) {
                var t = row.id().temperature();
                JsonObject c = new JsonObject();
                c.addProperty("temperature", t.value());
                c.addProperty("fitted_temperature", t.fitted());
                c.addProperty("temperature_used", t.used());
                c.addProperty("validation_views", t.validationViews());
                number(c, "validation_ece_before", t.validationEceBefore());
                number(c, "validation_ece_after", t.validationEceAfter());
                c.add("ece_before", bySize(p.eceBefore()));
                c.add("ece_after", bySize(p.eceAfter()));
                c.addProperty("bins", dev.univar.values.Calibration.BINS);
                m.add("probe_calibration", c);
            }
            m.add("unknown", unknown);
            models.add(m);
        }
        root.add("models", models);
        root.add("keys", strings(r.labels()));
        root.addProperty("label", r.settings().label);
        root.addProperty("n_train", r.nTrain());
        root.addProperty("n_test", r.nTest());
        root.addProperty("view_size", r.settings().viewSize);
        root.addProperty("answers_per_decision", r.settings().answersPerDecision);
        root.addProperty("n_decisions", r.rows().isEmpty() ? 0 : r.rows().getFirst().id().decisions());
        root.addProperty("knn_k", r.settings().knn);
        root.addProperty("seed", r.settings().seed);
        root.addProperty("test_fraction", r.settings().testFraction);
        root.add("train_questions", strings(List.copyOf(r.split().train())));
        root.add("test_questions", strings(List.copyOf(r.split().test())));
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(root) + "\n";
    }

    static JsonObject threshold(UnknownThreshold t, List<String> labels) {
        JsonObject o = new JsonObject();
        o.addProperty("answers", t.answers());
        o.addProperty("score", t.method().confidence());
        o.addProperty("unknown_when", t.acceptsAll() ? "never" : t.method().higherIsBetter() ? "below" : "above");
        number(o, "threshold", t.threshold());
        o.addProperty("false_accept_rate", t.falseAcceptRate());
        o.addProperty("false_reject_rate", t.falseRejectRate());
        o.addProperty("unknown_groups", t.unknownGroups());
        o.addProperty("known_groups", t.knownGroups());
        if (t.falseAcceptByLabel().length == labels.size()) {
            JsonObject by = new JsonObject();
            for (int i = 0; i < labels.size(); i++) number(by, labels.get(i), t.falseAcceptByLabel()[i]);
            o.add("false_accept_rate_by_left_out", by);
        }
        return o;
    }

    private static JsonObject bySize(Map<Integer, Double> m) {
        JsonObject o = new JsonObject();
        m.forEach((k, v) -> number(o, String.valueOf(k), v));
        return o;
    }

    /** NaN and infinities have no JSON spelling: null. */
    static void number(JsonObject o, String name, double v) {
        if (Double.isFinite(v)) o.addProperty(name, v);
        else o.add(name, com.google.gson.JsonNull.INSTANCE);
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
