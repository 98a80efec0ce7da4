package dev.univar.cli;

import dev.univar.corpus.Corpus;
import dev.univar.corpus.Key;
import dev.univar.data.CsvCells;
import dev.univar.values.Pca;
import dev.univar.values.Trustworthiness;
import dev.univar.values.Tsne;
import dev.univar.values.Umap;
import dev.univar.values.Views;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;

@Command(name = "map", mixinStandardHelpOptions = true,
        description = {"Draw a 2-D value map of view embeddings: one colour per LLM, one marker per language,",
                "labelled key centroids (UMAP as in the paper; t-SNE and PCA as alternatives). The 2-D",
                "coordinates are written as CSV beside the figure."})
final class MapCommand implements Callable<Integer> {
    @Mixin
    CorpusOptions corpus;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    Settings settings;

    @Option(names = "--output", required = true, paramLabel = "map.png|map.svg", description = "The figure; PNG or SVG by extension.")
    Path output;

    static final class Settings {
        @Option(names = "--view-size", defaultValue = "5", paramLabel = "N", description = "QA pairs per view. Default: ${DEFAULT-VALUE}.")
        int viewSize;

        @Option(names = "--method", defaultValue = "umap", paramLabel = "umap|tsne|pca", description = "Default: ${DEFAULT-VALUE}.")
        String method;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
        long seed;

        /** Checks the values before any work (usage errors). */
        void check() {
            Check.oneOf("--method", method.toLowerCase(Locale.ROOT), "umap", "tsne", "pca");
            Check.atLeast("--view-size", viewSize, 1);
        }
    }

    record Result(List<Views.View> views, double[][] xy, List<String> models, List<String> langs, List<Key> keys,
                  double[][] centroids, double trustworthiness, String method) {
    }

    @Override
    public Integer call() throws Exception {
        String ext = Outputs.requireExtension(output, "--output", "png", "svg");
        corpus.check();
        settings.check();
        Path csv = Outputs.sibling(output, "csv");
        Outputs.check(java.util.Arrays.asList(corpus.corpus, Outputs.modelInput(modelOptions.model)),
                new Outputs.Target("--output", output), new Outputs.Target("the coordinates file of --output,", csv));
        Device device = modelOptions.device();
        device.check();
        Corpus c = corpus.load(System.err, "map");
        Result r = layout(c, modelOptions.model, settings, corpus, device, System.err);
        Outputs.write(csv, csv(r));
        Outputs.write(output, figure(r, ext));
        System.out.printf(Locale.ROOT, "%s layout of %d views: trustworthiness (k=10) %.4f%n", r.method(), r.views().size(), r.trustworthiness());
        System.err.println("univar map: wrote " + output + " and " + csv);
        return 0;
    }

    static Result layout(Corpus c, String model, Settings s, CorpusOptions co, Device device, PrintStream err) throws Exception {
        s.check();
        String method = s.method.toLowerCase(Locale.ROOT);
        List<Views.View> views = Views.build(c.byKey(), s.viewSize, s.seed, "answers", co.answersOnly());
        if (views.size() < 23)
            throw new IllegalArgumentException("a map needs at least 23 views (trustworthiness uses 10 neighbours), got "
                    + views.size() + "; lower --view-size or add answers");
        float[][] x = Embeddings.embed(model, device, co, views.stream().map(Views.View::text).toList(), err, "map");
        long start = System.nanoTime();
        double[][] xy = switch (method) {
            case "umap" -> Umap.fit(x, Umap.Options.defaults(s.seed));
            case "tsne" -> Tsne.fit(x, Tsne.Options.defaults(s.seed));
            default -> Pca.project(x, 2);
        };
        double trust = Trustworthiness.of(x, xy, 10);
        err.printf(Locale.ROOT, "univar map: %s layout in %.1f s%n", method, (System.nanoTime() - start) / 1e9);
        List<String> models = List.copyOf(new TreeSet<>(views.stream().map(v -> v.key().model()).toList()));
        List<String> langs = List.copyOf(new TreeSet<>(views.stream().map(v -> v.key().lang()).toList()));
        List<Key> keys = List.copyOf(new TreeSet<>(views.stream().map(Views.View::key).toList()));
        double[][] centroids = new double[keys.size()][2];
        int[] count = new int[keys.size()];
        for (int i = 0; i < views.size(); i++) {
            int k = keys.indexOf(views.get(i).key());
            centroids[k][0] += xy[i][0];
            centroids[k][1] += xy[i][1];
            count[k]++;
        }
        for (int k = 0; k < keys.size(); k++) {
            centroids[k][0] /= count[k];
            centroids[k][1] /= count[k];
        }
        return new Result(views, xy, models, langs, keys, centroids, trust, method);
    }

    static byte[] figure(Result r, String ext) {
        int n = r.views().size();
        int[] colour = new int[n], shape = new int[n];
        for (int i = 0; i < n; i++) {
            colour[i] = r.models().indexOf(r.views().get(i).key().model());
            shape[i] = r.langs().indexOf(r.views().get(i).key().lang());
        }
        // Centroids are labelled by LLM alone when there is one language, to keep the map readable.
        List<String> labels = r.keys().stream().map(k -> r.langs().size() == 1 ? k.model() : k.toString()).toList();
        String title = String.format(Locale.ROOT, "Value map (%s, %d views; trustworthiness %.3f)", r.method().toUpperCase(Locale.ROOT), n, r.trustworthiness());
        return Charts.scatter(ext, title, r.xy(), colour, shape, r.models(), r.langs(), labels, r.centroids());
    }

    static String csv(Result r) throws java.io.IOException {
        StringWriter w = new StringWriter();
        // Every cell is quoted (RFC 4180, quotes doubled): commas, quotes and newlines in corpus text stay inside their cell.
        // Corpus text is also guarded against spreadsheet formulas (CsvCells.text); the coordinates are ours and are not.
        try (CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder().setQuoteMode(org.apache.commons.csv.QuoteMode.ALL).get())) {
            p.printRecord("x", "y", "model", "lang", "questions");
            for (int i = 0; i < r.views().size(); i++) {
                Views.View v = r.views().get(i);
                p.printRecord(String.format(Locale.ROOT, "%.6f", r.xy()[i][0]), String.format(Locale.ROOT, "%.6f", r.xy()[i][1]),
                        CsvCells.text(v.key().model()), CsvCells.text(v.key().lang()), CsvCells.text(String.join(";", v.questionIds())));
            }
        }
        return w.toString();
    }
}
