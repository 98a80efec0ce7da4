package dev.univar.text;

import java.text.Normalizer;

/**
 * Hugging Face's {@code BertNormalizer}: cleans control characters, isolates CJK ideographs, strips accents and
 * lowercases, in that order.
 *
 * @param cleanText          drop U+0000, U+FFFD and control characters, and turn every whitespace into ' '
 * @param handleChineseChars put spaces around CJK ideographs so each becomes its own word
 * @param stripAccents       decompose (NFD) and drop the non-spacing marks
 * @param lowercase          lowercase every character
 */
record BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {

    String normalize(String text) {
        String s = text;
        if (cleanText || handleChineseChars) s = cleanAndSpace(s);
        if (stripAccents) s = stripAccents(s);
        if (lowercase) s = lowercase(s);
        return s;
    }

    private String cleanAndSpace(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || HfUnicode.isControl(c)) continue;
                if (HfUnicode.isWhitespace(c)) {
                    out.append(' ');
                    continue;
                }
            }
            if (handleChineseChars && HfUnicode.isChinese(c)) out.append(' ').appendCodePoint(c).append(' ');
            else out.appendCodePoint(c);
        }
        return out.toString();
    }

    private static String stripAccents(String s) {
        String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(nfd.length());
        for (int i = 0; i < nfd.length(); ) {
            int c = nfd.codePointAt(i);
            i += Character.charCount(c);
            if (!HfUnicode.isNonspacingMark(c)) out.appendCodePoint(c);
        }
        return out.toString();
    }

    private static String lowercase(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            HfUnicode.appendLowercase(c, out);
        }
        return out.toString();
    }
}
