package dev.univar.text;

/**
 * The character classes of Hugging Face {@code tokenizers}' BERT normaliser and pre-tokeniser, which differ
 * from Java's own in three ways:
 * <ul>
 * <li>whitespace is exactly the Unicode {@code White_Space} property (Rust's {@code char::is_whitespace});
 *     Java's {@link Character#isWhitespace} leaves out the no-break spaces;</li>
 * <li>HF's "control" class (dropped by {@code clean_text}) is Cc, Cf, Co and Cs minus tab, newline and
 *     carriage return, but not Cn: its category tables list no unassigned code points, so those stay in the
 *     text like letters;</li>
 * <li>the categories behind "control", "punctuation" (P*) and "accent" (Mn) come from the
 *     {@code unicode_categories} crate, frozen at Unicode 8.0, whereas Java follows a recent Unicode. The
 *     {@link #LEGACY} table restores the old classification of the code points where that matters.</li>
 * </ul>
 */
final class HfUnicode {
    private HfUnicode() {
    }

    private static final int U = Character.UNASSIGNED;
    private static final int P = Character.OTHER_PUNCTUATION;
    private static final int M = Character.NON_SPACING_MARK;

    /**
     * Triples {first, last, category}: code points whose Unicode 8.0 category, as HF's crate has it, differs
     * from Java's in a way that changes tokenisation. U: unassigned in 8.0 (HF treats it as a letter) though now
     * punctuation, a mark or a format char; P: was punctuation; M: was a non-spacing mark. Found by running
     * every code point through both tokenizers (WordPieceParityTest.everyCodePointMatches), sorted by first.
     */
    private static final int[] LEGACY = {
            0x61D, 0x61D, U, 0x7FD, 0x7FD, U, 0x890, 0x891, U, 0x897, 0x89F, U, 0x8CA, 0x8E2, U,
            0x9FD, 0x9FE, U, 0xA76, 0xA76, U, 0xAFA, 0xAFF, U, 0xB55, 0xB55, U, 0xC04, 0xC04, U,
            0xC3C, 0xC3C, U, 0xC77, 0xC77, U, 0xC84, 0xC84, U, 0xD00, 0xD00, U, 0xD3B, 0xD3C, U,
            0xD81, 0xD81, U, 0xEBA, 0xEBA, U, 0xECE, 0xECE, U, 0x166D, 0x166D, P, 0x1734, 0x1734, M,
            0x180F, 0x180F, U, 0x1885, 0x1886, U, 0x1ABF, 0x1ACE, U, 0x1B4E, 0x1B4F, U,
            0x1B7D, 0x1B7F, U, 0x1DF6, 0x1DFB, U, 0x2E43, 0x2E4F, U, 0x2E52, 0x2E5D, U,
            0xA82C, 0xA82C, U, 0xA8C5, 0xA8C5, U, 0xA8FF, 0xA8FF, U, 0xA9BD, 0xA9BD, U,
            0x10D24, 0x10D27, U, 0x10D69, 0x10D6E, U, 0x10EAB, 0x10EAD, U, 0x10EFC, 0x10EFF, U,
            0x10F46, 0x10F50, U, 0x10F55, 0x10F59, U, 0x10F82, 0x10F89, U, 0x11070, 0x11070, U,
            0x11073, 0x11074, U, 0x110C2, 0x110C2, U, 0x110CD, 0x110CD, U, 0x111C9, 0x111C9, P,
            0x111CF, 0x111CF, U, 0x1123E, 0x1123E, U, 0x11241, 0x11241, U, 0x1133B, 0x1133B, U,
            0x113BB, 0x113C0, U, 0x113CE, 0x113CE, U, 0x113D0, 0x113D0, U, 0x113D2, 0x113D2, U,
            0x113D4, 0x113D5, U, 0x113D7, 0x113D8, U, 0x113E1, 0x113E2, U, 0x11438, 0x1143F, U,
            0x11442, 0x11444, U, 0x11446, 0x11446, U, 0x1144B, 0x1144F, U, 0x1145A, 0x1145B, U,
            0x1145D, 0x1145E, U, 0x11660, 0x1166C, U, 0x116B9, 0x116B9, U, 0x1171E, 0x1171E, M,
            0x1182F, 0x11837, U, 0x11839, 0x1183B, U, 0x1193B, 0x1193C, U, 0x1193E, 0x1193E, U,
            0x11943, 0x11946, U, 0x119D4, 0x119D7, U, 0x119DA, 0x119DB, U, 0x119E0, 0x119E0, U,
            0x119E2, 0x119E2, U, 0x11A01, 0x11A0A, U, 0x11A33, 0x11A38, U, 0x11A3B, 0x11A47, U,
            0x11A51, 0x11A56, U, 0x11A59, 0x11A5B, U, 0x11A8A, 0x11A96, U, 0x11A98, 0x11A9C, U,
            0x11A9E, 0x11AA2, U, 0x11B00, 0x11B09, U, 0x11BE1, 0x11BE1, U, 0x11C30, 0x11C36, U,
            0x11C38, 0x11C3D, U, 0x11C3F, 0x11C3F, U, 0x11C41, 0x11C45, U, 0x11C70, 0x11C71, U,
            0x11C92, 0x11CA7, U, 0x11CAA, 0x11CB0, U, 0x11CB2, 0x11CB3, U, 0x11CB5, 0x11CB6, U,
            0x11D31, 0x11D36, U, 0x11D3A, 0x11D3A, U, 0x11D3C, 0x11D3D, U, 0x11D3F, 0x11D45, U,
            0x11D47, 0x11D47, U, 0x11D90, 0x11D91, U, 0x11D95, 0x11D95, U, 0x11D97, 0x11D97, U,
            0x11EF3, 0x11EF4, U, 0x11EF7, 0x11EF8, U, 0x11F00, 0x11F01, U, 0x11F36, 0x11F3A, U,
            0x11F40, 0x11F40, U, 0x11F42, 0x11F4F, U, 0x11F5A, 0x11F5A, U, 0x11FFF, 0x11FFF, U,
            0x12FF1, 0x12FF2, U, 0x13430, 0x13440, U, 0x13447, 0x13455, U, 0x1611E, 0x16129, U,
            0x1612D, 0x1612F, U, 0x16D6D, 0x16D6F, U, 0x16E97, 0x16E9A, U, 0x16F4F, 0x16F4F, U,
            0x16FE2, 0x16FE2, U, 0x16FE4, 0x16FE4, U, 0x1CF00, 0x1CF2D, U, 0x1CF30, 0x1CF46, U,
            0x1E000, 0x1E006, U, 0x1E008, 0x1E018, U, 0x1E01B, 0x1E021, U, 0x1E023, 0x1E024, U,
            0x1E026, 0x1E02A, U, 0x1E08F, 0x1E08F, U, 0x1E130, 0x1E136, U, 0x1E2AE, 0x1E2AE, U,
            0x1E2EC, 0x1E2EF, U, 0x1E4EC, 0x1E4EF, U, 0x1E5EE, 0x1E5EF, U, 0x1E5FF, 0x1E5FF, U,
            0x1E944, 0x1E94A, U, 0x1E95E, 0x1E95F, U

    };

