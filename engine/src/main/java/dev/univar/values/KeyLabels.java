package dev.univar.values;

import dev.univar.corpus.Key;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The classes identification tells apart: keys (an LLM in a language), or LLMs with the language dropped. Classes
 * are (model, language) pairs in key order, never their printed names: model {@code a/b} in {@code en} and model
 * {@code a} in {@code b/en} print alike but are two classes.
 */
public record KeyLabels(boolean byLanguage, List<Key> classes) {
    public KeyLabels {
        classes = List.copyOf(classes);
    }

    /** The class of key {@code k}: itself, or without its language. */
    public static Key classOf(Key k, boolean byLanguage) {
        return byLanguage ? k : new Key(k.model(), "");
    }

    public static KeyLabels of(Collection<Key> keys, boolean byLanguage) {
        TreeSet<Key> s = new TreeSet<>();
        for (Key k : keys) s.add(classOf(k, byLanguage));
        return new KeyLabels(byLanguage, new ArrayList<>(s));
    }

    public int size() {
        return classes.size();
    }

    /** The index of {@code k}'s class; -1 if it has none here. */
    public int indexOf(Key k) {
        int i = java.util.Collections.binarySearch(classes, classOf(k, byLanguage));
        return i < 0 ? -1 : i;
    }

    /** Printed names: the LLM, or {@code model/lang}. */
    public List<String> names() {
        return classes.stream().map(k -> k.lang().isEmpty() ? k.model() : k.toString()).toList();
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
