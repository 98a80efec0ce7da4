package dev.univar.values;

import dev.univar.tensor.Backend;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * When a group of answers is "none of the reference LLMs": its best score does not reach a threshold, chosen on
 * held-out questions. Known inputs are the held-out groups as the classifier fitted on every label's training
 * answers scores them (as the deciding classifier will see an LLM it knows); unknown inputs are each label's
 * held-out groups as scored by a classifier fitted without that label (each label left out in turn). The threshold
 * is the strictest that rejects at most {@code maxFalseReject} of the known groups; the share of unknown groups it
 * still accepts is its measured false-accept rate (slightly pessimistic for the probe and k-NN, whose scores run
 * higher with one label fewer). Scores spread less as groups grow, so each group size gets its own threshold.
 *
 * @param answers         the group size it was chosen for
 * @param threshold       on {@link Identifier.Method#confidence}: a group is accepted when its confidence is at
 *                        least this (probability, weighted vote share) or its distance at most this; −∞ (+∞ for a
 *                        distance) when it accepts everything
 * @param falseAcceptRate share of unknown held-out groups it accepts
 * @param falseRejectRate share of known held-out groups it rejects (at most the target)
 * @param falseAcceptByLabel per label, the share of its groups accepted while it was left out (NaN: none drawn;
 *                        empty when not measured per label)
 */
public record UnknownThreshold(Identifier.Method method, int answers, double threshold, double falseAcceptRate,
                               double falseRejectRate, int unknownGroups, int knownGroups, double[] falseAcceptByLabel) {

    /** Whether {@code r}'s best label is accepted as the writer. */
    public boolean accepts(Evidence.Ranking r) {
        return r.confidence() >= oriented();
    }

    /** The threshold accepts everything (no known group could be rejected within the target). */
    public boolean acceptsAll() {
        return oriented() == Double.NEGATIVE_INFINITY;
    }

    /** The threshold on {@link Evidence.Ranking#confidence} (a distance negated). */
    private double oriented() {
        return method.higherIsBetter() ? threshold : -threshold;
    }

    /**
     * Thresholds for each group size in {@code sizes} that the held-out views allow, chosen as the class comment
     * says. Empty with fewer than 3 labels (leaving one out must leave two to tell apart).
     *
     * @param train          the views the classifiers are fitted on
     * @param heldOut        views on other questions, the groups are drawn from ({@link AnswerGroups#draw}, {@code seed})
     * @param maxFalseReject the largest share of known groups the threshold may reject, in [0, 1)
     */
    public static SortedMap<Integer, UnknownThreshold> calibrate(Backend backend, EmbeddedViews train, EmbeddedViews heldOut,
                                                                 int numLabels, Identifier.Options o, Collection<Integer> sizes,
                                                                 double maxFalseReject, long seed) {
        if (!(maxFalseReject >= 0 && maxFalseReject < 1))
            throw new IllegalArgumentException("the false-reject rate must be in [0, 1), got " + maxFalseReject);
        SortedMap<Integer, UnknownThreshold> out = new TreeMap<>();
        if (numLabels < 3) return out;
        Map<Integer, List<int[]>> groups = new TreeMap<>();
        for (int n : sizes) {
            List<int[]> g = AnswerGroups.draw(heldOut, n, seed);
            if (!g.isEmpty()) groups.put(n, g);
        }
        Map<Integer, List<Double>> known = new TreeMap<>(), unknown = new TreeMap<>();
        Map<Integer, List<List<Double>>> unknownByLabel = new TreeMap<>();
        for (int n : groups.keySet()) {
            known.put(n, new ArrayList<>());
            unknown.put(n, new ArrayList<>());
            List<List<Double>> byLabel = new ArrayList<>();
            for (int l = 0; l < numLabels; l++) byLabel.add(new ArrayList<>());
            unknownByLabel.put(n, byLabel);
        }
        Evidence all = Identifier.fit(backend, train.x(), train.label(), numLabels, o).evidence(backend, heldOut.x());
        for (var e : groups.entrySet())
            for (int[] g : e.getValue()) known.get(e.getKey()).add(all.combine(g).confidence());
        for (int left = 0; left < numLabels; left++) {
            final int l = left;
            EmbeddedViews rest = train.select(i -> train.label()[i] != l);
            if (rest.size() == 0 || rest.size() == train.size()) continue; // the label has no training answers
            int[] remapped = new int[rest.size()];
            for (int i = 0; i < remapped.length; i++) remapped[i] = rest.label()[i] - (rest.label()[i] > l ? 1 : 0);
            Evidence ev = Identifier.fit(backend, rest.x(), remapped, numLabels - 1, o).evidence(backend, heldOut.x());
            for (var e : groups.entrySet())
                for (int[] g : e.getValue())
                    if (heldOut.label()[g[0]] == l) {
                        double c = ev.combine(g).confidence();
                        unknown.get(e.getKey()).add(c);
                        unknownByLabel.get(e.getKey()).get(l).add(c);
                    }
        }
        for (int n : groups.keySet()) {
            if (known.get(n).isEmpty() || unknown.get(n).isEmpty()) continue;
            UnknownThreshold t = choose(o.method(), n, known.get(n), unknown.get(n), maxFalseReject);
            double[] byLabel = new double[numLabels];
            double oriented = t.oriented();
            for (int l = 0; l < numLabels; l++) {
                List<Double> u = unknownByLabel.get(n).get(l);
                byLabel[l] = u.isEmpty() ? Double.NaN : u.stream().filter(c -> c >= oriented).count() / (double) u.size();
            }
            out.put(n, new UnknownThreshold(t.method(), n, t.threshold(), t.falseAcceptRate(), t.falseRejectRate(),
                    t.unknownGroups(), t.knownGroups(), byLabel));
        }
        return out;
    }

    /**
     * The threshold on confidences (higher: more sure) that rejects as many groups as it may: the known groups
     * below it are at most {@code maxFalseReject} of them. It lies halfway between the last known confidence
     * rejected and the first accepted; with nothing to reject it accepts everything. Returned in the method's unit.
     */
    static UnknownThreshold choose(Identifier.Method method, int answers, List<Double> known, List<Double> unknown,
                                   double maxFalseReject) {
        double[] k = known.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] u = unknown.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int m = Math.min(k.length - 1, (int) Math.floor(maxFalseReject * k.length + 1e-9)); // known groups that may be rejected
        while (m > 0 && k[m - 1] == k[m]) m--; // a threshold cannot split tied confidences
        if (m == 0) {
            double all = method.higherIsBetter() ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            return new UnknownThreshold(method, answers, all, 1.0, 0.0, u.length, k.length, new double[0]);
        }
        double t = (k[m - 1] + k[m]) / 2;
        double far = (double) (u.length - lowerCount(u, t)) / u.length, frr = (double) lowerCount(k, t) / k.length;
        return new UnknownThreshold(method, answers, method.higherIsBetter() ? t : -t, far, frr, u.length, k.length, new double[0]);
    }

    /** How many of the sorted {@code v} are below {@code t}. */
    private static int lowerCount(double[] v, double t) {
        int lo = 0, hi = v.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (v[mid] < t) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
