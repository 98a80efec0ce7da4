package dev.univar.collect;

import java.util.Locale;
import java.util.regex.Pattern;

/** Language codes as the pipeline writes them: BCP 47 tags ({@code en}, {@code zh-Hant}), never with a '/'. */
public final class Languages {
    private static final Pattern TAG = Pattern.compile("[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*");

    private Languages() {
    }

    /** Whether {@code tag} has the shape of a BCP 47 tag (a primary language, then subtags). */
    public static boolean isTag(String tag) {
        return tag != null && TAG.matcher(tag).matches();
    }

    /** BCP 47 tags compare without regard to case. */
    public static boolean same(String a, String b) {
        return a.equalsIgnoreCase(b);
    }

    /** The language's English name ({@code Chinese (Traditional)} for {@code zh-Hant}); the tag itself if unknown. */
    public static String name(String tag) {
        String n = Locale.forLanguageTag(tag).getDisplayName(Locale.ENGLISH);
        return n.isEmpty() ? tag : n;
    }
}
