package dev.univar.values;

import dev.univar.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Identification from one or many answers: evidence that adds up, groups, calibration, unknown LLMs. */
class IdentifierTest {
    static final LinearProbe.Options PROBE = LinearProbe.Options.defaults(0);

    /**
     * {@code labels} sources with {@code questions} answers each (one per question, question ids q0…), around
     * label directions in {@code dim} dimensions with noise {@code noise}: one answer alone is often misread.
     */
    static EmbeddedViews clusters(int labels, int questions, int dim, double noise, long seed, int questionOffset) {
        Random r = new Random(seed);
        Random dirs = new Random(42); // the same label directions for every call
        float[][] centre = new float[labels][dim];
        for (float[] c : centre) for (int d = 0; d < dim; d++) c[d] = (float) dirs.nextGaussian();
        int n = labels * questions;
        float[][] x = new float[n][dim];
        int[] y = new int[n], source = new int[n];
        List<List<String>> q = new ArrayList<>();
        for (int l = 0, i = 0; l < labels; l++)
            for (int k = 0; k < questions; k++, i++) {
                double norm = 0;
                for (int d = 0; d < dim; d++) {
                    x[i][d] = (float) (centre[l][d] + noise * r.nextGaussian());
                    norm += x[i][d] * x[i][d];
                }
                for (int d = 0; d < dim; d++) x[i][d] /= (float) Math.sqrt(norm);
                y[i] = l;
                source[i] = l;
                q.add(List.of("q" + (questionOffset + k)));
            }
        return new EmbeddedViews(x, y, source, q);
    }

    @Test
    void evidenceAddsUpAsDocumented() {
        // Probe: two answers' log-probabilities are summed, then normalised.
        double[][] lp = {{Math.log(0.6), Math.log(0.3), Math.log(0.1)}, {Math.log(0.2), Math.log(0.7), Math.log(0.1)}};
        Evidence.Ranking r = Evidence.probe(lp).combine(new int[]{0, 1});
        double z = 0.6 * 0.2 + 0.3 * 0.7 + 0.1 * 0.1;
        assertArrayEquals(new double[]{0.12 / z, 0.21 / z, 0.01 / z}, r.score(), 1e-12);
        assertArrayEquals(new int[]{1, 0, 2}, r.order());
        assertEquals(2, r.answers());
        assertEquals(0.21 / z, r.confidence(), 1e-12);

        // k-NN: votes summed over the group, score = share of the n·k votes; a tie in votes goes to the larger summed similarity.
        double[][] votes = {{3, 2, 0}, {1, 2, 2}}, sim = {{2.4, 1.0, 0}, {0.5, 2.0, 1.5}}, best = {{0.9, 0.6, 0.1}, {0.5, 0.99, 0.8}};
        r = Evidence.knn(votes, sim, best, 5).combine(new int[]{0, 1});
        assertArrayEquals(new double[]{0.4, 0.4, 0.2}, r.score(), 1e-12);
        assertArrayEquals(new int[]{1, 0, 2}, r.order(), "4 votes each: summed similarity 3.0 beats 2.9");
        assertEquals(3.0 / 10, r.confidence(), 1e-12, "the first label's voters' similarity over n·k");
        r = Evidence.knn(votes, sim, best, 5).single(1);
        assertArrayEquals(new int[]{1, 2, 0}, r.order(), "2 votes each for 1 and 2: similarity 2.0 beats 1.5");

        // Centroid: mean cosine distance, smallest first; its confidence is the negated distance.
        double[][] cos = {{0.9, 0.2}, {0.5, 0.6}};
        r = Evidence.centroid(cos).combine(new int[]{0, 1});
        assertArrayEquals(new double[]{1 - 0.7, 1 - 0.4}, r.score(), 1e-12);
        assertEquals(0, r.top());
        assertEquals(-0.3, r.confidence(), 1e-12);
    }

