package dev.univar.values;

import dev.univar.data.RecordSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** Answers with the LLM that wrote them and the question they answer, read from a CSV with a header row. */
public record LabelledTexts(List<String> labels, List<String> questions, List<String> texts) {

    public LabelledTexts {
        if (labels.size() != texts.size() || questions.size() != texts.size())
            throw new IllegalArgumentException("labels, questions and texts differ in length");
        labels = List.copyOf(labels);
        questions = List.copyOf(questions);
        texts = List.copyOf(texts);
    }

    public int size() {
        return texts.size();
    }

    /**
     * Reads columns {@code labelColumn}, {@code questionColumn} and {@code textColumn} of a UTF-8 CSV file, as strictly
     * as {@link RecordSource} reads any CSV: a record with more or fewer fields than the header is an error naming
     * its line.
     */
    public static LabelledTexts readCsv(Path file, String labelColumn, String questionColumn, String textColumn) {
        List<String> labels = new ArrayList<>(), questions = new ArrayList<>(), texts = new ArrayList<>();
        try (RecordSource csv = RecordSource.open(file, RecordSource.Format.CSV)) {
            csv.requireColumns(new LinkedHashSet<>(List.of(labelColumn, questionColumn, textColumn)), "");
            while (csv.hasNext()) {
                RecordSource.Row row = csv.next();
                labels.add(row.scalar(labelColumn));
                questions.add(row.scalar(questionColumn));
                texts.add(row.scalar(textColumn));
            }
        }
        return new LabelledTexts(labels, questions, texts);
    }
}
