package dev.univar.values;

import dev.univar.corpus.Corpus;
import dev.univar.corpus.Key;
import dev.univar.corpus.QaPair;
import dev.univar.corpus.QuestionSplit;
import dev.univar.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ProbeAndViewsTest {
    @Test
    void probeLearnsSeparableClassesDeterministically() {
        Random r = new Random(5);
        int n = 600, classes = 3, dim = 16;
        float[][] x = new float[n][dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            for (int d = 0; d < dim; d++) x[i][d] = (float) (r.nextGaussian() * 0.3 + (d == y[i] ? 2 : 0));
        }
        try (CpuBackend b = new CpuBackend(2)) {
            LinearProbe p = LinearProbe.train(b, x, y, classes, new LinearProbe.Options(20, 64, 2e-2, 1));
            Metrics m = Metrics.of(p.rank(b, x), y, classes);
            assertTrue(m.accuracy(1) > 0.98, "accuracy " + m.accuracy(1));
            LinearProbe q = LinearProbe.train(b, x, y, classes, new LinearProbe.Options(20, 64, 2e-2, 1));
            assertArrayEquals(p.logits(b, x)[3], q.logits(b, x)[3], "same seed, same probe");
        }
    }

    @Test
    void viewsNeverMixTrainAndTestQuestions() {
        List<QaPair> pairs = new ArrayList<>();
        for (String model : List.of("a", "b"))
            for (int q = 0; q < 20; q++)
                for (int t = 0; t < 3; t++) pairs.add(new QaPair("q" + q, "Q" + q, model + " answer " + t, model, "en"));
        Corpus c = new Corpus(pairs);
        QuestionSplit split = QuestionSplit.of(c, 0.25, 3);
        List<Views.View> train = Views.build(c.restrictTo(split.train()).byKey(), 4, 0, "training answers");
        List<Views.View> test = Views.build(c.restrictTo(split.test()).byKey(), 4, 0, "test answers");
        Set<String> trainQ = new HashSet<>(), testQ = new HashSet<>();
        train.forEach(v -> trainQ.addAll(v.questionIds()));
        test.forEach(v -> testQ.addAll(v.questionIds()));
        assertFalse(testQ.isEmpty());
        trainQ.retainAll(testQ);
        assertEquals(Set.of(), trainQ);
        assertEquals(2 * (45 / 4), train.size());
        assertEquals(new Key("a", "en"), test.get(0).key());
        assertEquals(4, test.get(0).text().lines().count());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Views.build(c.restrictTo(split.test()).byKey(), 16, 0, "test answers"));
        assertTrue(e.getMessage().contains("key a/en has 15 test answers, fewer than --view-size 16"), e.getMessage());
    }
}
