package dev.univar.collect;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.univar.data.InputException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A user's own questions: {@code .jsonl} (one object per line) or {@code .csv} (header row), UTF-8, with a
 * {@code question} field and optional {@code question_id}, {@code lang} and {@code question_group}. Without an id a
 * question is {@code q<row>} (1-based); without a language it takes the single {@code --languages} value, or
 * {@code und} (undetermined). Problems are {@link InputException}s naming the file and line.
 */
public final class QuestionFile {
    private QuestionFile() {
    }

    public static boolean looksLikeFile(String arg) {
        String name = arg.toLowerCase(Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".csv")
                || arg.contains("/") || arg.contains(java.io.File.separator);
    }

    /** The questions of {@code file} whose language is in {@code languages} (all when empty), in file order. */
    public static List<Question> read(Path file, List<String> languages) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean csv = name.endsWith(".csv");
        if (!csv && !name.endsWith(".jsonl") && !name.endsWith(".ndjson"))
            throw new InputException(file, 0, "unknown question file format: use .jsonl or .csv");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InputException(file, 0, "no such file");
        } catch (IOException e) {
            throw new InputException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        List<String> lines = decodeLines(file, bytes);
        String defaultLang = languages.size() == 1 ? languages.getFirst() : "und";
        List<Row> rows = csv ? csvRows(file, lines) : jsonlRows(file, lines);
        List<Question> out = new ArrayList<>();
        Map<String, Long> seen = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (r.question == null)
                throw new InputException(file, r.line, "no field 'question'; the fields are " + r.fields);
            if (r.question.isBlank()) throw new InputException(file, r.line, "empty question");
            String id = blank(r.id) ? "q" + (i + 1) : r.id.trim();
            String lang = blank(r.lang) ? defaultLang : r.lang.trim();
            Long first = seen.putIfAbsent(id + "\u0000" + lang, r.line);
            if (first != null)
                throw new InputException(file, r.line, "duplicate question_id '" + id + "' in language '" + lang
                        + "' (first on line " + first + ")");
            if (!languages.isEmpty() && !languages.contains(lang)) continue;
            out.add(new Question(id, blank(r.group) ? id : r.group.trim(), lang, r.question));
        }
        return out;
    }

    private record Row(long line, String question, String id, String lang, String group, Object fields) {
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** Decodes line by line so invalid UTF-8 is reported on its line; each line keeps its {@code \n}. */
    private static List<String> decodeLines(Path file, byte[] bytes) {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> lines = new ArrayList<>();
        int start = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') end++;
            if (end < bytes.length) end++; // keep the terminator: CSV fields may span lines
            try {
                lines.add(decoder.decode(ByteBuffer.wrap(bytes, start, end - start)).toString());
            } catch (CharacterCodingException e) {
                throw new InputException(file, lines.size() + 1, "invalid UTF-8");
            }
            start = end;
        }
        return lines;
    }

    private static List<Row> jsonlRows(Path file, List<String> lines) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            long no = i + 1;
            JsonElement e;
            try {
                e = JsonParser.parseString(line);
            } catch (JsonParseException ex) {
                throw new InputException(file, no, "malformed JSON: " + rootMessage(ex), ex);
            }
            if (!e.isJsonObject()) throw new InputException(file, no, "expected a JSON object");
            JsonObject o = e.getAsJsonObject();
            rows.add(new Row(no, string(file, no, o, "question"), string(file, no, o, "question_id"),
                    string(file, no, o, "lang"), string(file, no, o, "question_group"), o.keySet()));
        }
        return rows;
    }

    private static String string(Path file, long line, JsonObject o, String field) {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) return null;
        // Numeric ids are common in hand-made files; take them as their text.
        if (v.isJsonPrimitive() && (v.getAsJsonPrimitive().isString() || v.getAsJsonPrimitive().isNumber()))
            return v.getAsString();
        throw new InputException(file, line, "field '" + field + "' is not a string");
    }

    private static List<Row> csvRows(Path file, List<String> lines) {
        String text = String.join("", lines);
        List<Row> rows = new ArrayList<>();
        try (CSVParser csv = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(text))) {
            Map<String, Integer> header = csv.getHeaderMap();
            if (header == null || !header.containsKey("question"))
                throw new InputException(file, 1, "no column 'question'; the columns are "
                        + (csv.getHeaderNames() == null ? "[]" : csv.getHeaderNames()));
            for (CSVRecord rec : csv) {
                long line = lineAt(lines, rec.getCharacterPosition());
                if (!rec.isSet("question"))
                    throw new InputException(file, line, "row has " + rec.size() + " fields, no value for column 'question'");
                rows.add(new Row(line, rec.get("question"), get(rec, "question_id"), get(rec, "lang"),
                        get(rec, "question_group"), csv.getHeaderNames()));
            }
        } catch (IOException | UncheckedIOException | IllegalStateException | IllegalArgumentException e) {
            throw new InputException(file, 0, "malformed CSV: " + rootMessage(e), e);
        }
        return rows;
    }

    private static String get(CSVRecord rec, String column) {
        return rec.isMapped(column) && rec.isSet(column) ? rec.get(column) : null;
    }

    private static long lineAt(List<String> lines, long charPosition) {
        long pos = 0;
        for (int i = 0; i < lines.size(); i++) {
            pos += lines.get(i).length();
            if (charPosition < pos) return i + 1;
        }
        return lines.size();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
