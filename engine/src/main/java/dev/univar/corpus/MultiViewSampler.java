package dev.univar.corpus;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * UniVaR's multi-view sampler. A view is λ QA pairs of one key written {@code Q: … A: …} and joined by newlines,
 * λ uniform in [λmin, λmax]; a positive pair is two views of the same key that share no QA pair. A batch holds
 * at most one pair per key, so every other view in the batch is a true negative.
 *
 * <p>Batch {@code step} depends only on the seed and the step number, so a resumed run draws exactly the
 * batches the uninterrupted run would have drawn; the sampler's whole state is the step.
 */
public final class MultiViewSampler {
    /** Two views of one key. */
    public record ViewPair(Key key, String first, String second) {
    }

    private final List<Key> keys;
    private final List<List<QaPair>> pairsByKey;
    private final int lambdaMin, lambdaMax, pairsPerBatch;
    private final long seed;

    /**
     * @param byKey         training QA pairs grouped by key
     * @param pairsPerBatch view pairs per batch (views per batch / 2), at most the number of keys
     */
    public MultiViewSampler(Map<Key, List<QaPair>> byKey, int lambdaMin, int lambdaMax, int pairsPerBatch, long seed) {
        if (lambdaMin < 1 || lambdaMax < lambdaMin)
            throw new IllegalArgumentException("need 1 <= lambda-min <= lambda-max, got " + lambdaMin + ".." + lambdaMax);
        if (byKey.size() < 2)
            throw new IllegalArgumentException("contrastive training needs at least 2 keys (LLM × language), found " + byKey.size()
                    + (byKey.isEmpty() ? "" : ": " + byKey.keySet()));
        for (var e : byKey.entrySet()) {
            if (e.getValue().size() < lambdaMax)
                throw new IllegalArgumentException("key " + e.getKey() + " has " + e.getValue().size()
                        + " training answers, fewer than --lambda-max " + lambdaMax);
            if (e.getValue().size() < 2)
                throw new IllegalArgumentException("key " + e.getKey() + " has a single training answer: two disjoint views need 2");
        }
        if (pairsPerBatch < 1 || pairsPerBatch > byKey.size())
            throw new IllegalArgumentException("view pairs per batch must be between 1 and the number of keys (" + byKey.size()
                    + "), got " + pairsPerBatch);
        this.keys = List.copyOf(byKey.keySet());
        this.pairsByKey = keys.stream().map(k -> List.copyOf(byKey.get(k))).toList();
        this.lambdaMin = lambdaMin;
        this.lambdaMax = lambdaMax;
        this.pairsPerBatch = pairsPerBatch;
        this.seed = seed;
    }

    public int pairsPerBatch() {
        return pairsPerBatch;
    }

    public List<Key> keys() {
        return keys;
    }

    /** The view pairs of batch {@code step} (0-based). */
    public List<ViewPair> batch(long step) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 1);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) order.add(i);
        shuffle(order, r);
        List<ViewPair> out = new ArrayList<>(pairsPerBatch);
        for (int j = 0; j < pairsPerBatch; j++) {
            int k = order.get(j);
            List<QaPair> pool = pairsByKey.get(k);
            int l1 = lambdaMin + r.nextInt(lambdaMax - lambdaMin + 1);
            int l2 = lambdaMin + r.nextInt(lambdaMax - lambdaMin + 1);
            if (l1 + l2 > pool.size()) { // a small key: split what it has, both views non-empty and disjoint
                l1 = Math.max(1, Math.min(l1, pool.size() / 2));
                l2 = Math.min(l2, pool.size() - l1);
            }
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < pool.size(); i++) idx.add(i);
            shuffle(idx, r);
            out.add(new ViewPair(keys.get(k), view(pool, idx.subList(0, l1)), view(pool, idx.subList(l1, l1 + l2))));
        }
        return out;
    }

    /** The view text of the given pairs: {@code Q: … A: …} lines joined by newlines. */
    public static String view(List<QaPair> pool, List<Integer> indices) {
        StringBuilder sb = new StringBuilder();
        for (int i : indices) {
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(pool.get(i).asViewLine());
        }
        return sb.toString();
    }

    private static void shuffle(List<Integer> list, SplittableRandom r) {
        for (int i = list.size() - 1; i > 0; i--) Collections.swap(list, i, r.nextInt(i + 1));
    }
}
