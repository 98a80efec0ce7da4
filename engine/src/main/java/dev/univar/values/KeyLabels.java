package dev.univar.values;

import dev.univar.corpus.Key;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The classes identification tells apart: keys (an LLM in a language), LLMs with the language dropped, or languages
 * with the LLM dropped. Classes are (model, language) pairs in key order, never their printed names: model
 * {@code a/b} in {@code en} and model {@code a} in {@code b/en} print alike but are two classes.
 */
public record KeyLabels(Label label, List<Key> classes) {
    /** What a class is: {@code --label model}, {@code lang} or {@code model-lang}. */
    public enum Label {
        MODEL("model"), LANG("lang"), MODEL_LANG("model-lang");

        public final String option;

        Label(String option) {
            this.option = option;
        }

        /** The label an option value names; IllegalArgumentException listing the values for any other. */
        public static Label parse(String value) {
            for (Label l : values()) if (l.option.equals(value)) return l;
            throw new IllegalArgumentException("label must be model, lang or model-lang, got '" + value + "'");
        }
    }

    public KeyLabels {
        classes = List.copyOf(classes);
    }

    /** The class of key {@code k}: itself, without its language, or without its LLM. */
    public static Key classOf(Key k, Label label) {
        return switch (label) {
            case MODEL -> new Key(k.model(), "");
            case LANG -> new Key("", k.lang());
            case MODEL_LANG -> k;
        };
    }

    public static KeyLabels of(Collection<Key> keys, Label label) {
        TreeSet<Key> s = new TreeSet<>();
        for (Key k : keys) s.add(classOf(k, label));
        return new KeyLabels(label, new ArrayList<>(s));
    }

    public int size() {
        return classes.size();
    }

    /** The index of {@code k}'s class; -1 if it has none here. */
    public int indexOf(Key k) {
        int i = java.util.Collections.binarySearch(classes, classOf(k, label));
        return i < 0 ? -1 : i;
    }

    /** Printed names: the LLM, the language, or {@code model/lang}. */
    public List<String> names() {
        return classes.stream().map(k -> k.model().isEmpty() ? k.lang() : k.lang().isEmpty() ? k.model() : k.toString()).toList();
    }

    /**
     * Embedded views labelled by class, their source the index of their key among the views' distinct keys, in
     * key order.
     */
    public EmbeddedViews embedded(List<Views.View> views, float[][] x) {
        TreeMap<Key, Integer> source = new TreeMap<>();
        for (Views.View v : views) source.put(v.key(), 0);
        int n = 0;
        for (var e : source.entrySet()) e.setValue(n++);
        int[] label = new int[views.size()], src = new int[views.size()];
        List<List<String>> questions = new ArrayList<>();
        for (int i = 0; i < views.size(); i++) {
            label[i] = indexOf(views.get(i).key());
            if (label[i] < 0) throw new IllegalArgumentException("key " + views.get(i).key() + " has no class");
            src[i] = source.get(views.get(i).key());
            questions.add(views.get(i).questionIds());
        }
        return new EmbeddedViews(x, label, src, questions);
    }
}
