package dev.univar.corpus;

import java.util.Comparator;

/** What UniVaR tells apart: one LLM in one language. */
public record Key(String model, String lang) implements Comparable<Key> {
    private static final Comparator<Key> ORDER = Comparator.comparing(Key::model).thenComparing(Key::lang);

    @Override
    public int compareTo(Key o) {
        return ORDER.compare(this, o);
    }

    /**
     * {@code model/lang}. Keys are compared, grouped and labelled as pairs, never by this text; it is unambiguous
     * for a corpus read from a file, which may have a {@code /} in a model name but not in a language.
     */
    @Override
    public String toString() {
        return model + "/" + lang;
    }
}
