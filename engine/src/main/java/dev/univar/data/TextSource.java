package dev.univar.data;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Streams the texts of an input file, in file order: each line of a {@code .txt}, or field/column
 * {@code textField} of each {@code .jsonl} object or {@code .csv} record (see {@link RecordSource}). A JSON value
 * must be a string. Every problem is an {@link InputException} naming the file and line.
 */
public final class TextSource implements Iterator<TextRecord>, AutoCloseable {
    private static final String HINT = " (choose one with --text-field)";
    private final RecordSource records;
    private final String textField;

    private TextSource(RecordSource records, String textField) {
        this.records = records;
        this.textField = textField;
    }

    /** Opens {@code file}, choosing the format from its extension ({@code .txt}, {@code .jsonl}/{@code .ndjson}, {@code .csv}). */
    public static TextSource open(Path file, String textField) {
        RecordSource records = RecordSource.open(file);
        try {
            records.requireColumns(Set.of(textField), HINT);
        } catch (RuntimeException e) {
            records.close();
            throw e;
        }
        return new TextSource(records, textField);
    }

    public Path file() {
        return records.file();
    }

    /** Fraction of the file's bytes consumed so far, for progress and ETA. */
    public double progress() {
        return records.progress();
    }

    @Override
    public boolean hasNext() {
        return records.hasNext();
    }

    @Override
    public TextRecord next() {
        if (!hasNext()) throw new NoSuchElementException();
        RecordSource.Row row = records.next();
        if (records.format() == RecordSource.Format.JSONL && !row.fields().contains(textField))
            throw new InputException(row.file(), row.line(), "no field '" + textField + "'; the fields are "
                    + row.fields() + HINT);
        return new TextRecord(row.string(textField), row.line());
    }

    @Override
    public void close() {
        records.close();
    }
}
