package dev.univar.values;

import dev.univar.data.InputException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
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

    /** Reads columns {@code labelColumn}, {@code questionColumn} and {@code textColumn} of a UTF-8 CSV file. */
    public static LabelledTexts readCsv(Path file, String labelColumn, String questionColumn, String textColumn) {
        List<String> labels = new ArrayList<>(), questions = new ArrayList<>(), texts = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader)) {
            for (String column : List.of(labelColumn, questionColumn, textColumn)) {
                if (!csv.getHeaderMap().containsKey(column))
                    throw new InputException(file, 1, "no column '" + column + "'; the columns are " + csv.getHeaderNames());
            }
            for (CSVRecord row : csv) {
                if (!row.isSet(labelColumn) || !row.isSet(questionColumn) || !row.isSet(textColumn))
                    throw new InputException(file, row.getRecordNumber() + 1, "record has too few fields");
                labels.add(row.get(labelColumn));
                questions.add(row.get(questionColumn));
                texts.add(row.get(textColumn));
            }
        } catch (NoSuchFileException e) {
            throw new InputException(file, 0, "no such file");
        } catch (IOException | UncheckedIOException e) {
            throw new InputException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        return new LabelledTexts(labels, questions, texts);
    }
}
