package dev.univar.values;

import dev.univar.corpus.QuestionSplit;
import dev.univar.tensor.Backend;

import java.util.List;

/**
 * How far the probe's probabilities can be taken at their word. Expected calibration error (ECE): the top
 * probabilities are put into {@value #BINS} equal-width bins, and ECE is the mean over answers of
 * |accuracy − mean confidence| of their bin (Guo et al., 2017). Temperature scaling divides the logits by one
 * number T, fitted by minimising the negative log-likelihood on answers the probe was not trained on; it changes
 * no single answer's ranking, only how sure the probe says it is (and so how answers combine).
 */
public final class Calibration {
    public static final int BINS = 15;
    /** The temperatures searched: 1/50 to 50. */
    static final double LOG_T_MAX = Math.log(50);

    private Calibration() {
    }

    /**
     * A temperature fitted on a validation part of the training questions, and whether it is used: only when it
     * lowers the validation ECE.
     *
     * @param fitted              the NLL-minimising temperature (1 when there was nothing to fit on)
     * @param validationEceBefore ECE of the validation answers at temperature 1
     * @param validationEceAfter  ECE at {@code fitted}
     * @param validationViews     how many views the validation part had
     */
    public record Temperature(double fitted, boolean used, double validationEceBefore, double validationEceAfter,
                              int validationViews) {
        public static final Temperature NONE = new Temperature(1, false, Double.NaN, Double.NaN, 0);

        /** The temperature to divide the logits by. */
        public double value() {
            return used ? fitted : 1;
        }
    }

    /** ECE of top-1 predictions: {@code confidence[i]} the top probability, {@code correct[i]} whether it was right. */
    public static double ece(double[] confidence, boolean[] correct) {
        if (confidence.length == 0) return Double.NaN;
        double[] conf = new double[BINS], acc = new double[BINS];
        int[] count = new int[BINS];
        for (int i = 0; i < confidence.length; i++) {
            // Bins (b/B, (b+1)/B]; a confidence of 0 goes to the first.
            int b = Math.max(0, Math.min(BINS - 1, (int) Math.ceil(confidence[i] * BINS) - 1));
            conf[b] += confidence[i];
            acc[b] += correct[i] ? 1 : 0;
            count[b]++;
        }
        double e = 0;
        for (int b = 0; b < BINS; b++) if (count[b] > 0) e += Math.abs(acc[b] - conf[b]);
        return e / confidence.length;
    }

    /** ECE of the probe's rankings of groups whose true labels are {@code truth}. */
    public static double ece(List<Evidence.Ranking> rankings, int[] truth) {
        double[] c = new double[rankings.size()];
        boolean[] ok = new boolean[rankings.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = rankings.get(i).topScore();
            ok[i] = rankings.get(i).top() == truth[i];
        }
        return ece(c, ok);
    }

    /** Mean negative log-likelihood of the labels under {@code softmax(logits / t)}. */
    public static double nll(float[][] logits, int[] y, double t) {
        double[][] lp = Identifier.logSoftmax(logits, t);
        double s = 0;
        for (int i = 0; i < lp.length; i++) s -= lp[i][y[i]];
        return lp.length == 0 ? 0 : s / lp.length;
    }

    /**
     * The temperature minimising {@link #nll} (which is convex in 1/T): golden-section search on log T in
     * [−log 50, log 50].
     */
    public static double fitTemperature(float[][] logits, int[] y) {
        if (logits.length == 0) return 1;
        double lo = -LOG_T_MAX, hi = LOG_T_MAX, g = (Math.sqrt(5) - 1) / 2;
        double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
        double fa = nll(logits, y, Math.exp(a)), fb = nll(logits, y, Math.exp(b));
        for (int it = 0; it < 80 && hi - lo > 1e-6; it++) {
            if (fa <= fb) {
                hi = b;
                b = a;
                fb = fa;
                a = hi - g * (hi - lo);
                fa = nll(logits, y, Math.exp(a));
            } else {
                lo = a;
                a = b;
                fa = fb;
                b = lo + g * (hi - lo);
                fb = nll(logits, y, Math.exp(b));
            }
        }
        return Math.exp((lo + hi) / 2);
    }

    /**
     * Fits the probe on the training views minus a validation part of their questions ({@code validationFraction}
     * of them, a question-level split with {@code seed}), then the temperature on the validation views; it is used
     * when it lowers the validation ECE. With fewer than 2 training questions nothing is fitted.
     */
    public static Temperature temperature(Backend backend, EmbeddedViews train, int numLabels, LinearProbe.Options probe,
                                          double validationFraction, long seed) {
        List<String> ids = train.questionIds();
        if (ids.size() < 2) return Temperature.NONE;
        QuestionSplit split = QuestionSplit.of(ids, validationFraction, seed);
        EmbeddedViews fit = train.onQuestions(split.train()), validation = train.onQuestions(split.test());
        if (fit.size() == 0 || validation.size() == 0) return Temperature.NONE;
        LinearProbe p = LinearProbe.train(backend, fit.x(), fit.label(), numLabels, probe);
        float[][] logits = p.logits(backend, validation.x());
        double t = fitTemperature(logits, validation.label());
        double before = ece(logits, validation.label(), 1), after = ece(logits, validation.label(), t);
        return new Temperature(t, after < before, before, after, validation.size());
    }

    /** ECE of single answers' logits at temperature {@code t}. */
    public static double ece(float[][] logits, int[] y, double t) {
        double[][] lp = Identifier.logSoftmax(logits, t);
        double[] c = new double[lp.length];
        boolean[] ok = new boolean[lp.length];
        for (int i = 0; i < lp.length; i++) {
            int top = 0;
            for (int k = 1; k < lp[i].length; k++) if (lp[i][k] > lp[i][top]) top = k;
            c[i] = Math.exp(lp[i][top]);
            ok[i] = top == y[i];
        }
        return ece(c, ok);
    }
}