    @Test
    void oneAnswerPerDecisionIsThePapersProtocol() {
        EmbeddedViews train = clusters(4, 40, 24, 1.2, 1, 0), test = clusters(4, 10, 24, 1.2, 2, 100);
        try (CpuBackend b = new CpuBackend(2)) {
            Identification id = Identification.run(b, train, test, 4, new Identification.Settings(7, PROBE, 1, List.of(1), 0.2, false, 0.1, 0));
            Metrics knn = Metrics.of(Knn.rank(b, train.x(), train.label(), 4, test.x(), 7), test.label(), 4);
            assertArrayEquals(knn.accuracyAt(), id.knn().accuracyAt(), 0);
            assertArrayEquals(knn.confusion(), id.knn().confusion());
            LinearProbe p = LinearProbe.train(b, train.x(), train.label(), 4, PROBE);
            Metrics probe = Metrics.of(p.rank(b, test.x()), test.label(), 4);
            assertArrayEquals(probe.accuracyAt(), id.probe().accuracyAt(), 0, "a temperature does not reorder one answer's labels");
            assertEquals(test.size(), id.decisions());
        }
    }

    @Test
    void combinedAnswersBeatSingleAnswersForEveryMethod() {
        EmbeddedViews train = clusters(5, 60, 32, 4.5, 3, 0), test = clusters(5, 20, 32, 4.5, 4, 100);
        try (CpuBackend b = new CpuBackend(2)) {
            Identification id = Identification.run(b, train, test, 5,
                    new Identification.Settings(10, PROBE, 5, Identification.Settings.CURVE, 0.2, true, 0.1, 0));
            assertEquals(List.of(Identifier.Method.KNN, Identifier.Method.PROBE, Identifier.Method.CENTROID), List.copyOf(id.methods().keySet()));
            for (var e : id.methods().entrySet()) {
                Map<Integer, Double> acc = e.getValue().accuracyByAnswers();
                assertEquals(List.of(1, 2, 5, 10), List.copyOf(acc.keySet()));
                assertTrue(acc.get(1) < 0.9 && acc.get(1) > 0.3, e.getKey() + ": one answer is an uncertain guess " + acc);
                assertTrue(acc.get(5) > acc.get(1) + 0.1, e.getKey() + ": five answers decide better " + acc);
                assertTrue(acc.get(10) >= acc.get(5) - 0.02, e.getKey() + ": " + acc);
                assertEquals(acc.get(5), e.getValue().metrics().accuracy(1), 1e-12, "the headline metrics are those of N = 5");
                assertEquals(4, e.getValue().unknown().size(), "a threshold per group size");
            }
            assertEquals(100, id.decisions(), "one decision per held-out answer");
            Identification again = Identification.run(b, train, test, 5,
                    new Identification.Settings(10, PROBE, 5, Identification.Settings.CURVE, 0.2, true, 0.1, 0));
            assertEquals(id.methods().get(Identifier.Method.PROBE).accuracyByAnswers(), again.methods().get(Identifier.Method.PROBE).accuracyByAnswers());
        }
    }

    @Test
    void groupsAreOneSourceOnDifferentQuestionsOnePerAnchor() {
        // Source 0 answers q0..q5 twice over (12 views, 6 questions); source 1 answers q0..q3 (4 views).
        List<List<String>> q = new ArrayList<>();
        int n0 = 12, n1 = 4;
        int[] src = new int[n0 + n1];
        for (int i = 0; i < n0; i++) q.add(List.of("q" + (i % 6)));
        for (int i = 0; i < n1; i++) {
            q.add(List.of("q" + i));
            src[n0 + i] = 1;
        }
        EmbeddedViews v = new EmbeddedViews(new float[n0 + n1][1], src.clone(), src, q);
        assertEquals(4, AnswerGroups.maxSize(v));
        assertEquals(1, AnswerGroups.shortSource(v, 5));
        assertEquals(-1, AnswerGroups.shortSource(v, 4));
        List<int[]> groups = AnswerGroups.draw(v, 3, 7);
        assertEquals(n0 + n1, groups.size());
        for (int i = 0; i < groups.size(); i++) {
            int[] g = groups.get(i);
            assertEquals(3, g.length);
            assertEquals(i, g[0], "each view anchors its own group");
            Set<String> seen = new HashSet<>();
            for (int m : g) {
                assertEquals(src[g[0]], src[m], "one source");
                assertTrue(seen.add(q.get(m).get(0)), "different questions");
            }
        }
        List<int[]> again = AnswerGroups.draw(v, 3, 7);
        for (int i = 0; i < groups.size(); i++) assertArrayEquals(groups.get(i), again.get(i), "seeded");
        assertEquals(n0, AnswerGroups.draw(v, 6, 7).size(), "source 1 cannot make groups of 6");
    }

