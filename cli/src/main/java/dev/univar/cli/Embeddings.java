package dev.univar.cli;

import dev.univar.cpu.CpuBackend;
import dev.univar.io.ModelStore;
import dev.univar.nn.EmbeddingModel;
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

    static float[][] embed(String modelSpec, int threads, CorpusOptions corpus, List<String> texts, PrintStream err,
                           String command) throws IOException {
        Path dir = ModelStore.resolve(modelSpec, msg -> err.println("univar: " + msg));
        long start = System.nanoTime();
        try (EmbeddingModel model = EmbeddingModel.load(dir, new CpuBackend(threads))) {
            Progress progress = new Progress(err);
            CachedEmbedder embedder = new CachedEmbedder(model, corpus.maxLength, corpus.batchSize, ModelStore.home().resolve("cache"));
            float[][] m = embedder.embed(texts, done -> {
                double s = (System.nanoTime() - start) / 1e9;
                progress.progress(done, texts.isEmpty() ? 1 : (double) done / texts.size(), s > 0 ? done / s : 0);
            });
            progress.endLine();
            err.printf(Locale.ROOT, "univar %s: %d views embedded with %s in %.1f s%n", command, texts.size(),
                    dir.getFileName(), (System.nanoTime() - start) / 1e9);
            return m;
        }
    }
}
