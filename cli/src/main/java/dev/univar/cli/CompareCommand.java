package dev.univar.cli;

import dev.univar.corpus.Corpus;
import dev.univar.corpus.Key;
import dev.univar.data.CsvCells;
import dev.univar.values.AverageLinkage;
import dev.univar.values.TwoSample;
import dev.univar.values.Views;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.QuoteMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Distances between the keys' (LLM × language) embedding distributions: centroid cosine",
                "distance, MMD² (RBF kernel, median bandwidth) and energy distance, each with a permutation-test",
                "p-value; keys ordered by average-linkage clustering on the energy distance."})
final class CompareCommand implements Callable<Integer> {
    @Mixin
    CorpusOptions corpus;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    Settings settings;

    @Option(names = "--output", required = true, paramLabel = "distances.csv", description = "One row per pair of keys.")
    Path output;

    @Option(names = "--heatmap", paramLabel = "FILE.png|FILE.svg", description = "Also draw the energy-distance matrix as a heatmap.")
    Path heatmap;

    static final class Settings {
        @Option(names = "--view-size", defaultValue = "1", paramLabel = "N", description = "QA pairs per view. Default: ${DEFAULT-VALUE}.")
        int viewSize;

        @Option(names = "--permutations", defaultValue = "200", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
        int permutations;

        @Option(names = "--max-per-key", defaultValue = "200", paramLabel = "N",
                description = "Views per key in the two-sample tests (a seeded subsample; tests are O(n²)). Default: ${DEFAULT-VALUE}.")
        int maxPerKey;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
        long seed;

        /** Checks the values before any work (usage errors). */
        void check() {
            Check.atLeast("--view-size", viewSize, 1);
            Check.atLeast("--permutations", permutations, 1);
            Check.atLeast("--max-per-key", maxPerKey, 2);
        }
    }

    /** Matrices indexed by position in {@code keys}, which is in the dendrogram's leaf order. */
    record Result(List<Key> keys, double[][] centroidCosine, double[][] mmd2, double[][] mmdP, double[][] energy,
                  double[][] energyP, int permutations) {
    }

    @Override
    public Integer call() throws Exception {
        Outputs.requireExtension(output, "--output", "csv");
        String heatExt = heatmap == null ? null : Outputs.requireExtension(heatmap, "--heatmap", "png", "svg");
        corpus.check();
        settings.check();
        List<Outputs.Target> targets = new ArrayList<>(List.of(new Outputs.Target("--output", output)));
        if (heatmap != null) targets.add(new Outputs.Target("--heatmap", heatmap));
        Outputs.check(java.util.Arrays.asList(corpus.corpus, Outputs.modelInput(modelOptions.model)), targets.toArray(Outputs.Target[]::new));
        Device device = modelOptions.device();
        device.check();
        Corpus c = corpus.load(System.err, "compare");
        Result r = compare(c, modelOptions.model, settings, corpus, device, System.err);
        Outputs.write(output, csv(r));
        if (heatmap != null) Outputs.write(heatmap, figure(r, heatExt));
        System.out.print(table(r));
        System.err.println("univar compare: wrote " + output + (heatmap == null ? "" : " and " + heatmap));
        return 0;
    }

