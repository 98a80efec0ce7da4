package dev.univar.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;

/**
 * Streams the texts of an input file, in file order, without holding the file in memory.
 *
 * <ul>
 *   <li>{@code .txt}: one text per line (an empty line is an empty text);</li>
 *   <li>{@code .jsonl}: one JSON object per line, the text in field {@code textField}; blank lines are skipped;</li>
 *   <li>{@code .csv}: RFC 4180 with a header row, the text in column {@code textField}; quoted fields may span lines.</li>
 * </ul>
 * Input must be UTF-8 (a leading byte-order mark is ignored); each line is decoded on its own so invalid UTF-8
 * is reported on its exact line. Any problem is an {@link InputException} naming
 * the file and line.
 */
public final class TextSource implements Iterator<TextRecord>, AutoCloseable {

    public enum Format { TXT, JSONL, CSV }

    private final Path file;
    private final Format format;
    private final String textField;
    private final CountingStream counting;
    private final long fileSize;
    private final Utf8LineReader reader;
    private final CSVParser csv;
    private final Iterator<CSVRecord> csvRows;
    private long lineNo;
    private TextRecord next;

    private TextSource(Path file, Format format, String textField) {
        this.file = file;
        this.format = format;
        this.textField = textField;
        try {
            this.fileSize = Files.size(file);
            this.counting = new CountingStream(Files.newInputStream(file));
        } catch (NoSuchFileException e) {
            throw new InputException(file, 0, "no such file");
        } catch (IOException e) {
            throw new InputException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        this.reader = new Utf8LineReader(file, counting);
        if (format == Format.CSV) {
            try {
                this.csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader);
            } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                throw new InputException(file, 1, "cannot read the CSV header: " + rootMessage(e), e);
            }
            if (csv.getHeaderMap() == null || !csv.getHeaderMap().containsKey(textField)) {
                throw new InputException(file, 1, "no column '" + textField + "'; the columns are "
                        + (csv.getHeaderNames() == null ? "[]" : csv.getHeaderNames())
                        + " (choose one with --text-field)");
            }
            this.csvRows = csv.iterator();
        } else {
            this.csv = null;
            this.csvRows = null;
        }
    }

    /** Opens {@code file}, choosing the format from its extension ({@code .txt}, {@code .jsonl}/{@code .ndjson}, {@code .csv}). */
    public static TextSource open(Path file, String textField) {
        return new TextSource(file, formatOf(file), textField);
    }

    public static Format formatOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".txt")) return Format.TXT;
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return Format.JSONL;
        if (name.endsWith(".csv")) return Format.CSV;
        throw new InputException(file, 0, "unknown input format: use .txt (one text per line), .jsonl or .csv");
    }

    public Path file() {
        return file;
    }

    public Format format() {
        return format;
    }

    /** Fraction of the file's bytes consumed so far, for progress and ETA. */
    public double progress() {
        return fileSize == 0 ? 1.0 : Math.min(1.0, (double) counting.count / fileSize);
    }

    @Override
    public boolean hasNext() {
        if (next == null) next = readNext();
        return next != null;
    }

    @Override
    public TextRecord next() {
        if (!hasNext()) throw new NoSuchElementException();
        TextRecord r = next;
        next = null;
        return r;
    }

    private TextRecord readNext() {
        return switch (format) {
            case TXT -> readTxt();
            case JSONL -> readJsonl();
            case CSV -> readCsv();
        };
    }

    private String readLine() {
        try {
            String line = reader.readLine();
            lineNo = reader.lineNumber();
            return line;
        } catch (IOException e) {
            throw new InputException(file, lineNo + 1, "read failed: " + e.getMessage(), e);
        }
    }

    private TextRecord readTxt() {
        String line = readLine();
        return line == null ? null : new TextRecord(line, lineNo);
    }

    private TextRecord readJsonl() {
        String line;
        do {
            line = readLine();
            if (line == null) return null;
        } while (line.isBlank());
        JsonElement element;
        try {
            element = JsonParser.parseString(line);
        } catch (JsonParseException e) {
            throw new InputException(file, lineNo, "malformed JSON: " + rootMessage(e), e);
        }
        if (!element.isJsonObject())
            throw new InputException(file, lineNo, "expected a JSON object, found " + kind(element));
        JsonObject obj = element.getAsJsonObject();
        JsonElement value = obj.get(textField);
        if (value == null)
            throw new InputException(file, lineNo, "no field '" + textField + "'; the fields are " + obj.keySet()
                    + " (choose one with --text-field)");
        if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString())
            throw new InputException(file, lineNo, "field '" + textField + "' is " + kind(value) + ", not a string");
        return new TextRecord(value.getAsString(), lineNo);
    }

    private TextRecord readCsv() {
        try {
            if (!csvRows.hasNext()) return null;
            CSVRecord row = csvRows.next();
            long line = reader.lineAt(row.getCharacterPosition());
            if (!row.isSet(textField))
                throw new InputException(file, line, "row has " + row.size() + " fields, no value for column '"
                        + textField + "'");
            return new TextRecord(row.get(textField), line);
        } catch (UncheckedIOException | IllegalStateException e) {
            // The parser counts the lines it has lexed, so this is the line where the record went wrong.
            throw new InputException(file, csv.getCurrentLineNumber(), "malformed CSV: " + rootMessage(e), e);
        }
    }

    private static String kind(JsonElement e) {
        if (e.isJsonNull()) return "null";
        if (e.isJsonArray()) return "an array";
        if (e.isJsonObject()) return "an object";
        if (e.getAsJsonPrimitive().isNumber()) return "a number";
        if (e.getAsJsonPrimitive().isBoolean()) return "a boolean";
        return "a string";
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    @Override
    public void close() {
        try {
            if (csv != null) csv.close();
            reader.close();
        } catch (IOException ignored) {
            // closing a read-only input: nothing to recover
        }
    }

    /** Counts bytes read so progress can be estimated without knowing the number of texts in advance. */
    private static final class CountingStream extends FilterInputStream {
        volatile long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count++;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) count += n;
            return n;
        }
    }
}
