package dev.univar.values;

import dev.univar.tensor.Backend;

/**
 * Identifying which key (LLM, or LLM and language) wrote each held-out view: by cosine k-NN against the training
 * views and, optionally, by a linear probe trained on them. Both give ranked labels, scored by {@link Metrics}.
 */
public record Identification(Metrics knn, Metrics probe) {

    /** {@code probe} is null when {@code probeOptions} is null. */
    public static Identification run(Backend backend, float[][] train, int[] trainLabels, float[][] test, int[] testLabels,
                                     int numLabels, int k, LinearProbe.Options probeOptions) {
        Metrics knn = Metrics.of(Knn.rank(backend, train, trainLabels, numLabels, test, k), testLabels, numLabels);
        Metrics probe = null;
        if (probeOptions != null) {
            LinearProbe p = LinearProbe.train(backend, train, trainLabels, numLabels, probeOptions);
            probe = Metrics.of(p.rank(backend, test), testLabels, numLabels);
        }
        return new Identification(knn, probe);
    }
}
