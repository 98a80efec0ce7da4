package dev.univar.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.univar.io.JsonInput;

/**
 * Fields of a {@code config.json} for the architectures' parsers. A problem is an IllegalArgumentException naming
 * the field; {@link ModelConfig#read} prefixes the file.
 */
final class ConfigJson {
    private ConfigJson() {
    }

    static JsonObject object(String json) {
        JsonElement root = JsonInput.parse(json);
        if (!root.isJsonObject())
            throw new IllegalArgumentException("not a JSON object; expected a Hugging Face model config");
        return root.getAsJsonObject();
    }

    /** An integer field; {@code dflt} null: required. */
    static int integer(JsonObject o, String name, Integer dflt) {
        JsonElement v = o.get(name);
        if (v == null || v.isJsonNull()) {
            if (dflt == null) throw new IllegalArgumentException("missing field '" + name + "'");
            return dflt;
        }
        try {
            return v.getAsBigDecimal().intValueExact();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("field '" + name + "' must be an integer, found " + JsonInput.describe(v));
        }
    }

    static double number(JsonObject o, String name, double dflt) {
        JsonElement v = o.get(name);
        if (v == null || v.isJsonNull()) return dflt;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber())
            throw new IllegalArgumentException("field '" + name + "' must be a number, found " + JsonInput.describe(v));
        return v.getAsDouble();
    }

    static String string(JsonObject o, String name, String dflt) {
        JsonElement v = o.get(name);
        if (v == null || v.isJsonNull()) return dflt;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
            throw new IllegalArgumentException("field '" + name + "' must be a string, found " + JsonInput.describe(v));
        return v.getAsString();
    }

    static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }
}