    @Test
    void eceAndTemperatureScaling() {
        // Two bins: confidences 0.9 (3 right of 4) and 0.6 (1 of 2): |0.75-0.9|·4/6 + |0.5-0.6|·2/6.
        double e = Calibration.ece(new double[]{0.9, 0.9, 0.9, 0.9, 0.6, 0.6}, new boolean[]{true, true, true, false, true, false});
        assertEquals(0.15 * 4 / 6 + 0.1 * 2 / 6, e, 1e-12);
        // Labels drawn from softmax(z / 2): the NLL-minimising temperature is about 2, and it lowers the ECE.
        Random r = new Random(9);
        int n = 4000, c = 4;
        float[][] z = new float[n][c];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double[] p = new double[c];
            double s = 0;
            for (int k = 0; k < c; k++) {
                z[i][k] = (float) (3 * r.nextGaussian());
                s += p[k] = Math.exp(z[i][k] / 2.0);
            }
            double u = r.nextDouble() * s;
            int k = 0;
            while (k < c - 1 && (u -= p[k]) > 0) k++;
            y[i] = k;
        }
        double t = Calibration.fitTemperature(z, y);
        assertEquals(2.0, t, 0.2);
        assertTrue(Calibration.nll(z, y, t) <= Calibration.nll(z, y, 1));
        assertTrue(Calibration.ece(z, y, t) < Calibration.ece(z, y, 1) / 2, "overconfident logits calibrated");
    }

    @Test
    void thresholdRejectsAtMostTheTargetShareOfKnownGroups() {
        // 10 known confidences 0.1..1.0: at most 20 % rejected -> cut between 0.2 and 0.3; unknown ones above it are accepted.
        List<Double> known = List.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), unknown = List.of(0.05, 0.15, 0.22, 0.35, 0.6);
        UnknownThreshold t = UnknownThreshold.choose(Identifier.Method.PROBE, 3, known, unknown, 0.2);
        assertEquals(0.25, t.threshold(), 1e-12);
        assertEquals(2.0 / 5, t.falseAcceptRate(), 1e-12);
        assertEquals(0.2, t.falseRejectRate(), 1e-12);
        assertEquals(3, t.answers());
        assertTrue(t.accepts(new Evidence.Ranking(Identifier.Method.PROBE, 3, new int[]{0}, new double[]{0.25}, 0.25)));
        assertFalse(t.accepts(new Evidence.Ranking(Identifier.Method.PROBE, 3, new int[]{0}, new double[]{0.2499}, 0.2499)));
        // Ties are never split: with 0.1 twice, rejecting one of them is impossible, so none is.
        t = UnknownThreshold.choose(Identifier.Method.KNN, 1, List.of(0.1, 0.1, 0.5, 0.6), List.of(0.0), 0.3);
        assertTrue(t.acceptsAll());
        assertEquals(1.0, t.falseAcceptRate());
        assertEquals(0.0, t.falseRejectRate());
        // A distance: the threshold is on the distance itself (confidences are negated distances).
        t = UnknownThreshold.choose(Identifier.Method.CENTROID, 1, List.of(-0.1, -0.2, -0.3, -0.6), List.of(-0.5, -0.7), 0.25);
        assertEquals(0.45, t.threshold(), 1e-12);
        assertEquals(0.0, t.falseAcceptRate(), 1e-12);
        assertTrue(t.accepts(new Evidence.Ranking(Identifier.Method.CENTROID, 1, new int[]{0}, new double[]{0.3}, -0.3)));
        assertFalse(t.accepts(new Evidence.Ranking(Identifier.Method.CENTROID, 1, new int[]{0}, new double[]{0.5}, -0.5)));
    }
}
