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
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Streams the records of a UTF-8 input file in file order, without holding the file in memory:
 * <ul>
 *   <li>{@code .txt}: one record per line with the single field {@value #TXT_FIELD} (an empty line is an empty text);</li>
 *   <li>{@code .jsonl}/{@code .ndjson}: one JSON object per line; blank lines are skipped;</li>
 *   <li>{@code .csv}: RFC 4180 with a header row; quoted fields may span lines.</li>
 * </ul>
 * A leading byte-order mark is ignored. Every problem is an {@link InputException} naming the file and line.
 */
public final class RecordSource implements Iterator<RecordSource.Row>, AutoCloseable {
    /** The field name of a {@code .txt} line. */
    public static final String TXT_FIELD = "text";

    public enum Format { TXT, JSONL, CSV }

    /** One record and the 1-based line of the file where it starts. */
    public sealed interface Row {
        long line();

        Path file();

        boolean has(String field);

        /** The field names of this record, in file order. */
        List<String> fields();

        /**
         * The field as text: a JSON string, number or boolean (its JSON spelling), or a CSV cell. Absent, null,
         * an object or an array is an error naming file, line and field.
         */
        String scalar(String field);

        /** As {@link #scalar}, but a JSON value must be a string. */
        String string(String field);
    }

    private record TxtRow(Path file, long line, String text) implements Row {
        public boolean has(String field) {
            return true;
        }

        public List<String> fields() {
            return List.of(TXT_FIELD);
        }

        public String scalar(String field) {
            return text;
        }

        public String string(String field) {
            return text;
        }
    }

    private record JsonRow(Path file, long line, JsonObject obj) implements Row {
        public boolean has(String field) {
            return obj.has(field) && !obj.get(field).isJsonNull();
        }

        public List<String> fields() {
            return List.copyOf(obj.keySet());
        }

        public String scalar(String field) {
            JsonElement v = obj.get(field);
            if (v == null)
                throw new InputException(file, line, "no field '" + field + "'; the fields are " + obj.keySet());
            if (!v.isJsonPrimitive())
                throw new InputException(file, line, "field '" + field + "' is " + kind(v) + ", not text");
            return v.getAsString();
        }

        public String string(String field) {
            String s = scalar(field);
            if (!obj.get(field).getAsJsonPrimitive().isString())
                throw new InputException(file, line, "field '" + field + "' is " + kind(obj.get(field)) + ", not a string");
            return s;
        }
    }

    private record CsvRow(Path file, long line, CSVRecord record, List<String> fields) implements Row {
        public boolean has(String field) {
            return record.isMapped(field) && record.isSet(field);
        }

        public String scalar(String field) {
            if (!record.isMapped(field))
                throw new InputException(file, line, "no column '" + field + "'; the columns are " + fields);
            if (!record.isSet(field))
                throw new InputException(file, line, "record has " + record.size() + " fields, no value for column '" + field + "'");
            return record.get(field);
        }

        public String string(String field) {
            return scalar(field);
        }
    }

    private final Path file;
    private final Format format;
    private final CountingStream counting;
    private final long fileSize;
    private final Utf8LineReader reader;
    private final CSVParser csv;
    private final Iterator<CSVRecord> csvRows;
    private final List<String> csvColumns;
    private Row next;

    private RecordSource(Path file, Format format) {
        this.file = file;
        this.format = format;
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
            this.csvColumns = csv.getHeaderNames() == null ? List.of() : List.copyOf(csv.getHeaderNames());
            this.csvRows = csv.iterator();
        } else {
            this.csv = null;
            this.csvRows = null;
            this.csvColumns = List.of();
        }
    }

    /** Opens {@code file}, choosing the format from its extension. */
    public static RecordSource open(Path file) {
        return new RecordSource(file, formatOf(file));
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

    /** The CSV header's column names (empty for other formats). */
    public List<String> columns() {
        return csvColumns;
    }

    /** For CSV: an error naming the header line unless every one of {@code required} is a column. */
    public void requireColumns(Set<String> required, String hint) {
        if (format != Format.CSV) return;
        for (String c : required) {
            if (!csvColumns.contains(c))
                throw new InputException(file, 1, "no column '" + c + "'; the columns are " + csvColumns + hint);
        }
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
    public Row next() {
        if (!hasNext()) throw new NoSuchElementException();
        Row r = next;
        next = null;
        return r;
    }

    private Row readNext() {
        return switch (format) {
            case TXT -> {
                String line = readLine();
                yield line == null ? null : new TxtRow(file, reader.lineNumber(), line);
            }
            case JSONL -> readJsonl();
            case CSV -> readCsv();
        };
    }

    private String readLine() {
        try {
            return reader.readLine();
        } catch (IOException e) {
            throw new InputException(file, reader.lineNumber() + 1, "read failed: " + e.getMessage(), e);
        }
    }

    private Row readJsonl() {
        String line;
        do {
            line = readLine();
            if (line == null) return null;
        } while (line.isBlank());
        long lineNo = reader.lineNumber();
        JsonElement element;
        try {
            element = JsonParser.parseString(line);
        } catch (JsonParseException e) {
            throw new InputException(file, lineNo, "malformed JSON: " + rootMessage(e), e);
        }
        if (!element.isJsonObject())
            throw new InputException(file, lineNo, "expected a JSON object, found " + kind(element));
        return new JsonRow(file, lineNo, element.getAsJsonObject());
    }

    private Row readCsv() {
        try {
            if (!csvRows.hasNext()) return null;
            CSVRecord row = csvRows.next();
            return new CsvRow(file, reader.lineAt(row.getCharacterPosition()), row, csvColumns);
        } catch (UncheckedIOException | IllegalStateException e) {
            // The parser counts the lines it has lexed, so this is the line where the record went wrong.
            throw new InputException(file, csv.getCurrentLineNumber(), "malformed CSV: " + rootMessage(e), e);
        }
    }

    static String kind(JsonElement e) {
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

    /** Counts bytes read so progress can be estimated without knowing the number of records in advance. */
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
