package dev.univar.corpus;

import dev.univar.data.InputException;
import dev.univar.data.RecordSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A corpus of LLM answers: QA pairs read from a CSV or JSONL file, or from every {@code .csv}/{@code .jsonl}
 * file under a folder (sorted by path). In a folder, a CSV whose header lacks the mapped columns is skipped with
 * a notice (e.g. a file of question metadata beside the answers); a single file must have them.
 */
public record Corpus(List<QaPair> pairs) {

    public Corpus {
        pairs = List.copyOf(pairs);
    }

    public static Corpus read(Path path, ColumnMap columns, Consumer<String> notices) {
        if (Files.isDirectory(path)) {
            List<Path> files;
            try (Stream<Path> s = Files.walk(path)) {
                files = s.filter(Files::isRegularFile).filter(Corpus::isCorpusFile).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": cannot list: " + e.getMessage(), e);
            }
            if (files.isEmpty()) throw new InputException(path, 0, "no .csv or .jsonl files in this folder");
            List<QaPair> all = new ArrayList<>();
            for (Path f : files) {
                try (RecordSource src = RecordSource.open(f)) {
                    if (src.format() == RecordSource.Format.CSV && !src.columns().containsAll(columns.required())) {
                        notices.accept("skipping " + f + ": its columns " + src.columns() + " lack some of " + columns.required());
                        continue;
                    }
                    readInto(src, columns, all);
                }
            }
            if (all.isEmpty()) throw new InputException(path, 0, "no QA pairs found (columns " + columns.required() + ")");
            return new Corpus(all);
        }
        if (!Files.exists(path)) throw new InputException(path, 0, "no such file or folder");
        if (!isCorpusFile(path)) throw new InputException(path, 0, "a corpus is a .csv or .jsonl file, or a folder of them");
        List<QaPair> all = new ArrayList<>();
        try (RecordSource src = RecordSource.open(path)) {
            src.requireColumns(columns.required(), " (map them with --columns question=…,answer=…,model=…)");
            readInto(src, columns, all);
        }
        return new Corpus(all);
    }

    private static boolean isCorpusFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".csv") || n.endsWith(".jsonl") || n.endsWith(".ndjson");
    }

    private static void readInto(RecordSource src, ColumnMap c, List<QaPair> out) {
        while (src.hasNext()) {
            RecordSource.Row row = src.next();
            String question = row.scalar(c.question());
            String lang = row.has(c.lang()) || c.explicit().contains("lang") ? row.scalar(c.lang()) : "en";
            String qid = row.has(c.questionId()) || c.explicit().contains("question_id") ? row.scalar(c.questionId()) : question;
            String model = row.scalar(c.model());
            if (model.isBlank()) throw new InputException(row.file(), row.line(), "empty model name");
            // A key prints as model/lang: with no '/' in the language, that text names one (model, language) pair.
            if (lang.indexOf('/') >= 0)
                throw new InputException(row.file(), row.line(), "language '" + lang + "' (" + row.describe(c.lang())
                        + ") contains '/'; language codes are BCP 47 tags such as en or zh-Hant");
            out.add(new QaPair(qid, question, row.scalar(c.answer()), model, lang.isBlank() ? "en" : lang));
        }
    }

    public int size() {
        return pairs.size();
    }

    /** Keys in sorted order. */
    public List<Key> keys() {
        return List.copyOf(byKey().keySet());
    }

    /** Pairs grouped by key, keys sorted, pairs in corpus order. */
    public Map<Key, List<QaPair>> byKey() {
        Map<Key, List<QaPair>> m = new TreeMap<>();
        for (QaPair p : pairs) m.computeIfAbsent(p.key(), k -> new ArrayList<>()).add(p);
        return m;
    }

    /** Distinct question ids in first-seen order. */
    public List<String> questionIds() {
        Set<String> s = new LinkedHashSet<>();
        for (QaPair p : pairs) s.add(p.questionId());
        return List.copyOf(s);
    }

    /** The pairs whose question id is in {@code questions}. */
    public Corpus restrictTo(Set<String> questions) {
        return new Corpus(pairs.stream().filter(p -> questions.contains(p.questionId())).toList());
    }

    /** Distinct models. */
    public Set<String> models() {
        Set<String> s = new java.util.TreeSet<>();
        for (QaPair p : pairs) s.add(p.model());
        return Collections.unmodifiableSet(s);
    }
}