    /** The general category as HF's tables give it, as a {@link Character#getType} constant. */
    static int hfType(int c) {
        int lo = 0;
        int hi = LEGACY.length / 3 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int first = LEGACY[mid * 3];
            if (c < first) hi = mid - 1;
            else if (c > LEGACY[mid * 3 + 1]) lo = mid + 1;
            else return LEGACY[mid * 3 + 2];
        }
        return Character.getType(c);
    }

    /** Rust's {@code char::is_whitespace}: the Unicode White_Space property. */
    static boolean isWhitespace(int c) {
        return switch (c) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> c >= 0x2000 && c <= 0x200A;
        };
    }

    /** HF's {@code is_control}: category C*, except tab, newline and carriage return (which are whitespace). */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        return switch (hfType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> true;
            default -> false;
        };
    }

    /** HF's BERT punctuation: any ASCII non-alphanumeric printable character, or Unicode category P*. */
    static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
            return true;
        return switch (hfType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /**
     * The CJK ideograph blocks HF surrounds with spaces. These are HF's ranges, not the Unicode blocks:
     * HF (after the original BERT) skips Extension C's tail and starts the next range at U+2B920.
     */
    static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF)
                || (c >= 0x3400 && c <= 0x4DBF)
                || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F)
                || (c >= 0x2B740 && c <= 0x2B81F)
                || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF)
                || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /** Unicode category Mn, the marks that accent stripping drops after NFD. */
    static boolean isNonspacingMark(int c) {
        return hfType(c) == Character.NON_SPACING_MARK;
    }

    /**
     * Rust's {@code char::to_lowercase} of one code point, appended to {@code out}. It applies the full
     * (unconditional) case mapping, which differs from Java's simple mapping only for U+0130 (İ → i̇).
     */
    static void appendLowercase(int c, StringBuilder out) {
        if (c == 0x130) out.append("i\u0307");
        else out.appendCodePoint(Character.toLowerCase(c));
    }
}
