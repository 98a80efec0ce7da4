package dev.univar.values;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * Embedded views (one answer, or a few answers of one key) with what identification needs to know about each: its
 * label (the class to identify), its source (the key that wrote it: answers combined into one decision share a
 * source) and the questions it answers.
 *
 * @param x         L2-normalised embeddings, one row per view
 * @param label     each view's class, in {@code [0, numLabels)}
 * @param source    each view's key, as any integer id: views of one id come from one LLM in one language
 * @param questions each view's question ids
 */
public record EmbeddedViews(float[][] x, int[] label, int[] source, List<List<String>> questions) {
    public EmbeddedViews {
        if (label.length != x.length || source.length != x.length || questions.size() != x.length)
            throw new IllegalArgumentException("embeddings, labels, sources and questions differ in length");
        questions = List.copyOf(questions);
    }

    public int size() {
        return x.length;
    }

    /** The views for which {@code keep} holds, in order. */
    public EmbeddedViews select(IntPredicate keep) {
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < x.length; i++) if (keep.test(i)) rows.add(i);
        float[][] sx = new float[rows.size()][];
        int[] sl = new int[rows.size()], ss = new int[rows.size()];
        List<List<String>> sq = new ArrayList<>();
        for (int j = 0; j < rows.size(); j++) {
            int i = rows.get(j);
            sx[j] = x[i];
            sl[j] = label[i];
            ss[j] = source[i];
            sq.add(questions.get(i));
        }
        return new EmbeddedViews(sx, sl, ss, sq);
    }

    /** The views all of whose questions are in {@code ids}. */
    public EmbeddedViews onQuestions(Set<String> ids) {
        return select(i -> ids.containsAll(questions.get(i)));
    }

    /** Distinct question ids in first-seen order. */
    public List<String> questionIds() {
        java.util.LinkedHashSet<String> s = new java.util.LinkedHashSet<>();
        questions.forEach(s::addAll);
        return List.copyOf(s);
    }
}
