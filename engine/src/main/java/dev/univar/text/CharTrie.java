package dev.univar.text;

import java.util.Map;

/**
 * A trie over UTF-16 chars mapping strings to ids, for WordPiece's longest-prefix lookups: one walk finds the
 * longest vocabulary entry starting at a position, without building a String per candidate.
 *
 * <p>Edges live in one open-addressing hash table keyed by (node, char), so the whole trie is a few flat
 * arrays. Immutable after construction.
 */
final class CharTrie {
    private static final long EMPTY = -1L;

    private final long[] keys;     // (parent node << 16) | char, or EMPTY
    private final int[] children;  // child node of the edge in the same slot
    private final int[] ids;       // token id of each node, -1 where no entry ends there
    private final int mask;

    /** A trie of the entries of {@code vocab} that start with {@code prefix}, keyed without that prefix. */
    CharTrie(Map<String, Integer> vocab, String prefix) {
        int chars = 0;
        for (String token : vocab.keySet()) if (token.startsWith(prefix)) chars += token.length() - prefix.length();
        int capacity = Integer.highestOneBit(Math.max(16, chars * 2)) << 1;
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        children = new int[capacity];
        mask = capacity - 1;
        int[] nodeIds = new int[chars + 1];
        java.util.Arrays.fill(nodeIds, -1);
        int nodes = 1; // node 0 is the root
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String token = e.getKey();
            if (!token.startsWith(prefix) || token.length() == prefix.length()) continue;
            int node = 0;
            for (int i = prefix.length(); i < token.length(); i++) {
                long key = edgeKey(node, token.charAt(i));
                int slot = find(key);
                if (keys[slot] == EMPTY) {
                    keys[slot] = key;
                    children[slot] = nodes++;
                }
                node = children[slot];
            }
            nodeIds[node] = e.getValue();
        }
        ids = java.util.Arrays.copyOf(nodeIds, nodes);
    }

    private static long edgeKey(int node, char c) {
        return ((long) node << 16) | c;
    }

    private int find(long key) {
        int slot = (int) mix(key) & mask;
        while (keys[slot] != EMPTY && keys[slot] != key) slot = (slot + 1) & mask;
        return slot;
    }

    private static long mix(long x) {
        x *= 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    /**
     * The longest entry that matches {@code s} from {@code start} and ends at or before {@code end}: its end
     * (exclusive) in the high 32 bits and its id in the low 32 bits, or -1 if no entry matches.
     */
    long longestMatch(CharSequence s, int start, int end) {
        int node = 0;
        int bestEnd = -1;
        int bestId = -1;
        for (int i = start; i < end; i++) {
            int slot = find(edgeKey(node, s.charAt(i)));
            if (keys[slot] == EMPTY) break;
            node = children[slot];
            if (ids[node] >= 0) {
                bestEnd = i + 1;
                bestId = ids[node];
            }
        }
        // Both answers in one long so the walk allocates nothing.
        return bestEnd < 0 ? -1 : ((long) bestEnd << 32) | (bestId & 0xFFFFFFFFL);
    }
}
