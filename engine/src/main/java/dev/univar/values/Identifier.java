package dev.univar.values;

import dev.univar.tensor.Backend;

import java.util.Locale;

/**
 * A classifier fitted on labelled reference embeddings that says, for new answers, which label (an LLM, or an LLM
 * in a language) wrote them: cosine k-NN, a linear probe, or the nearest label centroid. {@link #evidence} gives
 * per-answer evidence that {@link Evidence#combine} adds up over a group of answers of one source.
 */
public final class Identifier {

    /** How labels are told apart, and the name of the score each reports for a label. */
    public enum Method {
        /** Votes of the k nearest reference answers; score: the share of the group's n·k votes. */
        KNN("knn", "k-NN", "vote share", "weighted vote share", true),
        /** Softmax regression; score: the probability from the group's summed log-probabilities. */
        PROBE("probe", "linear probe", "probability", "probability", true),
        /** Cosine similarity to each label's mean embedding; score: the group's mean cosine distance to it. */
        CENTROID("centroid", "centroid", "cosine distance", "cosine distance", false);

        private final String id, title, score, confidence;
        private final boolean higherIsBetter;

        Method(String id, String title, String score, String confidence, boolean higherIsBetter) {
            this.id = id;
            this.title = title;
            this.score = score;
            this.confidence = confidence;
            this.higherIsBetter = higherIsBetter;
        }

        /**
         * What the unknown-LLM threshold is on: the first label's probability, its weighted vote share (its
         * voters' summed cosine similarity over n·k), or its cosine distance.
         */
        public String confidence() {
            return confidence;
        }

        /** The option value: knn, probe, centroid. */
        public String id() {
            return id;
        }

        public String title() {
            return title;
        }

        /** What a score of this method is: vote share, probability, cosine distance. */
        public String score() {
            return score;
        }

        /** False for distances: the best label has the lowest score (and the threshold is an upper bound). */
        public boolean higherIsBetter() {
            return higherIsBetter;
        }

        public static Method of(String id) {
            for (Method m : values()) if (m.id.equals(id)) return m;
            throw new IllegalArgumentException("unknown method '" + id + "' (knn, probe, centroid)");
        }

        @Override
        public String toString() {
            return id;
        }
    }

    /**
     * @param k           neighbours for k-NN
     * @param probe       the probe's training settings (used by {@link Method#PROBE} only)
     * @param temperature the probe's logits are divided by it before the softmax (1: none)
     */
    public record Options(Method method, int k, LinearProbe.Options probe, double temperature) {
        public Options {
            if (method == null) throw new IllegalArgumentException("no method");
            if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
            if (method == Method.PROBE && probe == null) throw new IllegalArgumentException("the probe needs its options");
            if (!(temperature > 0 && Double.isFinite(temperature)))
                throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        }

        public Options withTemperature(double t) {
            return new Options(method, k, probe, t);
        }

        public Options withMethod(Method m) {
            return new Options(m, k, probe, temperature);
        }
    }

    private final Options options;
    private final int numLabels;
    private final float[][] train;   // k-NN: the reference embeddings
    private final int[] trainLabels; // k-NN
    private final LinearProbe probe; // probe
    private final float[][] centroids; // centroid: unit-length mean embedding per label (null for a label without points)

    private Identifier(Options options, int numLabels, float[][] train, int[] trainLabels, LinearProbe probe, float[][] centroids) {
        this.options = options;
        this.numLabels = numLabels;
        this.train = train;
        this.trainLabels = trainLabels;
        this.probe = probe;
        this.centroids = centroids;
    }

    /** Fits the method on L2-normalised embeddings {@code x} with labels {@code y} in {@code [0, numLabels)}. */
    public static Identifier fit(Backend backend, float[][] x, int[] y, int numLabels, Options o) {
        if (x.length == 0) throw new IllegalArgumentException("no reference answers to fit on");
        if (x.length != y.length) throw new IllegalArgumentException(x.length + " embeddings but " + y.length + " labels");
        for (int label : y)
            if (label < 0 || label >= numLabels) throw new IllegalArgumentException("label " + label + " outside [0, " + numLabels + ")");
        return switch (o.method()) {
            case KNN -> new Identifier(o, numLabels, x, y, null, null);
            case PROBE -> new Identifier(o, numLabels, null, null, LinearProbe.train(backend, x, y, numLabels, o.probe()), null);
            case CENTROID -> new Identifier(o, numLabels, null, null, null, centroids(x, y, numLabels));
        };
    }

    /** The same fitted classifier with another probe temperature (nothing is refitted). */
    public Identifier withTemperature(double t) {
        return new Identifier(options.withTemperature(t), numLabels, train, trainLabels, probe, centroids);
    }

    public Options options() {
        return options;
    }

    public Method method() {
        return options.method();
    }

    public int numLabels() {
        return numLabels;
    }

    /** The probe's raw logits (before the temperature); only for {@link Method#PROBE}. */
    public float[][] logits(Backend backend, float[][] answers) {
        if (probe == null) throw new IllegalStateException("logits are the probe's");
        return probe.logits(backend, answers);
    }

    /** Per-answer evidence for L2-normalised embeddings of answers. */
    public Evidence evidence(Backend backend, float[][] answers) {
        return switch (options.method()) {
            case KNN -> {
                Knn.Votes v = Knn.votes(backend, train, trainLabels, numLabels, answers, options.k());
                yield Evidence.knn(v.votes(), v.similarity(), v.best(), v.k());
            }
            case PROBE -> Evidence.probe(logSoftmax(probe.logits(backend, answers), options.temperature()));
            case CENTROID -> {
                double[][] sim = new double[answers.length][numLabels];
                for (int i = 0; i < answers.length; i++)
                    for (int c = 0; c < numLabels; c++) {
                        if (centroids[c] == null) {
                            sim[i][c] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double s = 0;
                        for (int d = 0; d < answers[i].length; d++) s += (double) answers[i][d] * centroids[c][d];
                        sim[i][c] = s;
                    }
                yield Evidence.centroid(sim);
            }
        };
    }

    /** {@code log softmax(logits / t)} per row, in double precision. */
    static double[][] logSoftmax(float[][] logits, double t) {
        double[][] out = new double[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            float[] z = logits[i];
            double max = Double.NEGATIVE_INFINITY;
            for (float v : z) max = Math.max(max, v / t);
            double sum = 0;
            for (float v : z) sum += Math.exp(v / t - max);
            double log = max + Math.log(sum);
            out[i] = new double[z.length];
            for (int c = 0; c < z.length; c++) out[i][c] = z[c] / t - log;
        }
        return out;
    }

    private static float[][] centroids(float[][] x, int[] y, int numLabels) {
        int dim = x[0].length;
        double[][] sum = new double[numLabels][dim];
        int[] count = new int[numLabels];
        for (int i = 0; i < x.length; i++) {
            count[y[i]]++;
            for (int d = 0; d < dim; d++) sum[y[i]][d] += x[i][d];
        }
        float[][] out = new float[numLabels][];
        for (int c = 0; c < numLabels; c++) {
            if (count[c] == 0) continue;
            double norm = 0;
            for (double v : sum[c]) norm += v * v;
            norm = Math.sqrt(norm);
            out[c] = new float[dim];
            for (int d = 0; d < dim; d++) out[c][d] = (float) (norm > 0 ? sum[c][d] / norm : 0);
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Identifier[%s, %d labels]", options.method(), numLabels);
    }
}
