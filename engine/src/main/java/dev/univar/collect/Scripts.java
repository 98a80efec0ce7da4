package dev.univar.collect;

import java.lang.Character.UnicodeScript;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The writing systems a language is written in, from its BCP 47 tag: the script subtag where there is one
 * ({@code sr-Latn}, {@code zh-Hant}), else the usual scripts of the primary language. Used to flag a translation
 * that came back in the wrong script (English text for {@code zh}, say). Unknown languages have no expectation.
 */
final class Scripts {
    private static final Map<String, Set<UnicodeScript>> BY_LANGUAGE = new HashMap<>();

    private static void put(Set<UnicodeScript> scripts, String... languages) {
        for (String l : languages) BY_LANGUAGE.put(l, scripts);
    }

    static {
        put(EnumSet.of(UnicodeScript.LATIN), "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "nn",
                "fi", "is", "pl", "cs", "sk", "sl", "hr", "bs", "hu", "ro", "tr", "az", "uz", "id", "ms", "vi", "tl",
                "fil", "sw", "yo", "ig", "ha", "zu", "xh", "af", "so", "et", "lv", "lt", "sq", "mt", "ga", "cy", "eu",
                "ca", "gl", "eo", "la", "jv", "su", "ceb", "mg", "rw", "ny", "sn", "st", "tn", "wo", "qu", "ht");
        put(EnumSet.of(UnicodeScript.HAN), "zh", "yue", "wuu", "cmn");
        put(EnumSet.of(UnicodeScript.HAN, UnicodeScript.HIRAGANA, UnicodeScript.KATAKANA), "ja");
        put(EnumSet.of(UnicodeScript.HANGUL, UnicodeScript.HAN), "ko");
        put(EnumSet.of(UnicodeScript.CYRILLIC), "ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "mn", "tt", "ba");
        put(EnumSet.of(UnicodeScript.ARABIC), "ar", "fa", "ur", "ps", "ckb", "sd", "ug", "arz", "ary", "apc");
        put(EnumSet.of(UnicodeScript.HEBREW), "he", "iw", "yi");
        put(EnumSet.of(UnicodeScript.GREEK), "el");
        put(EnumSet.of(UnicodeScript.ARMENIAN), "hy");
        put(EnumSet.of(UnicodeScript.GEORGIAN), "ka");
        put(EnumSet.of(UnicodeScript.DEVANAGARI), "hi", "mr", "ne", "sa", "mai", "bho");
        put(EnumSet.of(UnicodeScript.BENGALI), "bn", "as");
        put(EnumSet.of(UnicodeScript.GURMUKHI), "pa");
        put(EnumSet.of(UnicodeScript.GUJARATI), "gu");
        put(EnumSet.of(UnicodeScript.ORIYA), "or");
        put(EnumSet.of(UnicodeScript.TAMIL), "ta");
        put(EnumSet.of(UnicodeScript.TELUGU), "te");
        put(EnumSet.of(UnicodeScript.KANNADA), "kn");
        put(EnumSet.of(UnicodeScript.MALAYALAM), "ml");
        put(EnumSet.of(UnicodeScript.SINHALA), "si");
        put(EnumSet.of(UnicodeScript.THAI), "th");
        put(EnumSet.of(UnicodeScript.LAO), "lo");
        put(EnumSet.of(UnicodeScript.KHMER), "km");
        put(EnumSet.of(UnicodeScript.MYANMAR), "my");
        put(EnumSet.of(UnicodeScript.TIBETAN), "bo", "dz");
        put(EnumSet.of(UnicodeScript.ETHIOPIC), "am", "ti");
    }

    /** Script subtags that are not Unicode script names (ISO 15924 codes for combinations and variants). */
    private static final Map<String, Set<UnicodeScript>> SUBTAGS = Map.of(
            "hans", EnumSet.of(UnicodeScript.HAN), "hant", EnumSet.of(UnicodeScript.HAN),
            "jpan", EnumSet.of(UnicodeScript.HAN, UnicodeScript.HIRAGANA, UnicodeScript.KATAKANA),
            "kore", EnumSet.of(UnicodeScript.HANGUL, UnicodeScript.HAN));

    private Scripts() {
    }

    /** The scripts text in {@code tag} is written in; empty when unknown (nothing is then checked). */
    static Set<UnicodeScript> of(String tag) {
        Locale locale = Locale.forLanguageTag(tag);
        String script = locale.getScript().toLowerCase(Locale.ROOT);
        if (!script.isEmpty()) {
            Set<UnicodeScript> s = SUBTAGS.get(script);
            if (s != null) return s;
            try {
                return EnumSet.of(UnicodeScript.forName(script));
            } catch (IllegalArgumentException e) {
                return Set.of();
            }
        }
        return BY_LANGUAGE.getOrDefault(locale.getLanguage(), Set.of());
    }

    /**
     * Null when at least half of the letters of {@code text} are in {@code tag}'s scripts (or there is nothing to
     * check); otherwise what is wrong, naming the script most of the letters are in.
     */
    static String mismatch(String text, String tag) {
        Set<UnicodeScript> expected = of(tag);
        if (expected.isEmpty()) return null;
        Map<UnicodeScript, Integer> counts = new HashMap<>();
        int letters = 0, inScript = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (!Character.isLetter(cp)) continue;
            UnicodeScript s = UnicodeScript.of(cp);
            if (s == UnicodeScript.COMMON || s == UnicodeScript.INHERITED) continue;
            letters++;
            if (expected.contains(s)) inScript++;
            else counts.merge(s, 1, Integer::sum);
        }
        if (letters == 0 || 2 * inScript >= letters) return null;
        UnicodeScript most = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        return "in the wrong script: " + inScript + " of " + letters + " letters are " + names(expected) + " (expected for "
                + tag + "), most are " + name(most);
    }

    private static String names(Set<UnicodeScript> scripts) {
        StringBuilder sb = new StringBuilder();
        for (UnicodeScript s : scripts) sb.append(sb.isEmpty() ? "" : "/").append(name(s));
        return sb.toString();
    }

    private static String name(UnicodeScript s) {
        String n = s.name().toLowerCase(Locale.ROOT);
        return Character.toUpperCase(n.charAt(0)) + n.substring(1);
    }
}
