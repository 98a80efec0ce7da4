package dev.univar.text;

import java.util.List;
import java.util.function.IntPredicate;

/**
 * Finds added tokens in a text the way Hugging Face's {@code AddedVocabulary} does: leftmost match first,
 * the longest one where several start at the same place, honouring {@code single_word}, {@code lstrip} and
 * {@code rstrip}.
 *
 * <p>Added tokens are few (a handful of special tokens), so a scan that checks each at the positions where
 * its first char occurs is as fast as an automaton here and much simpler.
 */
final class AddedTokenSplitter {

    /** Receives the pieces of a split text, in order. */
    interface Sink {
        void text(String s, int start, int end);

        void token(int id);
    }

    private final AddedToken[] tokens;
    private final String[] patterns;

    AddedTokenSplitter(List<AddedToken> tokens, List<String> patterns) {
        this.tokens = tokens.toArray(AddedToken[]::new);
        this.patterns = patterns.toArray(String[]::new);
    }

    boolean isEmpty() {
        return tokens.length == 0;
    }

    void split(String s, Sink sink) {
        int textStart = 0;
        int i = 0;
        while (i < s.length()) {
            int best = -1;
            for (int t = 0; t < tokens.length; t++) {
                String p = patterns[t];
                if (p.isEmpty() || !s.startsWith(p, i)) continue;
                if (tokens[t].singleWord() && !isWordBoundary(s, i, i + p.length())) continue;
                if (best < 0 || p.length() > patterns[best].length()) best = t;
            }
            if (best < 0) {
                i++;
                continue;
            }
            AddedToken token = tokens[best];
            int start = i;
            int end = i + patterns[best].length();
            if (token.lstrip()) start = skipBack(s, start, textStart, HfUnicode::isWhitespace);
            if (token.rstrip()) end = skipForward(s, end, HfUnicode::isWhitespace);
            if (start > textStart) sink.text(s, textStart, start);
            sink.token(token.id());
            textStart = end;
            i = end;
        }
        if (textStart < s.length()) sink.text(s, textStart, s.length());
    }

    /** A single-word token must not continue a word on either side. */
    private static boolean isWordBoundary(String s, int start, int end) {
        boolean before = start == 0 || !isWordChar(s.codePointBefore(start));
        boolean after = end == s.length() || !isWordChar(s.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    private static int skipBack(String s, int i, int limit, IntPredicate skip) {
        while (i > limit && skip.test(s.codePointBefore(i))) i -= Character.charCount(s.codePointBefore(i));
        return i;
    }

    private static int skipForward(String s, int i, IntPredicate skip) {
        while (i < s.length() && skip.test(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
        return i;
    }
}
