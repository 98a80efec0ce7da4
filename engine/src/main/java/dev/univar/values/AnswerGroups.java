package dev.univar.values;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Groups of {@code n} views of one source (one key) on different questions: what several answers of an unknown
 * LLM look like, and what {@code identify} combines into one decision. Every view anchors one group (so each
 * source makes as many decisions as it has views, whatever {@code n}); the other {@code n − 1} members are drawn
 * at random (seeded) from the source's views whose questions the group does not have yet.
 */
public final class AnswerGroups {
    private AnswerGroups() {
    }

    /** Views by source, sources in increasing id, views in order. */
    static Map<Integer, List<Integer>> bySource(EmbeddedViews v) {
        Map<Integer, List<Integer>> m = new TreeMap<>();
        for (int i = 0; i < v.size(); i++) m.computeIfAbsent(v.source()[i], s -> new ArrayList<>()).add(i);
        return m;
    }

    /**
     * The largest group a source can form, taken over every source's fewest: views on pairwise different
     * questions, counted greedily in order (for views of one answer: the source's distinct questions).
     */
    public static int maxSize(EmbeddedViews v) {
        int min = Integer.MAX_VALUE;
        for (List<Integer> rows : bySource(v).values()) min = Math.min(min, sizeOf(v, rows));
        return min == Integer.MAX_VALUE ? 0 : min;
    }

    /** Which source cannot form a group of {@code n}, or -1 if every one can. */
    public static int shortSource(EmbeddedViews v, int n) {
        for (var e : bySource(v).entrySet()) {
            if (sizeOf(v, e.getValue()) < n) return e.getKey();
        }
        return -1;
    }

    private static int sizeOf(EmbeddedViews v, List<Integer> rows) {
        Set<String> used = new HashSet<>();
        int count = 0;
        for (int i : rows)
            if (disjoint(used, v.questions().get(i))) {
                used.addAll(v.questions().get(i));
                count++;
            }
        return count;
    }

    /**
     * One group of {@code n} views per view (the anchor first), views of one source on pairwise different
     * questions. A view whose source cannot complete a group around it anchors none.
     */
    public static List<int[]> draw(EmbeddedViews v, int n, long seed) {
        if (n < 1) throw new IllegalArgumentException("a group needs at least one answer, got " + n);
        List<int[]> out = new ArrayList<>();
        if (n == 1) {
            for (int i = 0; i < v.size(); i++) out.add(new int[]{i});
            return out;
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + n * 0xD1B54A32D192ED03L + 11);
        Map<Integer, List<Integer>> bySource = bySource(v);
        List<int[]> byAnchor = new ArrayList<>(java.util.Collections.nCopies(v.size(), (int[]) null));
        for (List<Integer> rows : bySource.values()) {
            for (int anchor : rows) {
                List<Integer> others = new ArrayList<>(rows);
                others.remove(Integer.valueOf(anchor));
                for (int i = others.size() - 1; i > 0; i--) java.util.Collections.swap(others, i, r.nextInt(i + 1));
                Set<String> used = new HashSet<>(v.questions().get(anchor));
                int[] group = new int[n];
                group[0] = anchor;
                int size = 1;
                for (int j = 0; j < others.size() && size < n; j++) {
                    int o = others.get(j);
                    if (disjoint(used, v.questions().get(o))) {
                        used.addAll(v.questions().get(o));
                        group[size++] = o;
                    }
                }
                if (size == n) byAnchor.set(anchor, group);
            }
        }
        for (int[] g : byAnchor) if (g != null) out.add(g);
        return out;
    }

    private static boolean disjoint(Set<String> used, List<String> questions) {
        for (String q : questions) if (used.contains(q)) return false;
        return true;
    }
}
