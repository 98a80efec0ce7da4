package dev.univar.cli;

import dev.univar.corpus.Corpus;
import dev.univar.values.LanguageVsModel;
import dev.univar.values.Metrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Evaluate, map and compare in one go, into one self-contained HTML file (figures inline as SVG,",
                "nothing fetched from the network)."})
final class ReportCommand implements Callable<Integer> {
    @Mixin
    CorpusOptions corpus;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--baseline", paramLabel = "minilm|DIR|ORG/NAME", description = "Another model to evaluate alongside (repeatable).")
    List<String> baselines = new ArrayList<>();

    @Option(names = "--output", required = true, paramLabel = "report.html")
    Path output;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--test-fraction", defaultValue = "0.2", paramLabel = "F", description = "Default: ${DEFAULT-VALUE}.")
    double testFraction;

    @Option(names = "--knn", defaultValue = "50", paramLabel = "K", description = "Default: ${DEFAULT-VALUE}.")
    int knn;

    @Option(names = "--probe", description = "Also evaluate a linear probe.")
    boolean probe;

    @Option(names = "--label", defaultValue = "model", paramLabel = "model|lang|model-lang", description = "Default: ${DEFAULT-VALUE}.")
    String label;

    @Option(names = "--eval-view-size", defaultValue = "1", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int evalViewSize;

    @Option(names = "--map-view-size", defaultValue = "5", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int mapViewSize;

    @Option(names = "--method", defaultValue = "umap", paramLabel = "umap|tsne|pca", description = "Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--permutations", defaultValue = "200", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int permutations;

    @Override
    public Integer call() throws Exception {
        Outputs.requireExtension(output, "--output", "html", "htm");
        EvalCommand.Settings es = new EvalCommand.Settings();
        es.split = "question";
        es.testFraction = testFraction;
        es.seed = seed;
        es.knn = knn;
        es.probe = probe;
        es.viewSize = evalViewSize;
        es.label = label;
        es.answersPerDecision = 1;
        MapCommand.Settings ms = new MapCommand.Settings();
        ms.viewSize = mapViewSize;
        ms.method = method;
        ms.seed = seed;
        CompareCommand.Settings cs = new CompareCommand.Settings();
        cs.viewSize = evalViewSize;
        cs.permutations = permutations;
        cs.maxPerKey = 200;
        cs.seed = seed;
        corpus.check();
        es.check();
        ms.check();
        cs.check();
        Outputs.check(Outputs.analysisInputs(corpus.corpus, modelOptions.model, baselines), new Outputs.Target("--output", output));
        Device device = modelOptions.device();
        device.check();
        Corpus c = corpus.load(System.err, "report");
        List<String> models = new ArrayList<>(List.of(modelOptions.model));
        models.addAll(baselines);
        EvalCommand.Result eval = EvalCommand.evaluate(c, models, es, corpus, device, System.err);
        LanguageSection languages = languageSection(c, models, es, eval, device);
        MapCommand.Result map = MapCommand.layout(c, modelOptions.model, ms, corpus, device, System.err);
        CompareCommand.Result cmp = CompareCommand.compare(c, modelOptions.model, cs, corpus, device, System.err);
        System.out.print(EvalCommand.table(eval));
        if (languages != null)
            for (int i = 0; i < models.size(); i++)
                System.out.println(models.get(i) + ": " + languages.scores().get(i).verdict());
        Outputs.write(output, html(c, eval, languages, map, cmp));
        System.err.println("univar report: wrote " + output);
        return 0;
    }

    /** Identification by LLM and by language on the same views, per embedding model (k-NN acc@1). */
    record LanguageSection(EvalCommand.Result byModel, EvalCommand.Result byLanguage, List<LanguageVsModel> scores) {
    }

    /**
     * On a corpus in several languages: whether the representation encodes language or LLM more. The views and
     * their embeddings are those of the main evaluation (cached), labelled twice.
     */
    private LanguageSection languageSection(Corpus c, List<String> models, EvalCommand.Settings es,
                                                   EvalCommand.Result eval, Device device) throws Exception {
        long languages = c.keys().stream().map(dev.univar.corpus.Key::lang).distinct().count();
        if (languages < 2) return null;
        EvalCommand.Result[] by = new EvalCommand.Result[2];
        String[] labels = {"model", "lang"};
        for (int i = 0; i < 2; i++) {
            if (es.label.equals(labels[i])) {
                by[i] = eval;
                continue;
            }
            EvalCommand.Settings s = es.copy();
            s.label = labels[i];
            s.probe = false; // k-NN answers the question; a second probe would double the time
            by[i] = EvalCommand.evaluate(c, models, s, corpus, device, System.err);
        }
        List<LanguageVsModel> scores = new ArrayList<>();
        for (int m = 0; m < models.size(); m++)
            scores.add(new LanguageVsModel(by[0].rows().get(m).id().knn().accuracy(1), by[0].labels().size(),
                    by[1].rows().get(m).id().knn().accuracy(1), by[1].labels().size()));
        return new LanguageSection(by[0], by[1], scores);
    }

    String html(Corpus c, EvalCommand.Result eval, LanguageSection languages, MapCommand.Result map, CompareCommand.Result cmp) {
        StringBuilder h = new StringBuilder();
        h.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
                <title>UniVaR report</title>
                <style>
                body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}
                table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
                th{background:#eef}td.name{text-align:left}figure{margin:1em 0}svg{max-width:100%;height:auto}
                </style></head><body>
                <h1>UniVaR report</h1>
                """);
        h.append("<p>Corpus <code>").append(Outputs.xml(corpus.corpus.toString())).append("</code>: ")
                .append(c.size()).append(" QA pairs, ").append(c.models().size()).append(" LLMs, ")
                .append(c.keys().size()).append(" keys, ").append(c.questionIds().size()).append(" questions. Embedding model <code>")
                .append(Outputs.xml(modelOptions.model)).append("</code>, maximum length ").append(corpus.maxLength).append(" tokens")
                .append(corpus.noClean ? ", chat-template residue kept" : ", chat-template residue removed")
                .append(corpus.answersOnly() ? "; views hold the answers alone" : "; views hold <code>Q: … A: …</code> lines").append(".</p>\n");
        h.append("<h2>Identifying LLMs</h2>\n<p>").append(Outputs.xml(String.format(Locale.ROOT,
                "%d labels (chance %.1f%%); %d training and %d test views of %d QA pair(s); question-level split (test fraction %.2f, seed %d); k-NN with k = %d.",
                eval.labels().size(), 100.0 / eval.labels().size(), eval.nTrain(), eval.nTest(), evalViewSize, testFraction, seed, knn)))
                .append("</p>\n<table><tr><th>model</th><th>method</th><th>acc@1</th><th>acc@3</th><th>acc@5</th><th>acc@10</th>"
                        + "<th>precision (w)</th><th>recall (w)</th><th>F1 (w)</th><th>F1 (macro)</th></tr>\n");
        for (EvalCommand.Row row : eval.rows())
            for (var e : row.id().methods().entrySet()) appendRow(h, row.name(), e.getKey().title(), e.getValue().metrics());
        h.append("</table>\n");
        appendAnswersPerDecision(h, eval);
        if (languages != null) {
            h.append("<h2>Language or LLM?</h2>\n<p>").append(Outputs.xml(String.format(Locale.ROOT,
                    "The same views identified by LLM (%d classes) and by language (%d classes), k-NN acc@1. Scores above "
                            + "chance, (acc − 1/n) / (1 − 1/n), make the two comparable: 0 is guessing, 1 is perfect.",
                    languages.byModel().labels().size(), languages.byLanguage().labels().size())))
                    .append("</p>\n<table><tr><th>model</th><th>LLM acc@1</th><th>LLM above chance</th>"
                            + "<th>language acc@1</th><th>language above chance</th><th>encodes more</th></tr>\n");
            for (int m = 0; m < languages.scores().size(); m++) {
                LanguageVsModel s = languages.scores().get(m);
                h.append("<tr><td class=\"name\">").append(Outputs.xml(eval.rows().get(m).name())).append("</td>")
                        .append(pct(s.modelAccuracy())).append(score(s.modelScore()))
                        .append(pct(s.languageAccuracy())).append(score(s.languageScore()))
                        .append("<td class=\"name\">").append(s.dominant()).append("</td></tr>\n");
            }
            h.append("</table>\n<p>").append(Outputs.xml(modelOptions.model + ": " + languages.scores().getFirst().verdict())).append("</p>\n");
        }
        h.append("<h2>Value map</h2>\n<p>").append(Outputs.xml(String.format(Locale.ROOT,
                "%s layout of %d views of %d QA pairs; trustworthiness (k = 10) %.4f.", map.method().toUpperCase(Locale.ROOT),
                map.views().size(), mapViewSize, map.trustworthiness()))).append("</p>\n<figure>")
                .append(new String(MapCommand.figure(map, "svg"), StandardCharsets.UTF_8)).append("</figure>\n");
        h.append("<h2>Distances between keys</h2>\n<p>").append(Outputs.xml(String.format(Locale.ROOT,
                "Energy distance between the keys' embedding distributions, keys ordered by average-linkage clustering; "
                        + "the table adds centroid cosine distance and MMD² (RBF kernel, median bandwidth); p-values from %d permutations.",
                cmp.permutations()))).append("</p>\n<figure>")
                .append(new String(CompareCommand.figure(cmp, "svg"), StandardCharsets.UTF_8)).append("</figure>\n");
        h.append("<table><tr><th>key</th><th>key</th><th>centroid cosine distance</th><th>MMD²</th><th>p</th><th>energy distance</th><th>p</th></tr>\n");
        int n = cmp.keys().size();
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
                h.append("<tr><td class=\"name\">").append(Outputs.xml(cmp.keys().get(a).toString())).append("</td><td class=\"name\">")
                        .append(Outputs.xml(cmp.keys().get(b).toString())).append("</td>")
                        .append(td(cmp.centroidCosine()[a][b])).append(td(cmp.mmd2()[a][b])).append(td(cmp.mmdP()[a][b]))
                        .append(td(cmp.energy()[a][b])).append(td(cmp.energyP()[a][b])).append("</tr>\n");
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    /**
     * Accuracy against the number of held-out answers combined per decision (a chart), the probe's calibration and
     * the unknown-LLM thresholds.
     */
    private static void appendAnswersPerDecision(StringBuilder h, EvalCommand.Result eval) {
        java.util.TreeSet<Integer> sizes = new java.util.TreeSet<>();
        List<String> series = new ArrayList<>();
        List<java.util.Map<Integer, Double>> curves = new ArrayList<>();
        for (EvalCommand.Row row : eval.rows())
            for (var e : row.id().methods().entrySet()) {
                sizes.addAll(e.getValue().accuracyByAnswers().keySet());
                series.add(row.name() + " " + e.getKey().title());
                curves.add(e.getValue().accuracyByAnswers());
            }
        List<Integer> xs = List.copyOf(sizes);
        double[][] v = new double[series.size()][xs.size()];
        for (int s = 0; s < v.length; s++)
            for (int i = 0; i < xs.size(); i++) v[s][i] = curves.get(s).getOrDefault(xs.get(i), Double.NaN);
        h.append("<h3>Combining answers</h3>\n<p>").append(Outputs.xml("Top-1 accuracy when held-out answers of one key on "
                + "different questions are combined into one decision, as `univar identify` combines them (summed "
                + "log-probabilities for the probe, summed votes for k-NN, mean distance to the key centroids).")).append("</p>\n<figure>")
                .append(new String(Charts.lines("svg", "Accuracy against answers per decision", xs, series, v,
                        1.0 / Math.max(1, eval.labels().size())), StandardCharsets.UTF_8)).append("</figure>\n");
        h.append("<table><tr><th>model</th><th>method</th>");
        for (int n : xs) h.append("<th>N = ").append(n).append("</th>");
        h.append("<th>unknown LLM at N = 1: rule</th><th>false accepts</th><th>false rejects</th></tr>\n");
        int s = 0;
        for (EvalCommand.Row row : eval.rows())
            for (var e : row.id().methods().entrySet()) {
                h.append("<tr><td class=\"name\">").append(Outputs.xml(row.name())).append("</td><td class=\"name\">")
                        .append(e.getKey().title()).append("</td>");
                for (int i = 0; i < xs.size(); i++) h.append(Double.isNaN(v[s][i]) ? "<td></td>" : pct(v[s][i]));
                dev.univar.values.UnknownThreshold u = e.getValue().unknown().get(1);
                if (u == null) h.append("<td></td><td></td><td></td>");
                else h.append("<td class=\"name\">").append(Outputs.xml(EvalCommand.describe(u))).append("</td>")
                        .append(pct(u.falseAcceptRate())).append(pct(u.falseRejectRate()));
                h.append("</tr>\n");
                s++;
            }
        h.append("</table>\n");
        for (EvalCommand.Row row : eval.rows()) {
            var p = row.id().methods().get(dev.univar.values.Identifier.Method.PROBE);
            if (p == null || p.eceBefore().isEmpty()) continue;
            var t = row.id().temperature();
            h.append("<p>").append(Outputs.xml(String.format(Locale.ROOT, "%s, linear probe: expected calibration error on "
                            + "held-out answers %.4f at temperature 1, %.4f at temperature %.3f (fitted on a validation part of the "
                            + "training questions%s).", row.name(), p.eceBefore().get(1), p.eceAfter().get(1), t.value(),
                    t.used() ? "" : "; not used: it did not lower the validation error"))).append("</p>\n");
        }
    }

    private static void appendRow(StringBuilder h, String model, String method, Metrics m) {
        h.append("<tr><td class=\"name\">").append(Outputs.xml(model)).append("</td><td class=\"name\">").append(method).append("</td>");
        for (int k : new int[]{1, 3, 5, 10}) h.append(pct(m.accuracy(k)));
        h.append(pct(m.precisionWeighted())).append(pct(m.recallWeighted())).append(pct(m.f1Weighted())).append(pct(m.f1Macro())).append("</tr>\n");
    }

    private static String pct(double v) {
        return String.format(Locale.ROOT, "<td>%.2f</td>", 100 * v);
    }

    private static String score(double v) {
        return String.format(Locale.ROOT, "<td>%.2f</td>", v);
    }

    private static String td(double v) {
        return "<td>" + Charts.format(v) + "</td>";
    }
}
