package dev.univar.cli;

import dev.univar.io.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The whole UniVaR job on the bundled sample of LLM answers (data/sample/pct-answers.csv):",
                "fine-tune MiniLM with the multi-view contrastive objective (cached: a second run reuses the model),",
                "evaluate it against the base model on held-out questions, draw the value map, measure distances",
                "between LLMs, and write everything, report.html included, to --output."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--sample", paramLabel = "FILE.csv",
            description = "Corpus with columns question_id, question, answer, model (and lang). Default: the bundled sample.")
    Path sample;

    @Option(names = "--output", defaultValue = "univar-demo", paramLabel = "DIR", description = "Where results go. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Option(names = "--steps", defaultValue = "60", description = "Training steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--max-length", defaultValue = "128", paramLabel = "TOKENS", description = "Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: all cores.")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        Check.atLeast("--steps", steps, 1);
        Check.atLeast("--max-length", maxLength, 8);
        String threadArg = String.valueOf(Check.threads("--threads", threads));
        Path file = sample != null ? sample : bundledSample();
        if (Files.exists(output) && !Files.isDirectory(output))
            throw new UsageException("--output " + output + " is a file; the demo writes its results into a folder");
        List<Outputs.Target> targets = new ArrayList<>();
        for (String f : List.of("eval.json", "map.png", "map.csv", "distances.csv", "distances.png", "report.html"))
            targets.add(new Outputs.Target("--output", output.resolve(f)));
        Outputs.check(List.of(file), targets.toArray(Outputs.Target[]::new));
        List<String> common = List.of("--corpus", file.toString(), "--max-length", String.valueOf(maxLength), "--threads", threadArg);
        // The trained model is cached per sample (its content and its path: training's --resume checks that a run
        // continues on the same corpus path, so another clone of the project gets a cache entry of its own) and
        // settings: the second demo skips training.
        String key = digest(file, file.toAbsolutePath().normalize() + "/" + steps + "/" + maxLength).substring(0, 16);
        Path model = ModelStore.home().resolve("demo").resolve("univar-" + key);

        step("1/5 train a UniVaR model (" + steps + " steps; cached in " + model + ")");
        run("train", common, "--base", "minilm", "--output", model.toString(), "--steps", String.valueOf(steps),
                "--batch-size", "16", "--warmup", String.valueOf(Math.max(1, steps / 6)), "--save-every", String.valueOf(Math.max(1, steps / 3)),
                "--resume");
        step("2/5 evaluate: which LLM wrote each held-out answer? (UniVaR vs the base MiniLM)");
        run("eval", common, "--model", model.toString(), "--baseline", "minilm", "--probe",
                "--output", output.resolve("eval.json").toString());
        step("3/5 value map of views of 5 answers");
        run("map", common, "--model", model.toString(), "--output", output.resolve("map.png").toString());
        step("4/5 distances between the LLMs' value distributions");
        run("compare", common, "--model", model.toString(), "--output", output.resolve("distances.csv").toString(),
                "--heatmap", output.resolve("distances.png").toString());
        step("5/5 report");
        run("report", common, "--model", model.toString(), "--baseline", "minilm", "--probe",
                "--output", output.resolve("report.html").toString());

        System.out.printf(Locale.ROOT, "%nunivar demo: done in %s. Results:%n", Progress.duration((System.nanoTime() - start) / 1e9));
        System.out.printf("  trained model    %s  (use it: ./univar embed --model %s ...)%n", model, model);
        for (String[] f : new String[][]{{"evaluation", "eval.json"}, {"value map", "map.png"}, {"map coordinates", "map.csv"},
                {"distances", "distances.csv"}, {"distance heatmap", "distances.png"}, {"report", "report.html"}})
            System.out.printf("  %-16s %s%n", f[0], output.resolve(f[1]).toAbsolutePath());
        return 0;
    }

    private static void step(String what) {
        System.err.println();
        System.err.println("univar demo: " + what);
    }

    /** Runs another univar command in this process; its failure is the demo's. */
    private static void run(String command, List<String> common, String... args) {
        List<String> all = new ArrayList<>();
        all.add(command);
        all.addAll(common);
        all.addAll(List.of(args));
        int code = Main.run(all.toArray(String[]::new));
        if (code != 0) throw new IllegalStateException("the demo's " + command + " step failed (exit code " + code + ")");
    }

    private static String digest(Path file, String settings) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(in.readAllBytes());
            md.update(settings.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** data/sample/pct-answers.csv under the installation (UNIVAR_ROOT, set by the launcher) or the working directory. */
    static Path bundledSample() {
        List<Path> candidates = new ArrayList<>();
        String root = System.getProperty("univar.root", System.getenv("UNIVAR_ROOT"));
        if (root != null) candidates.add(Path.of(root, "data", "sample", "pct-answers.csv"));
        candidates.add(Path.of("data", "sample", "pct-answers.csv"));
        for (Path p : candidates) if (Files.isRegularFile(p)) return p;
        throw new IllegalArgumentException("bundled sample not found (looked at " + candidates + "); pass --sample FILE.csv");
    }
}