    static Result compare(Corpus c, String model, Settings s, CorpusOptions co, Device device, PrintStream err) throws Exception {
        s.check();
        List<Views.View> views = Views.build(c.byKey(), s.viewSize, s.seed, "answers", co.answersOnly());
        List<Key> keys = List.copyOf(c.byKey().keySet());
        for (Key k : keys)
            if (views.stream().filter(v -> v.key().equals(k)).count() < 2)
                throw new IllegalArgumentException("key " + k + " has fewer than 2 views of --view-size " + s.viewSize + "; a distribution needs 2");
        float[][] x = Embeddings.embed(model, device, co, views.stream().map(Views.View::text).toList(), err, "compare");
        int n = keys.size();
        List<float[][]> samples = new ArrayList<>();
        double[][] centroid = new double[n][];
        for (int k = 0; k < n; k++) {
            List<float[]> rows = new ArrayList<>();
            for (int i = 0; i < views.size(); i++) if (views.get(i).key().equals(keys.get(k))) rows.add(x[i]);
            double[] mean = new double[x[0].length];
            for (float[] row : rows) for (int d = 0; d < mean.length; d++) mean[d] += row[d] / rows.size();
            centroid[k] = mean;
            SplittableRandom r = new SplittableRandom(s.seed * 31 + k);
            for (int i = rows.size() - 1; i > 0; i--) java.util.Collections.swap(rows, i, r.nextInt(i + 1));
            samples.add(rows.subList(0, Math.min(s.maxPerKey, rows.size())).toArray(new float[0][]));
        }
        double[][] cos = new double[n][n], mmd = new double[n][n], mmdP = new double[n][n], en = new double[n][n], enP = new double[n][n];
        long start = System.nanoTime();
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) {
                cos[a][b] = cos[b][a] = 1 - cosine(centroid[a], centroid[b]);
                TwoSample.Result t = TwoSample.test(samples.get(a), samples.get(b), s.permutations, s.seed + 1000L * a + b);
                mmd[a][b] = mmd[b][a] = t.mmd2();
                mmdP[a][b] = mmdP[b][a] = t.mmdP();
                en[a][b] = en[b][a] = t.energy();
                enP[a][b] = enP[b][a] = t.energyP();
            }
        err.printf(Locale.ROOT, "univar compare: %d pairs of keys tested (%d permutations each) in %.1f s%n",
                n * (n - 1) / 2, s.permutations, (System.nanoTime() - start) / 1e9);
        // Clustering and the heatmap use the energy distance: it is never negative, whereas the unbiased MMD²
        // estimate dips below 0 for distributions it cannot tell apart.
        List<Integer> order = AverageLinkage.cluster(en).order();
        return new Result(order.stream().map(keys::get).toList(), permute(cos, order), permute(mmd, order),
                permute(mmdP, order), permute(en, order), permute(enP, order), s.permutations);
    }

    private static double[][] permute(double[][] m, List<Integer> order) {
        int n = order.size();
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) out[i][j] = m[order.get(i)][order.get(j)];
        return out;
    }

    private static double cosine(double[] a, double[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.max(1e-12, Math.sqrt(aa * bb));
    }

    static String csv(Result r) throws java.io.IOException {
        StringWriter w = new StringWriter();
        // Keys are corpus text, guarded against spreadsheet formulas (CsvCells.text); the numbers are ours and are not.
        try (CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder().setQuoteMode(QuoteMode.ALL).get())) {
            p.printRecord("key_a", "key_b", "centroid_cosine_distance", "mmd2", "mmd_p_value", "energy_distance", "energy_p_value");
            int n = r.keys().size();
            for (int a = 0; a < n; a++)
                for (int b = a + 1; b < n; b++)
                    p.printRecord(CsvCells.text(r.keys().get(a).toString()), CsvCells.text(r.keys().get(b).toString()), f(r.centroidCosine()[a][b]),
                            f(r.mmd2()[a][b]), f(r.mmdP()[a][b]), f(r.energy()[a][b]), f(r.energyP()[a][b]));
        }
        return w.toString();
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    static byte[] figure(Result r, String ext) {
        return Charts.heatmap(ext, "Energy distance between keys (average-linkage order)", r.keys().stream().map(Key::toString).toList(), r.energy());
    }

    static String table(Result r) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(5, r.keys().stream().mapToInt(k -> k.toString().length()).max().orElse(5));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s  %-" + w + "s  %8s  %9s  %7s  %8s  %7s%n", "key", "key", "cos dist", "MMD²", "p", "energy", "p"));
        int n = r.keys().size();
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
                sb.append(String.format(Locale.ROOT, "%-" + w + "s  %-" + w + "s  %8.4f  %9.5f  %7.4f  %8.5f  %7.4f%n", r.keys().get(a), r.keys().get(b),
                        r.centroidCosine()[a][b], r.mmd2()[a][b], r.mmdP()[a][b], r.energy()[a][b], r.energyP()[a][b]));
        sb.append("keys in average-linkage (energy distance) order: ").append(r.keys()).append('\n');
        return sb.toString();
    }
}
