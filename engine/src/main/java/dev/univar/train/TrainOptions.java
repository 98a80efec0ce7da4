package dev.univar.train;

import dev.univar.corpus.ColumnMap;

import java.nio.file.Path;

/** Everything a training run is configured by; stored with each checkpoint so a resume can check it matches. */
public record TrainOptions(Path corpus, ColumnMap columns, Path baseModel, Path output, int lambdaMin, int lambdaMax,
                           int steps, int batchViews, int microBatchViews, int maxLength, double lr, int warmup,
                           double temperature, double weightDecay, double clipNorm, double testFraction, long seed,
                           int saveEvery, int threads) {
    public TrainOptions {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1");
        if (batchViews < 4 || batchViews % 2 != 0)
            throw new IllegalArgumentException("--batch-size counts views, two per key: it must be even and at least 4, got " + batchViews);
        if (microBatchViews < 1) throw new IllegalArgumentException("--micro-batch must be at least 1");
        if (maxLength < 8) throw new IllegalArgumentException("--max-length must be at least 8");
        if (!(temperature > 0)) throw new IllegalArgumentException("--temperature must be positive");
        if (saveEvery < 1) throw new IllegalArgumentException("--save-every must be at least 1");
    }

    /**
     * The settings a resumed run must share with the run it continues, as text for a comparison and a message.
     * The step count may grow on resume; the thread count may change (sums may then round differently).
     */
    String identity() {
        return "corpus=" + corpus.toAbsolutePath().normalize() + " columns=" + columns + " lambda=" + lambdaMin + ".." + lambdaMax
                + " batch=" + batchViews + " micro=" + microBatchViews + " max-length=" + maxLength + " lr=" + lr
                + " warmup=" + warmup + " temperature=" + temperature + " weight-decay=" + weightDecay
                + " clip=" + clipNorm + " test-fraction=" + testFraction + " seed=" + seed;
    }
}
