package dev.univar.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Streams the records of a UTF-8 input file in file order, without holding the file in memory:
 * <ul>
 *   <li>{@code .txt}: one record per line with the single field {@value #TXT_FIELD} (an empty line is an empty text);</li>
 *   <li>{@code .jsonl}/{@code .ndjson}: one JSON object per line, strict RFC 8259 (no single quotes, comments,
 *   unquoted names or NaN) and no name twice in an object; blank lines are skipped;</li>
 *   <li>{@code .csv}: RFC 4180 with a header row of distinct names; every record has as many fields as the header;
 *   quoted fields may span lines.</li>
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

        /** How error messages name {@code field}: {@code column 'x'} in a CSV, {@code field 'x'} otherwise. */
        default String describe(String field) {
            return "field '" + field + "'";
        }

        /** The whole record as a new JSON object: JSON values as they are, CSV cells and text lines as strings. */
        JsonObject toJson();
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

        public JsonObject toJson() {
            JsonObject o = new JsonObject();
            o.addProperty(TXT_FIELD, text);
            return o;
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
            JsonElement v = present(field);
            if (!v.isJsonPrimitive())
                throw new InputException(file, line, "field '" + field + "' is " + kind(v) + "; expected a string or number");
            return v.getAsString();
        }

        public String string(String field) {
            JsonElement v = present(field);
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
                throw new InputException(file, line, "field '" + field + "' is " + kind(v)
                        + (v.isJsonPrimitive() ? " (" + v.getAsString() + ")" : "") + "; expected a string");
            return v.getAsString();
        }

        public JsonObject toJson() {
            return obj.deepCopy();
        }

        private JsonElement present(String field) {
            JsonElement v = obj.get(field);
            if (v == null)
                throw new InputException(file, line, "no field '" + field + "'; the fields are " + obj.keySet());
            return v;
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

        public String describe(String field) {
            return "column '" + field + "'";
        }

        public JsonObject toJson() {
            JsonObject o = new JsonObject();
            for (String f : fields) o.addProperty(f, record.get(f));
            return o;
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
                // Duplicate names are let through here and rejected below, with a message that names the column.
                this.csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
                        .setDuplicateHeaderMode(DuplicateHeaderMode.ALLOW_ALL).get().parse(reader);
            } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                close();
                throw new InputException(file, 1, "cannot read the CSV header: " + rootMessage(e), e);
            }
            this.csvColumns = csv.getHeaderNames() == null ? List.of() : List.copyOf(csv.getHeaderNames());
            Set<String> seen = new HashSet<>();
            for (String c : csvColumns)
                if (!seen.add(c)) {
                    close();
                    throw new InputException(file, 1, "column '" + c + "' appears twice in the header " + csvColumns
                            + "; which one is meant is ambiguous");
                }
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

    /** Opens {@code file} as {@code format}, whatever its extension. */
    public static RecordSource open(Path file, Format format) {
        return new RecordSource(file, format);
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
        JsonElement element = parseJson(line, lineNo);
        if (!element.isJsonObject())
            throw new InputException(file, lineNo, "expected a JSON object, found " + kind(element));
        return new JsonRow(file, lineNo, element.getAsJsonObject());
    }

    /**
     * One JSON value, strictly: Gson's own parsers are lenient (single quotes, comments, NaN) and keep the last of
     * two values with the same name, so the tree is built here from a strict reader.
     */
    private JsonElement parseJson(String line, long lineNo) {
        JsonReader json = new JsonReader(new StringReader(line));
        json.setStrictness(Strictness.STRICT);
        JsonElement element;
        try {
            element = readValue(json, "", lineNo);
        } catch (IOException | IllegalStateException e) {
            throw new InputException(file, lineNo, "malformed JSON: " + jsonProblem(line, e, false), e);
        }
        try {
            if (json.peek() != JsonToken.END_DOCUMENT) throw new IOException("more than one JSON value on the line");
        } catch (IOException e) {
            throw new InputException(file, lineNo, "malformed JSON: " + jsonProblem(line, e, true), e);
        }
        return element;
    }

    private JsonElement readValue(JsonReader json, String path, long lineNo) throws IOException {
        return switch (json.peek()) {
            case BEGIN_OBJECT -> {
                JsonObject obj = new JsonObject();
                json.beginObject();
                while (json.hasNext()) {
                    String name = json.nextName();
                    String at = path.isEmpty() ? name : path + "." + name;
                    if (obj.has(name))
                        throw new InputException(file, lineNo, (path.isEmpty() ? "field '" + name + "'" : "name '" + name
                                + "' in field '" + path + "'") + " appears twice; which value is meant is ambiguous");
                    obj.add(name, readValue(json, at, lineNo));
                }
                json.endObject();
                yield obj;
            }
            case BEGIN_ARRAY -> {
                JsonArray array = new JsonArray();
                json.beginArray();
                for (int i = 0; json.hasNext(); i++) array.add(readValue(json, path + "[" + i + "]", lineNo));
                json.endArray();
                yield array;
            }
            case STRING -> new JsonPrimitive(json.nextString());
            case NUMBER -> new JsonPrimitive(new JsonNumber(json.nextString()));
            case BOOLEAN -> new JsonPrimitive(json.nextBoolean());
            case NULL -> {
                json.nextNull();
                yield JsonNull.INSTANCE;
            }
            default -> throw new IOException("unexpected " + json.peek());
        };
    }

    private static final Pattern GSON_WHERE = Pattern.compile("(.*?) at line \\d+ column (\\d+) path \\S*", Pattern.DOTALL);

    /**
     * Gson's message for a strict-mode failure, made fit for a user: what is wrong and at which (1-based) column,
     * without its advice to relax the parser or its link.
     */
    private static String jsonProblem(String line, Exception e, boolean afterValue) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        Matcher m = GSON_WHERE.matcher(message);
        if (!m.matches()) return message;
        String reason = m.group(1);
        // Gson's column is at or one past the offending character: start one before it and skip spaces.
        int i = Math.max(0, Integer.parseInt(m.group(2)) - 2);
        while (i < line.length() && Character.isWhitespace(line.charAt(i))) i++;
        int column = i + 1;
        if (afterValue) return "text after the JSON object at column " + column + "; a line holds one object";
        if (reason.startsWith("End of input")) return "the line ends inside the JSON object";
        if (reason.startsWith("Unescaped control characters"))
            return "a control character (tab, newline, ...) in a string at column " + column + "; write it as an escape such as \\t";
        if (reason.startsWith("Expected name")) {
            int j = i - 1;
            while (j >= 0 && Character.isWhitespace(line.charAt(j))) j--;
            if (j >= 0 && line.charAt(j) == ',') return "a comma before '}' at column " + column + "; JSON allows no trailing comma";
        }
        if (reason.startsWith("Use JsonReader.setStrictness")) {
            if (i >= line.length()) return "the line ends inside the JSON object";
            char c = line.charAt(i);
            if (c == '\'') return "single quote at column " + column + "; JSON strings and names take double quotes";
            if (c == '/' || c == '#') return "comment at column " + column + "; JSON has no comments";
            int end = i;
            while (end < line.length() && end - i < 20 && (Character.isLetterOrDigit(line.charAt(end)) || "_-+.".indexOf(line.charAt(end)) >= 0)) end++;
            String word = end > i ? line.substring(i, end) : String.valueOf(c);
            return "unexpected '" + word + "' at column " + column
                    + " (names and strings take double quotes; NaN, Infinity and bare words are not JSON values)";
        }
        return Character.toLowerCase(reason.charAt(0)) + reason.substring(1) + " at column " + column;
    }

    private Row readCsv() {
        CSVRecord row;
        try {
            if (!csvRows.hasNext()) return null;
            row = csvRows.next();
        } catch (UncheckedIOException | IllegalStateException e) {
            // The parser counts the lines it has lexed, so this is the line where the record went wrong.
            throw new InputException(file, csv.getCurrentLineNumber(), "malformed CSV: " + rootMessage(e), e);
        }
        long line = reader.lineAt(row.getCharacterPosition());
        // A blank line is one empty field: a text in a one-column file, a short record otherwise.
        if (row.size() != csvColumns.size())
            throw new InputException(file, line, "record has " + row.size() + (row.size() == 1 ? " field" : " fields")
                    + " but the header has " + csvColumns.size() + " columns " + csvColumns
                    + (row.size() > csvColumns.size() ? "; quote a field that holds a comma" : ""));
        return new CsvRow(file, line, row, csvColumns);
    }

    static String kind(JsonElement e) {
        if (e.isJsonNull()) return "null";
        if (e.isJsonArray()) return "an array";
        if (e.isJsonObject()) return "an object";
        if (e.getAsJsonPrimitive().isNumber()) return "a number";
        if (e.getAsJsonPrimitive().isBoolean()) return "a boolean";
        return "a string";
    }

    /** A JSON number as written in the file, so that {@link Row#scalar} gives back its own spelling ({@code 1.50}, {@code 1e3}). */
    private static final class JsonNumber extends Number {
        private final String text;

        JsonNumber(String text) {
            this.text = text;
        }

        private BigDecimal value() {
            return new BigDecimal(text);
        }

        @Override
        public int intValue() {
            return value().intValue();
        }

        @Override
        public long longValue() {
            return value().longValue();
        }

        @Override
        public float floatValue() {
            return Float.parseFloat(text);
        }

        @Override
        public double doubleValue() {
            return Double.parseDouble(text);
        }

        @Override
        public String toString() {
            return text;
        }
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
