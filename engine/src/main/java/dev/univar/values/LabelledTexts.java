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

/** Texts with a label (which LLM wrote them), read from a CSV with a header row. */
public record LabelledTexts(List<String> labels, List<String> texts) {

    public LabelledTexts {
        if (labels.size() != texts.size()) throw new IllegalArgumentException("labels and texts differ in length");
        labels = List.copyOf(labels);
        texts = List.copyOf(texts);
    }

    public int size() {
        return texts.size();
    }

    /** Reads columns {@code labelColumn} and {@code textColumn} of a UTF-8 CSV file. */
    public static LabelledTexts readCsv(Path file, String labelColumn, String textColumn) {
        List<String> labels = new ArrayList<>(), texts = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader)) {
            for (String column : List.of(labelColumn, textColumn)) {
                if (!csv.getHeaderMap().containsKey(column))
                    throw new InputException(file, 1, "no column '" + column + "'; the columns are " + csv.getHeaderNames());
            }
            for (CSVRecord row : csv) {
                if (!row.isSet(labelColumn) || !row.isSet(textColumn))
                    throw new InputException(file, row.getRecordNumber() + 1, "row has too few fields");
                labels.add(row.get(labelColumn));
                texts.add(row.get(textColumn));
            }
        } catch (NoSuchFileException e) {
            throw new InputException(file, 0, "no such file");
        } catch (IOException | UncheckedIOException e) {
            throw new InputException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        return new LabelledTexts(labels, texts);
    }
}
