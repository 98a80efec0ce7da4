package dev.univar.corpus;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A question-level split, as in the paper: whole questions (all their answers, in every language and by every
 * LLM) go to either train or test, so nothing learned from a question is evaluated on it. Deterministic for a
 * seed and independent of the corpus's row order.
 */
public record QuestionSplit(Set<String> train, Set<String> test) {

    public QuestionSplit {
        train = Collections.unmodifiableSet(new LinkedHashSet<>(train));
        test = Collections.unmodifiableSet(new LinkedHashSet<>(test));
    }

    public static QuestionSplit of(Corpus corpus, double testFraction, long seed) {
        return of(corpus.questionIds(), testFraction, seed);
    }

    /** The split of these question ids (their order does not matter; repeats count once). */
    public static QuestionSplit of(java.util.Collection<String> questionIds, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1))
            throw new IllegalArgumentException("test fraction must be between 0 and 1, got " + testFraction);
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(questionIds));
        if (ids.size() < 2) throw new IllegalArgumentException("a question-level split needs at least 2 distinct questions, found " + ids.size());
        Collections.sort(ids);
        Collections.shuffle(ids, new Random(seed));
        int nTest = (int) Math.max(1, Math.min(ids.size() - 1, Math.round(ids.size() * testFraction)));
        return new QuestionSplit(new LinkedHashSet<>(ids.subList(nTest, ids.size())), new LinkedHashSet<>(ids.subList(0, nTest)));
    }
}
