package dev.univar.values;

import dev.univar.tensor.Backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Evaluating identification on a labelled split (eval's engine): which key wrote held-out answers, by cosine k-NN,
 * the nearest label centroid and, optionally, a linear probe, each fitted on the training views. A decision
 * combines {@code answersPerDecision} held-out views of one key on different questions ({@link AnswerGroups}) as
 * {@code identify} combines an unknown LLM's answers ({@link Evidence#combine}); with 1 it is the paper's protocol.
 * Besides the metrics of those decisions: top-1 accuracy against the number of answers per decision, the probe's
 * calibration (ECE, temperature scaling) and the threshold that flags an unknown LLM, with its error rates.
 *
 * @param decisions   how many decisions the metrics count
 * @param methods     per method, in the order k-NN, probe, centroid
 * @param temperature the probe's temperature ({@link Calibration.Temperature#NONE} without the probe)
 */
public record Identification(int answersPerDecision, int decisions, Map<Identifier.Method, MethodResult> methods,
                             Calibration.Temperature temperature) {

    /**
     * @param metrics           of the decisions of {@code answersPerDecision} views
     * @param accuracyByAnswers top-1 accuracy for each group size the held-out views allow
     * @param eceBefore         the probe's ECE per group size at temperature 1 (empty for other methods)
     * @param eceAfter          the same at the temperature used
     * @param unknown           the unknown-LLM threshold per group size (empty when not asked or under 3 labels)
     */
    public record MethodResult(Metrics metrics, SortedMap<Integer, Double> accuracyByAnswers,
                               SortedMap<Integer, Double> eceBefore, SortedMap<Integer, Double> eceAfter,
                               SortedMap<Integer, UnknownThreshold> unknown) {
    }

    /**
     * @param k                  neighbours for k-NN
     * @param probe              the probe's settings, or null for no probe
     * @param answersPerDecision views combined per decision
     * @param curve              group sizes for accuracy against answers (those the held-out views allow)
     * @param validationFraction share of the training questions the probe's temperature is fitted on
     * @param unknown            whether to choose unknown-LLM thresholds (a refit per label and method)
     * @param maxFalseReject     the share of known groups an unknown-LLM threshold may reject
     */
    public record Settings(int k, LinearProbe.Options probe, int answersPerDecision, List<Integer> curve,
                           double validationFraction, boolean unknown, double maxFalseReject, long seed) {
        public static final List<Integer> CURVE = List.of(1, 2, 5, 10);
        /** The default target false-reject rate of the unknown-LLM threshold. */
        public static final double MAX_FALSE_REJECT = 0.1;

        public Settings {
            if (answersPerDecision < 1) throw new IllegalArgumentException("answers per decision must be at least 1");
            curve = List.copyOf(curve);
        }

        /** The methods evaluated, in report order. */
        public List<Identifier.Method> methods() {
            return probe == null ? List.of(Identifier.Method.KNN, Identifier.Method.CENTROID)
                    : List.of(Identifier.Method.KNN, Identifier.Method.PROBE, Identifier.Method.CENTROID);
        }

        Identifier.Options options(Identifier.Method m, double temperature) {
            return new Identifier.Options(m, k, probe, temperature);
        }
    }

    public Metrics knn() {
        return metrics(Identifier.Method.KNN);
    }

    /** Null without the probe. */
    public Metrics probe() {
        return metrics(Identifier.Method.PROBE);
    }

    public Metrics centroid() {
        return metrics(Identifier.Method.CENTROID);
    }

    private Metrics metrics(Identifier.Method m) {
        MethodResult r = methods.get(m);
        return r == null ? null : r.metrics();
    }

    /** The seed offset of the probe's validation split, so it differs from the train/test split's. */
    static final long VALIDATION_SEED = 101;

    public static Identification run(Backend backend, EmbeddedViews train, EmbeddedViews test, int numLabels, Settings s) {
        if (train.size() == 0) throw new IllegalArgumentException("no training views");
        if (test.size() == 0) throw new IllegalArgumentException("no held-out views");
        int max = AnswerGroups.maxSize(test);
        if (s.answersPerDecision() > max)
            throw new IllegalArgumentException("a key has only " + max + " held-out answers on different questions, fewer than "
                    + s.answersPerDecision() + " answers per decision");
        TreeSet<Integer> sizes = new TreeSet<>();
        for (int n : s.curve()) if (n >= 1 && n <= max) sizes.add(n);
        sizes.add(s.answersPerDecision());
        Map<Integer, List<int[]>> groups = new TreeMap<>();
        for (int n : sizes) groups.put(n, AnswerGroups.draw(test, n, s.seed()));
        List<int[]> decisions = groups.get(s.answersPerDecision());
        int[] truth = decisions.stream().mapToInt(g -> test.label()[g[0]]).toArray();

        Calibration.Temperature temperature = s.probe() == null ? Calibration.Temperature.NONE
                : Calibration.temperature(backend, train, numLabels, s.probe(), s.validationFraction(), s.seed() + VALIDATION_SEED);
        Map<Identifier.Method, MethodResult> methods = new LinkedHashMap<>();
        for (Identifier.Method m : s.methods()) {
            Identifier.Options o = s.options(m, temperature.value());
            Identifier id = Identifier.fit(backend, train.x(), train.label(), numLabels, o);
            Evidence ev = id.evidence(backend, test.x());
            List<Evidence.Ranking> main = rank(ev, decisions);
            Metrics metrics = Metrics.of(main.stream().map(Evidence.Ranking::order).toArray(int[][]::new), truth, numLabels);
            SortedMap<Integer, Double> curve = new TreeMap<>(), before = new TreeMap<>(), after = new TreeMap<>();
            Evidence raw = m == Identifier.Method.PROBE ? id.withTemperature(1).evidence(backend, test.x()) : null;
            for (var e : groups.entrySet()) {
                int[] t = e.getValue().stream().mapToInt(g -> test.label()[g[0]]).toArray();
                List<Evidence.Ranking> r = rank(ev, e.getValue());
                curve.put(e.getKey(), accuracy(r, t));
                if (raw != null) {
                    before.put(e.getKey(), Calibration.ece(rank(raw, e.getValue()), t));
                    after.put(e.getKey(), Calibration.ece(r, t));
                }
            }
            SortedMap<Integer, UnknownThreshold> unknown = s.unknown()
                    ? UnknownThreshold.calibrate(backend, train, test, numLabels, o, sizes, s.maxFalseReject(), s.seed()) : new TreeMap<>();
            methods.put(m, new MethodResult(metrics, Collections.unmodifiableSortedMap(curve), Collections.unmodifiableSortedMap(before),
                    Collections.unmodifiableSortedMap(after), Collections.unmodifiableSortedMap(unknown)));
        }
        return new Identification(s.answersPerDecision(), decisions.size(), Collections.unmodifiableMap(methods), temperature);
    }

    static List<Evidence.Ranking> rank(Evidence ev, List<int[]> groups) {
        List<Evidence.Ranking> out = new ArrayList<>(groups.size());
        for (int[] g : groups) out.add(ev.combine(g));
        return out;
    }

    /** Share of rankings whose first label is the truth. */
    static double accuracy(List<Evidence.Ranking> r, int[] truth) {
        int ok = 0;
        for (int i = 0; i < truth.length; i++) if (r.get(i).top() == truth[i]) ok++;
        return truth.length == 0 ? 0 : (double) ok / truth.length;
    }
}
