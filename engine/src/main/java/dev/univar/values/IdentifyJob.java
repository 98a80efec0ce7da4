package dev.univar.values;

import dev.univar.corpus.QuestionSplit;
import dev.univar.tensor.Backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which reference LLM wrote each group of new answers ({@code univar identify}). The reference views are split by
 * question as eval splits them: on the held-out part the job measures what its decisions are worth (accuracy for
 * each input group size, the probe's calibration) and chooses the unknown-LLM thresholds
 * ({@link UnknownThreshold}), with the probe's temperature fitted on a validation part of the training questions
 * ({@link Calibration#temperature}). The classifier that decides is then fitted on every reference view; each
 * input group's per-answer evidence is combined ({@link Evidence#combine}) into a ranking of the labels, and a
 * group whose best score misses its size's threshold is reported as none of them.
 */
public final class IdentifyJob {
    private IdentifyJob() {
    }

    /**
     * @param identifier         the method, k, probe settings (the temperature is fitted here)
     * @param testFraction       share of the reference questions held out for calibration
     * @param validationFraction share of the remaining questions the temperature is fitted on
     * @param unknown            whether to choose unknown-LLM thresholds
     * @param maxFalseReject     the share of known held-out groups such a threshold may reject
     */
    public record Options(Identifier.Options identifier, double testFraction, double validationFraction, boolean unknown,
                          double maxFalseReject, long seed) {
    }

    /** One group of input answers: its name and its rows in the input embeddings. */
    public record Group(String name, int[] rows) {
    }

    /**
     * @param threshold the unknown-LLM threshold applied (null: none could be chosen)
     * @param unknown   its best score misses the threshold: none of the reference labels
     */
    public record Verdict(Group group, Evidence.Ranking ranking, UnknownThreshold threshold, boolean unknown) {
    }

    /**
     * @param heldOutAnswers   the largest group the held-out questions allow; larger input groups use its numbers
     * @param heldOutAccuracy  top-1 accuracy on the held-out questions, per input group size (capped)
     * @param thresholds       per input group size (capped)
     * @param eceBefore        the probe's ECE on held-out single answers at temperature 1 (NaN for other methods)
     * @param eceAfter         the same at the temperature used
     */
    public record Result(List<Verdict> verdicts, Calibration.Temperature temperature, int heldOutAnswers,
                         SortedMap<Integer, Double> heldOutAccuracy, SortedMap<Integer, UnknownThreshold> thresholds,
                         double eceBefore, double eceAfter, int calibrationViews, int heldOutViews) {
        /** The group size whose held-out numbers stand for a group of {@code n} answers. */
        public int calibratedSize(int n) {
            return Math.min(n, heldOutAnswers);
        }
    }

    /**
     * @param reference embedded reference views (one answer each), labelled
     * @param input     L2-normalised embeddings of the input answers
     */
    public static Result run(Backend backend, EmbeddedViews reference, int numLabels, float[][] input, List<Group> groups, Options o) {
        if (numLabels < 2) throw new IllegalArgumentException("the reference needs at least 2 labels, has " + numLabels);
        for (Group g : groups) if (g.rows().length == 0) throw new IllegalArgumentException("group '" + g.name() + "' has no answers");
        QuestionSplit split = QuestionSplit.of(reference.questionIds(), o.testFraction(), o.seed());
        EmbeddedViews train = reference.onQuestions(split.train()), heldOut = reference.onQuestions(split.test());
        Identifier.Options io = o.identifier();
        Calibration.Temperature temperature = io.method() == Identifier.Method.PROBE
                ? Calibration.temperature(backend, train, numLabels, io.probe(), o.validationFraction(), o.seed() + Identification.VALIDATION_SEED)
                : Calibration.Temperature.NONE;
        io = io.withTemperature(temperature.value());

        int max = AnswerGroups.maxSize(heldOut);
        TreeSet<Integer> sizes = new TreeSet<>();
        for (Group g : groups) sizes.add(Math.max(1, Math.min(g.rows().length, max)));
        SortedMap<Integer, Double> accuracy = new TreeMap<>();
        double eceBefore = Double.NaN, eceAfter = Double.NaN;
        if (max >= 1) {
            Identifier check = Identifier.fit(backend, train.x(), train.label(), numLabels, io);
            Evidence ev = check.evidence(backend, heldOut.x());
            for (int n : sizes) {
                List<int[]> g = AnswerGroups.draw(heldOut, n, o.seed());
                int[] truth = g.stream().mapToInt(r -> heldOut.label()[r[0]]).toArray();
                accuracy.put(n, Identification.accuracy(Identification.rank(ev, g), truth));
            }
            if (io.method() == Identifier.Method.PROBE) {
                List<int[]> singles = AnswerGroups.draw(heldOut, 1, o.seed());
                eceBefore = Calibration.ece(Identification.rank(check.withTemperature(1).evidence(backend, heldOut.x()), singles), heldOut.label());
                eceAfter = Calibration.ece(Identification.rank(ev, singles), heldOut.label());
            }
        }
        SortedMap<Integer, UnknownThreshold> thresholds = o.unknown() && max >= 1
                ? UnknownThreshold.calibrate(backend, train, heldOut, numLabels, io, sizes, o.maxFalseReject(), o.seed()) : new TreeMap<>();

        Identifier id = Identifier.fit(backend, reference.x(), reference.label(), numLabels, io);
        Evidence ev = id.evidence(backend, input);
        List<Verdict> verdicts = new ArrayList<>();
        for (Group g : groups) {
            Evidence.Ranking r = ev.combine(g.rows());
            UnknownThreshold t = thresholds.get(Math.min(g.rows().length, max));
            verdicts.add(new Verdict(g, r, t, t != null && !t.accepts(r)));
        }
        return new Result(List.copyOf(verdicts), temperature, max, Collections.unmodifiableSortedMap(accuracy),
                Collections.unmodifiableSortedMap(thresholds), eceBefore, eceAfter, train.size(), heldOut.size());
    }
}
