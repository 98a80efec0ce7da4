package dev.univar.collect;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The question sets bundled as resources under {@code dev/univar/questions/} (from Moore et al. 2024, MIT; see the
 * README there). The topic sets are per country, not translations of each other, so their ids carry the language;
 * the PVQ files are parallel, so an item's id is the same in every language.
 */
public final class QuestionSets {
    private static final String ROOT = "/dev/univar/questions/";

    /** A set as {@code questions list} shows it: questions per language, in the order of {@link #LANGUAGES}. */
    public record SetInfo(String name, String description, Map<String, Integer> counts) {
    }

    /** ISO 639-1 codes and the language names the resource files use. */
    public static final Map<String, String> LANGUAGES = orderedMap(
            "en", "english", "zh", "chinese", "de", "german", "ja", "japanese");
    private static final Map<String, String> COUNTRY = orderedMap(
            "en", "us", "zh", "china", "de", "germany", "ja", "japan");

    private enum Set {
        CONTROVERSIAL("questions on topics controversial in the US, China, Germany, Japan (by language)",
                List.of("en", "zh", "de", "ja")),
        UNCONTROVERSIAL("questions on topics uncontroversial in the US, China, Germany, Japan (by language)",
                List.of("en", "zh", "de", "ja")),
        PVQ("the 21 Portrait Values Questionnaire items (Schwartz values)", List.of("en", "zh", "de"));

        final String description;
        final List<String> languages;

        Set(String description, List<String> languages) {
            this.description = description;
            this.languages = languages;
        }

        String setName() {
            return name().toLowerCase(Locale.ROOT);
        }

        String resource(String lang) {
            return this == PVQ ? "pvq_" + LANGUAGES.get(lang) + ".jsonl"
                    : setName() + "_" + LANGUAGES.get(lang) + "_" + COUNTRY.get(lang) + ".jsonl";
        }
    }

    private QuestionSets() {
    }

    public static List<String> names() {
        return java.util.Arrays.stream(Set.values()).map(Set::setName).toList();
    }

    public static boolean exists(String name) {
        return names().contains(name);
    }

    /** The languages {@code set} has, in the usual order. */
    public static List<String> languages(String set) {
        return of(set).languages;
    }

    public static List<SetInfo> list() {
        List<SetInfo> infos = new ArrayList<>();
        for (Set s : Set.values()) {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (String lang : s.languages) counts.put(lang, read(s, lang).size());
            infos.add(new SetInfo(s.setName(), s.description, counts));
        }
        return infos;
    }

    /** The questions of {@code set} in {@code languages} (all of the set's when empty), language by language. */
    public static List<Question> load(String set, List<String> languages) {
        Set s = of(set);
        List<String> langs = languages.isEmpty() ? s.languages : languages;
        for (String lang : langs) {
            if (!s.languages.contains(lang))
                throw new IllegalArgumentException("question set '" + set + "' has no language '" + lang
                        + "'; it has " + String.join(", ", s.languages));
        }
        List<Question> questions = new ArrayList<>();
        for (String lang : langs) questions.addAll(read(s, lang));
        return questions;
    }

    private static Set of(String name) {
        for (Set s : Set.values()) if (s.setName().equals(name)) return s;
        throw new IllegalArgumentException("unknown question set '" + name + "'; the bundled sets are "
                + String.join(", ", names()) + " (or pass a .jsonl/.csv file)");
    }

    private static List<Question> read(Set s, String lang) {
        List<JsonObject> rows = rows(s.resource(lang));
        List<Question> out = new ArrayList<>(rows.size());
        if (s == Set.PVQ) {
            for (int i = 0; i < rows.size(); i++) {
                String id = String.format(Locale.ROOT, "pvq-%02d", i + 1);
                out.add(new Question(id, id, lang, rows.get(i).get("question").getAsString()));
            }
            return out;
        }
        // Paraphrases of one original question are consecutive and share original_english: one group each.
        String previous = null;
        int group = 0, variant = 0;
        for (JsonObject row : rows) {
            String original = row.get("original_english").getAsString();
            if (!original.equals(previous)) {
                group++;
                variant = 0;
                previous = original;
            }
            variant++;
            String groupId = String.format(Locale.ROOT, "%s-%s-%03d", s.setName(), lang, group);
            out.add(new Question(groupId + "-" + variant, groupId, lang, row.get("question").getAsString()));
        }
        return out;
    }

    private static List<JsonObject> rows(String resource) {
        InputStream in = QuestionSets.class.getResourceAsStream(ROOT + resource);
        if (in == null) throw new IllegalStateException("bundled question file missing: " + resource);
        List<JsonObject> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                JsonElement e = JsonParser.parseString(line);
                rows.add(e.getAsJsonObject());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
