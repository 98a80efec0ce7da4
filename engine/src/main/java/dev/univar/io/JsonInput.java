package dev.univar.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.univar.data.InputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the small JSON files of a model folder ({@code tokenizer.json}, {@code tokenizer_config.json}) so that
 * every problem is one {@link InputException} line naming the file, the field (as a dotted path such as
 * {@code model.vocab}) and the reason, never a parser's exception.
 */
public final class JsonInput {
    private JsonInput() {
    }

    /** The top-level object of {@code file}; {@code expected} says what the file should be, for the messages. */
    public static Obj readObject(Path file, String expected) {
        String text = readText(file);
        JsonElement root;
        try {
            root = parse(text);
        } catch (IllegalArgumentException e) {
            throw new InputException(file, 0, e.getMessage());
        }
        if (!root.isJsonObject()) throw new InputException(file, 0, "not a JSON object; expected " + expected);
        return new Obj(file, "", root.getAsJsonObject());
    }

    /**
     * The UTF-8 text of {@code file}: an InputException when it is missing or not UTF-8 (naming the line of the
     * first bad byte), UncheckedIOException for other read failures.
     */
    public static String readText(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InputException(file, 0, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) r = decoder.flush(out);
        if (r.isError()) {
            long line = 1;
            for (int i = 0; i < in.position(); i++) if (bytes[i] == '\n') line++;
            throw new InputException(file, line, "not valid UTF-8 text");
        }
        return out.flip().toString();
    }

    /**
     * Parses JSON text; IllegalArgumentException "empty file" or "not valid JSON (line L column C: reason)" when
     * it is not JSON.
     */
    public static JsonElement parse(String text) {
        if (text.isBlank()) throw new IllegalArgumentException("empty file");
        try {
            return JsonParser.parseString(text);
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("not valid JSON (" + syntaxError(e) + ")", e);
        }
    }

    private static final Pattern GSON_POSITION = Pattern.compile("^(.*?) at line (\\d+) column (\\d+)(?: path .*)?$");

    /**
     * A parser error as "line L column C: reason", from Gson's message (whose first line reads
     * "[exception class: ]reason at line L column C path P", and whose cause carries the plain reason).
     */
    static String syntaxError(RuntimeException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String message = root.getMessage() == null ? "" : root.getMessage().lines().findFirst().orElse("");
        Matcher m = GSON_POSITION.matcher(message);
        if (!m.matches()) return "malformed JSON";
        String reason = m.group(1);
        if (reason.contains("setStrictness") || reason.contains("setLenient")) reason = "unexpected text";
        if (reason.isEmpty()) reason = "malformed JSON";
        return "line " + m.group(2) + " column " + m.group(3) + ": "
                + Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
    }

    /** A JSON object at {@code path} (dotted, "" for the top level) of {@code file}, with checked accessors. */
    public record Obj(Path file, String path, JsonObject json) {

        /** The dotted path of {@code key} in this object. */
        public String field(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        /** An InputException "file: field: problem". */
        public InputException error(String key, String problem) {
            return new InputException(file, 0, (key == null ? path : field(key)) + ": " + problem);
        }

        public boolean has(String key) {
            JsonElement v = json.get(key);
            return v != null && !v.isJsonNull();
        }

        /** The object under {@code key}; {@code missing} ends the "no 'key' object" message when it is absent. */
        public Obj object(String key, String missing) {
            if (!has(key))
                throw new InputException(file, 0, "no '" + field(key) + "' object" + (missing == null ? "" : "; " + missing));
            return optObject(key);
        }

        /** The object under {@code key}, or null when there is none (absent or null). */
        public Obj optObject(String key) {
            if (!has(key)) return null;
            JsonElement v = json.get(key);
            if (!v.isJsonObject()) throw error(key, "expected an object, found " + describe(v));
            return new Obj(file, field(key), v.getAsJsonObject());
        }

        /** The array under {@code key}, or null when there is none. */
        public JsonArray optArray(String key) {
            if (!has(key)) return null;
            JsonElement v = json.get(key);
            if (!v.isJsonArray()) throw error(key, "expected an array, found " + describe(v));
            return v.getAsJsonArray();
        }

        public JsonArray array(String key) {
            JsonArray a = optArray(key);
            if (a == null) throw error(key, "missing");
            return a;
        }

        /** An object element of an array field, at {@code field[index]}. */
        public Obj element(String key, JsonArray array, int index) {
            JsonElement v = array.get(index);
            String at = field(key) + "[" + index + "]";
            if (!v.isJsonObject()) throw new InputException(file, 0, at + ": expected an object, found " + describe(v));
            return new Obj(file, at, v.getAsJsonObject());
        }

        public String string(String key, String fallback) {
            if (!has(key)) return fallback;
            JsonElement v = json.get(key);
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
                throw error(key, "expected a string, found " + describe(v));
            return v.getAsString();
        }

        public String string(String key) {
            String s = string(key, null);
            if (s == null) throw error(key, "missing");
            return s;
        }

        public boolean bool(String key, boolean fallback) {
            if (!has(key)) return fallback;
            JsonElement v = json.get(key);
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean())
                throw error(key, "expected true or false, found " + describe(v));
            return v.getAsBoolean();
        }

        /** A Boolean that may be absent or null. */
        public Boolean optBool(String key) {
            return has(key) ? bool(key, false) : null;
        }

        public int integer(String key, int fallback) {
            if (!has(key)) return fallback;
            return integer(field(key), json.get(key));
        }

        public int integer(String key) {
            if (!has(key)) throw error(key, "missing");
            return integer(field(key), json.get(key));
        }

        /** {@code v} as an int, for the field at dotted path {@code at}. */
        public int integer(String at, JsonElement v) {
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                try {
                    return v.getAsBigDecimal().intValueExact();
                } catch (ArithmeticException | NumberFormatException e) {
                    // not an integer, or out of int range: reported below
                }
            }
            throw new InputException(file, 0, at + ": expected an integer, found " + describe(v));
        }

        /** A number (of any size) under {@code key}, or null when absent. */
        public BigDecimal optNumber(String key) {
            if (!has(key)) return null;
            JsonElement v = json.get(key);
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                try {
                    return v.getAsBigDecimal();
                } catch (NumberFormatException e) {
                    // e.g. NaN written by a lenient writer: reported below
                }
            }
            throw error(key, "expected a number, found " + describe(v));
        }
    }

    /** A short description of a JSON value for messages: its kind, and the value itself when it is short. */
    public static String describe(JsonElement v) {
        if (v == null || v.isJsonNull()) return "null";
        if (v.isJsonObject()) return "an object";
        if (v.isJsonArray()) return "an array";
        JsonPrimitive p = v.getAsJsonPrimitive();
        String text = p.toString();
        if (text.length() > 40) text = text.substring(0, 37) + "...";
        return (p.isString() ? "the string " : p.isNumber() ? "the number " : "") + text;
    }
}
