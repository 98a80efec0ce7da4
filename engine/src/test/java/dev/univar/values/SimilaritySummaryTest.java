package dev.univar.values;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SimilaritySummaryTest {
    static float[] unit(float[] v) {
        double n = 0;
        for (float x : v) n += x * x;
        for (int i = 0; i < v.length; i++) v[i] /= (float) Math.sqrt(n);
        return v;
    }

    @Test
    void separatesLabelsByStyleAcrossQuestions() {
        // Each text = a strong question (topic) direction + a weaker label (style) direction + noise.
        Random r = new Random(1);
        int dim = 32, labels = 4, questions = 10;
        List<String> lab = new ArrayList<>(), q = new ArrayList<>();
        List<float[]> emb = new ArrayList<>();
        for (int l = 0; l < labels; l++)
            for (int k = 0; k < questions; k++) {
                float[] v = new float[dim];
                v[k] += 3;
                v[questions + l] += 1;
                for (int d = 0; d < dim; d++) v[d] += (float) (0.2 * r.nextGaussian());
                emb.add(unit(v));
                lab.add("llm" + l);
                q.add("q" + k);
            }
        SimilaritySummary s = SimilaritySummary.of(lab, q, emb.toArray(float[][]::new));
        assertEquals(4, s.rows().size());
        assertEquals(0.25, s.chance(), 1e-12);
        assertTrue(s.accuracy() > 0.9, "accuracy " + s.accuracy());
        for (SimilaritySummary.Row row : s.rows()) {
            assertEquals(10, row.count());
            assertTrue(row.within() > row.between(), row.toString());
        }
        assertTrue(s.format().contains("llm3"));
    }

    @Test
    void randomEmbeddingsAreNearChance() {
        Random r = new Random(2);
        List<String> lab = new ArrayList<>(), q = new ArrayList<>();
        List<float[]> emb = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            float[] v = new float[16];
            for (int d = 0; d < 16; d++) v[d] = (float) r.nextGaussian();
            emb.add(unit(v));
            lab.add("llm" + (i % 4));
            q.add("q" + (i / 4));
        }
        SimilaritySummary s = SimilaritySummary.of(lab, q, emb.toArray(float[][]::new));
        assertEquals(0.25, s.accuracy(), 0.1);
    }
}
