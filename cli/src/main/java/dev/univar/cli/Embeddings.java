package dev.univar.cli;

import dev.univar.io.ModelStore;
import dev.univar.nn.EmbeddingModel;
import dev.univar.tensor.TrainingBackend;
import dev.univar.values.CachedEmbedder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Embeds view texts with a model, cached under {@code $UNIVAR_HOME/cache}, with progress on stderr. */
final class Embeddings {
    private Embeddings() {
    }

    /**
     * Opens {@code device} first (so a missing driver fails before a model is imported), then loads the model
     * {@code modelSpec} names onto it; the model owns the backend.
     */
    static EmbeddingModel load(String modelSpec, Device device, PrintStream err) throws IOException {
        TrainingBackend backend = device.open();
        try {
            return EmbeddingModel.load(Models.resolve(modelSpec, err), backend);
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    static float[][] embed(String modelSpec, Device device, CorpusOptions corpus, List<String> texts, PrintStream err,
                           String command) throws IOException {
        return embedParts(modelSpec, device, corpus, List.of(texts), err, command)[0];
    }

    /**
     * Embeds several lists of texts with one loaded model, each list its own cache entry (a reference corpus is
     * embedded once, whatever is identified against it).
     */
    static float[][][] embedParts(String modelSpec, Device device, CorpusOptions corpus, List<List<String>> parts, PrintStream err,
                                  String command) throws IOException {
        long start = System.nanoTime();
        try (EmbeddingModel model = load(modelSpec, device, err)) {
            Path dir = model.dir();
            Progress progress = new Progress(err);
            CachedEmbedder embedder = new CachedEmbedder(model, corpus.maxLength, corpus.batchSize, ModelStore.home().resolve("cache"),
                    device.precision().name());
            int total = parts.stream().mapToInt(List::size).sum();
            float[][][] out = new float[parts.size()][][];
            int before = 0;
            for (int p = 0; p < parts.size(); p++) {
                final int base = before;
                out[p] = embedder.embed(parts.get(p), d -> {
                    int done = base + d;
                    double s = (System.nanoTime() - start) / 1e9;
                    progress.progress(done, total == 0 ? 1 : (double) done / total, s > 0 ? done / s : 0);
                });
                before += parts.get(p).size();
            }
            progress.endLine();
            err.printf(Locale.ROOT, "univar %s: %d views embedded with %s in %.1f s%n", command, total,
                    Outputs.modelInput(modelSpec) != null || modelSpec.equals("minilm") ? dir.getFileName() : modelSpec,
                    (System.nanoTime() - start) / 1e9);
            return out;
        }
    }
}
