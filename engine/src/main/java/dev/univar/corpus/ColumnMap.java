package dev.univar.corpus;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which input column (CSV) or field (JSONL) holds each part of a QA pair. Parsed from
 * {@code --columns question=full_prompt,answer=completion,model=model,lang=lang,question_id=pct_id}; parts not
 * named keep their default name. {@code lang} and {@code question_id} are optional in the input unless named
 * explicitly: lang then defaults to {@code en}, question_id to the question text.
 */
public record ColumnMap(String question, String answer, String model, String lang, String questionId,
                        Set<String> explicit) {
    public static final ColumnMap DEFAULTS = new ColumnMap("question", "answer", "model", "lang", "question_id", Set.of());
    private static final Set<String> PARTS = Set.of("question", "answer", "model", "lang", "question_id");

    public ColumnMap {
        // Sorted, so that toString (part of a training run's identity, which --resume compares across JVMs) does
        // not depend on Set.copyOf's iteration order, which is randomised per JVM.
        explicit = Collections.unmodifiableSortedSet(new TreeSet<>(explicit));
    }

    /** Parses {@code part=column,...}; an unknown part or a malformed entry is an IllegalArgumentException. */
    public static ColumnMap parse(String spec) {
        if (spec == null || spec.isBlank()) return DEFAULTS;
        Map<String, String> m = new LinkedHashMap<>();
        for (String entry : spec.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) continue;
            int eq = e.indexOf('=');
            if (eq <= 0 || eq == e.length() - 1)
                throw new IllegalArgumentException("--columns: '" + e + "' is not PART=COLUMN (parts: question, answer, model, lang, question_id)");
            String part = e.substring(0, eq).strip(), column = e.substring(eq + 1).strip();
            if (!PARTS.contains(part))
                throw new IllegalArgumentException("--columns: unknown part '" + part + "' (parts: question, answer, model, lang, question_id)");
            if (m.put(part, column) != null) throw new IllegalArgumentException("--columns: '" + part + "' given twice");
        }
        return new ColumnMap(m.getOrDefault("question", "question"), m.getOrDefault("answer", "answer"),
                m.getOrDefault("model", "model"), m.getOrDefault("lang", "lang"),
                m.getOrDefault("question_id", "question_id"), m.keySet());
    }

    /** Columns every record must have. */
    public Set<String> required() {
        var s = new java.util.LinkedHashSet<>(java.util.List.of(question, answer, model));
        if (explicit.contains("lang")) s.add(lang);
        if (explicit.contains("question_id")) s.add(questionId);
        return s;
    }
}
