package dev.univar.values;

import dev.univar.corpus.Key;
import dev.univar.corpus.MultiViewSampler;
import dev.univar.corpus.QaPair;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fixed, disjoint views for evaluation: each key's QA pairs are shuffled (seeded) and cut into views of
 * {@code viewSize} pairs; a remainder smaller than a view is left out. With {@code viewSize == 1} every pair is a
 * view, in corpus order. Build train and test views from the two halves of a question split separately, so a view
 * never mixes train and test questions.
 */
public final class Views {
    /** One view: its key, its text ({@code Q: … A: …} lines) and the questions it draws on. */
    public record View(Key key, String text, List<String> questionIds) {
    }

    private Views() {
    }

    public static List<View> build(Map<Key, List<QaPair>> byKey, int viewSize, long seed, String what) {
        return build(byKey, viewSize, seed, what, false);
    }

    /**
     * @param answersOnly a view holds the answers alone, one per line, instead of {@code Q: … A: …} lines: for
     *                    corpora whose questions are long prompts that would use up the encoder's maximum length
     */
    public static List<View> build(Map<Key, List<QaPair>> byKey, int viewSize, long seed, String what, boolean answersOnly) {
        if (viewSize < 1) throw new IllegalArgumentException("--view-size must be at least 1, got " + viewSize);
        List<View> out = new ArrayList<>();
        int keyIndex = 0;
        for (var e : byKey.entrySet()) {
            List<QaPair> pool = e.getValue();
            if (pool.size() < viewSize)
                throw new IllegalArgumentException("key " + e.getKey() + " has " + pool.size() + " " + what
                        + ", fewer than --view-size " + viewSize);
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < pool.size(); i++) idx.add(i);
            if (viewSize > 1) {
                SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + keyIndex * 0xD1B54A32D192ED03L + 7);
                for (int i = idx.size() - 1; i > 0; i--) java.util.Collections.swap(idx, i, r.nextInt(i + 1));
            }
            for (int from = 0; from + viewSize <= idx.size(); from += viewSize) {
                List<Integer> part = idx.subList(from, from + viewSize);
                LinkedHashSet<String> q = new LinkedHashSet<>();
                for (int i : part) q.add(pool.get(i).questionId());
                String text = answersOnly ? String.join("\n", part.stream().map(i -> pool.get(i).answer()).toList())
                        : MultiViewSampler.view(pool, part);
                out.add(new View(e.getKey(), text, List.copyOf(q)));
            }
            keyIndex++;
        }
        return out;
    }
}
