package dev.univar.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.univar.corpus.ColumnMap;
import dev.univar.corpus.Corpus;
import dev.univar.corpus.InputAnswers;
import dev.univar.values.EmbeddedViews;
import dev.univar.values.Evidence;
import dev.univar.values.IdentifyJob;
import dev.univar.values.Identifier;
import dev.univar.values.KeyLabels;
import dev.univar.values.LinearProbe;
import dev.univar.values.UnknownThreshold;
import dev.univar.values.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "identify", mixinStandardHelpOptions = true,
        description = {"Which of the reference corpus's LLMs wrote these answers? Fits k-NN, a linear probe or key centroids",
                "on the reference, embeds each input QA pair as training does ('Q: … A: …'), and combines the answers of",
                "each group into a ranking of the reference LLMs: probabilities (probe), vote shares (k-NN) or cosine",
                "distances (centroid). A group whose best score misses a threshold chosen on held-out reference",
                "questions is reported as none of them."})
final class IdentifyCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--reference", required = true, paramLabel = "CORPUS",
            description = "The LLMs to choose from: a corpus (.csv/.jsonl file or folder) as eval reads it.")
    Path reference;

    @Option(names = "--columns", paramLabel = "PART=COLUMN,...",
            description = "Which columns hold question, answer, model, lang, question_id in the reference; the input's "
                    + "question and answer columns are named the same.")
    String columns;

    @Option(names = "--input", required = true, paramLabel = "ANSWERS",
            description = "The answers to identify: .csv or .jsonl with question and answer fields (and a group field).")
    Path input;

    @Option(names = "--group-by", paramLabel = "FIELD",
            description = "Identify each value of this field's answers separately (one LLM per group). Default: the whole input is one group.")
    String groupBy;

    @Option(names = "--method", defaultValue = "probe", paramLabel = "knn|probe|centroid", description = "Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--top", defaultValue = "5", paramLabel = "N", description = "Reference LLMs listed per group. Default: ${DEFAULT-VALUE}.")
    int top;

    @Option(names = "--output", paramLabel = "result.json", description = "Also write the rankings and calibration as JSON.")
    Path output;

    @Option(names = "--label", defaultValue = "model", paramLabel = "model|model-lang",
            description = "What is identified: the LLM, or the LLM in a language. Default: ${DEFAULT-VALUE}.")
    String label;

    @Option(names = "--knn", defaultValue = "50", paramLabel = "K", description = "Neighbours for k-NN. Default: ${DEFAULT-VALUE}.")
    int knn;

    @Option(names = "--test-fraction", defaultValue = "0.2", paramLabel = "F",
            description = "Reference questions held out to calibrate (accuracy, unknown threshold). Default: ${DEFAULT-VALUE}.")
    double testFraction;

    @Option(names = "--max-false-reject", defaultValue = "0.1", paramLabel = "F",
            description = "Share of held-out groups of reference LLMs the unknown-LLM threshold may flag. Default: ${DEFAULT-VALUE}.")
    double maxFalseReject;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--no-clean", description = "Keep chat-template residue (<|assistant|>, [INST], <s>) in answers.")
    boolean noClean;

    @Option(names = "--view-text", defaultValue = "qa", paramLabel = "qa|answer",
            description = "What is embedded per answer: 'Q: … A: …' (qa) or the answer alone. Default: ${DEFAULT-VALUE}.")
    String viewText;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "TOKENS", description = "Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        if (output != null) Outputs.requireExtension(output, "--output", "json");
        CorpusOptions co = corpusOptions();
        co.check();
        Identifier.Method m = Identifier.Method.of(Check.oneOf("--method", method, "knn", "probe", "centroid"));
        Check.oneOf("--label", label, "model", "model-lang");
        Check.atLeast("--top", top, 1);
        Check.atLeast("--knn", knn, 1);
        Check.strictlyBetween("--test-fraction", testFraction, 0, 1);
        Check.within("--max-false-reject", maxFalseReject, 0, 0.99);
        List<Path> inputs = List.of(reference, input);
        List<Path> all = new ArrayList<>(inputs);
        all.add(Outputs.modelInput(modelOptions.model));
        if (output != null) Outputs.check(all, new Outputs.Target("--output", output));
        Device device = modelOptions.device();
        device.check();
        PrintStream err = System.err;

        Corpus c = co.load(err, "identify");
        ColumnMap map = ColumnMap.parse(columns);
        InputAnswers answers = InputAnswers.read(input, co.answersOnly() ? null : map.question(), map.answer(), groupBy,
                !noClean, msg -> err.println("univar identify: " + input + ": " + msg));
        List<Views.View> views = Views.build(c.byKey(), 1, seed, "reference answers", co.answersOnly());
        KeyLabels labels = KeyLabels.of(c.keys(), KeyLabels.Label.parse(label));
        List<String> inputTexts = answers.answers().stream().map(a -> a.viewText(co.answersOnly())).toList();
        err.printf(Locale.ROOT, "univar identify: %d input answers in %d group(s); %d reference answers of %d %s%n",
                inputTexts.size(), answers.groups().size(), views.size(), labels.size(), label.equals("model") ? "LLMs" : "keys");
        float[][][] x = Embeddings.embedParts(modelOptions.model, device, co, List.of(views.stream().map(Views.View::text).toList(), inputTexts), err, "identify");
        EmbeddedViews ref = labels.embedded(views, x[0]);

        List<IdentifyJob.Group> groups = new ArrayList<>();
        int row = 0;
        for (var e : answers.groups().entrySet()) {
            int[] rows = new int[e.getValue().size()];
            for (int i = 0; i < rows.length; i++) rows[i] = row++;
            groups.add(new IdentifyJob.Group(e.getKey(), rows));
        }
        IdentifyJob.Options o = new IdentifyJob.Options(new Identifier.Options(m, knn, LinearProbe.Options.defaults(seed), 1),
                testFraction, EvalCommand.VALIDATION_FRACTION, true, maxFalseReject, seed);
        IdentifyJob.Result r;
        try (var backend = Device.cpu(device.threads()).open()) {
            r = IdentifyJob.run(backend, ref, labels.size(), x[1], groups, o);
        }
        if (groups.stream().anyMatch(g -> g.rows().length > r.heldOutAnswers()))
            err.printf(Locale.ROOT, "univar identify: notice: the held-out reference questions allow groups of at most %d answers; "
                    + "larger groups use the threshold and accuracy measured for %d%n", r.heldOutAnswers(), r.heldOutAnswers());
        System.out.print(table(r, labels.names(), m));
        if (output != null) {
            Outputs.write(output, json(r, labels.names(), m));
            err.println("univar identify: wrote " + output);
        }
        return 0;
    }

    private CorpusOptions corpusOptions() {
        CorpusOptions co = new CorpusOptions();
        co.corpus = reference;
        co.columns = columns;
        co.noClean = noClean;
        co.viewText = viewText;
        co.maxLength = maxLength;
        co.batchSize = batchSize;
        return co;
    }

    String table(IdentifyJob.Result r, List<String> names, Identifier.Method m) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(12, names.stream().mapToInt(String::length).max().orElse(12));
        for (IdentifyJob.Verdict v : r.verdicts()) {
            Evidence.Ranking k = v.ranking();
            sb.append(String.format(Locale.ROOT, "%s (%d answer%s): %s%n", v.group().name(), k.answers(), k.answers() == 1 ? "" : "s",
                    v.unknown() ? String.format(Locale.ROOT, "unknown, none of the reference LLMs (%s %.4f %s %.4f)", m.confidence(),
                            m.higherIsBetter() ? k.confidence() : -k.confidence(), m.higherIsBetter() ? "<" : ">", v.threshold().threshold())
                            : names.get(k.top())));
            for (int i = 0; i < Math.min(top, k.order().length); i++)
                sb.append(String.format(Locale.ROOT, "  %2d. %-" + w + "s  %s %.4f%n", i + 1, names.get(k.order()[i]), m.score(), k.score()[k.order()[i]]));
        }
        sb.append(String.format(Locale.ROOT, "%s on %d reference answers", m.title(), r.calibrationViews() + r.heldOutViews()));
        if (m == Identifier.Method.PROBE)
            sb.append(String.format(Locale.ROOT, "; temperature %.3f%s", r.temperature().value(), r.temperature().used() ? "" : " (scaling did not lower the validation ECE)"));
        sb.append('\n');
        for (var e : r.heldOutAccuracy().entrySet()) {
            UnknownThreshold t = r.thresholds().get(e.getKey());
            sb.append(String.format(Locale.ROOT, "held-out reference questions, groups of %d: named first %.1f%%", e.getKey(), 100 * e.getValue()));
            if (t != null)
                sb.append(String.format(Locale.ROOT, "; %s (flags %.1f%% of reference LLMs' groups, accepts %.1f%% of left-out LLMs')",
                        EvalCommand.describe(t), 100 * t.falseRejectRate(), 100 * t.falseAcceptRate()));
            sb.append('\n');
        }
        return sb.toString();
    }

    String json(IdentifyJob.Result r, List<String> names, Identifier.Method m) {
        JsonObject root = new JsonObject();
        root.addProperty("model", modelOptions.model);
        root.addProperty("reference", reference.toString());
        root.addProperty("input", input.toString());
        root.addProperty("method", m.id());
        root.addProperty("score", m.score());
        root.addProperty("label", label);
        JsonArray keys = new JsonArray();
        names.forEach(keys::add);
        root.add("keys", keys);
        String scoreName = m.score().replace(' ', '_');
        JsonArray groups = new JsonArray();
        for (IdentifyJob.Verdict v : r.verdicts()) {
            JsonObject g = new JsonObject();
            g.addProperty("group", v.group().name());
            g.addProperty("answers", v.ranking().answers());
            if (v.unknown()) g.add("verdict", com.google.gson.JsonNull.INSTANCE);
            else g.addProperty("verdict", names.get(v.ranking().top()));
            g.addProperty("unknown", v.unknown());
            EvalCommand.number(g, m.confidence().replace(' ', '_'), m.higherIsBetter() ? v.ranking().confidence() : -v.ranking().confidence());
            JsonArray ranking = new JsonArray();
            for (int i = 0; i < Math.min(top, v.ranking().order().length); i++) {
                JsonObject e = new JsonObject();
                int l = v.ranking().order()[i];
                e.addProperty("key", names.get(l));
                EvalCommand.number(e, scoreName, v.ranking().score()[l]);
                ranking.add(e);
            }
            g.add("ranking", ranking);
            groups.add(g);
        }
        root.add("groups", groups);
        JsonObject held = new JsonObject();
        held.addProperty("test_fraction", testFraction);
        held.addProperty("seed", seed);
        held.addProperty("calibration_views", r.calibrationViews());
        held.addProperty("held_out_views", r.heldOutViews());
        held.addProperty("max_answers_per_group", r.heldOutAnswers());
        JsonObject acc = new JsonObject();
        r.heldOutAccuracy().forEach((n, a) -> acc.addProperty(String.valueOf(n), a));
        held.add("accuracy", acc);
        JsonArray thresholds = new JsonArray();
        r.thresholds().values().forEach(t -> thresholds.add(EvalCommand.threshold(t, names)));
        held.add("unknown_thresholds", thresholds);
        if (m == Identifier.Method.PROBE) {
            JsonObject c = new JsonObject();
            c.addProperty("temperature", r.temperature().value());
            c.addProperty("fitted_temperature", r.temperature().fitted());
            c.addProperty("temperature_used", r.temperature().used());
            EvalCommand.number(c, "validation_ece_before", r.temperature().validationEceBefore());
            EvalCommand.number(c, "validation_ece_after", r.temperature().validationEceAfter());
            EvalCommand.number(c, "ece_before", r.eceBefore());
            EvalCommand.number(c, "ece_after", r.eceAfter());
            held.add("probe_calibration", c);
        }
        root.add("held_out", held);
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(root) + "\n";
    }
}
