package dev.univar.collect;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.univar.data.AtomicFile;
import dev.univar.data.InputException;
import dev.univar.data.RecordSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code questions generate}, the paper's first step: an LLM turns each value-laden situation into a question asking
 * whether the speaker should or should not do it. Each situation is asked {@code perSituation} times (samples
 * 0..N-1) through the shared {@link ChatJob}, whose append-only file {@code OUTPUT.raw.jsonl} keeps every usable
 * answer: a rerun asks only what it lacks. From it the questions file is then written whole: each answer cleaned as
 * the paper cleans it (its first line, heading marks and quotes stripped), near-duplicates (the same text once
 * normalised) dropped, the first kept, in situation and sample order, so that the file depends only on what the log
 * holds, not on the order answers arrived in. A question's id is {@code SITUATION_ID-SAMPLE}, stable across reruns;
 * its {@code question_group} is the situation's id.
 */
public final class QuestionGenerator {

    /** The default prompt: the paper's situation → "should I or should I not?" question. */
    public static final PromptTemplate DEFAULT_TEMPLATE = new PromptTemplate("""
            Here is a situation: {situation}
            Write one question in {language}, in the first person, that asks whether the speaker should or should not \
            do this (for example: "Should I ..., or not?"). Reply with the question only.""");

    /**
     * A row of the situations file: {@code id} given or {@code s<record>}, {@code value} optional (null), the text on
     * one line (runs of white space, line breaks included, become one space).
     */
    public record Situation(String id, String text, String value, long line) {
    }

    public record Options(int perSituation, String lang, PromptTemplate template, String generator,
                          ChatJob.Options job) {
        public Options {
            if (perSituation < 1) throw new IllegalArgumentException("--per-situation must be at least 1");
        }
    }

    /** A generation's work-item id: the situation, the sample, and the prompt sent (a changed one is asked anew). */
    public record Key(String situationId, int sample, String prompt) {
    }

    /** The raw log's lines. */
    public static final CorpusFile.Format<Key> RAW = new CorpusFile.Format<>("univar questions generate",
            o -> new Key(CorpusFile.string(o, "situation_id"), CorpusFile.integer(o, "sample"), CorpusFile.string(o, "prompt")));

    /** The job's summary, the questions written and the near-duplicates left out. */
    public record Result(ChatJob.Summary<Key> job, int questions, int duplicates, Path rawFile) {
    }

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final ChatClient client;
    private final Options options;

    public QuestionGenerator(ChatClient client, Options options) {
        this.client = client;
        this.options = options;
    }

    /** {@code OUTPUT.raw.jsonl}: every usable answer, appended as it comes. */
    public static Path rawFile(Path output) {
        return output.resolveSibling(output.getFileName() + ".raw.jsonl");
    }

    /**
     * The situations of a {@code .jsonl} or {@code .csv} file: a non-empty {@code situation}, optional {@code value}
     * and {@code id} (absent or empty: {@code s<record>}, 1-based), ids distinct.
     */
    public static List<Situation> readSituations(Path file, PromptTemplate template) {
        if (RecordSource.formatOf(file) == RecordSource.Format.TXT)
            throw new InputException(file, 0, "situations are read from .jsonl or .csv (a 'situation' field, optional 'value' and 'id')");
        List<Situation> out = new ArrayList<>();
        Map<String, Long> seen = new HashMap<>();
        try (RecordSource src = RecordSource.open(file)) {
            src.requireColumns(Set.of("situation"), "");
            while (src.hasNext()) {
                RecordSource.Row row = src.next();
                // One line: a situation's line breaks would break the prompt's layout.
                String text = row.scalar("situation").strip().replaceAll("\\s+", " ");
                if (text.isEmpty()) throw new InputException(file, row.line(), "empty " + row.describe("situation"));
                // An empty id (a CSV cell can only be empty, not absent) is no id.
                String id = row.has("id") && !row.scalar("id").isBlank() ? row.scalar("id").strip() : "s" + (out.size() + 1);
                String value = row.has("value") && !row.scalar("value").isBlank() ? row.scalar("value").strip() : null;
                if (value == null && template.uses("value"))
                    throw new InputException(file, row.line(), "no " + row.describe("value") + ", which the prompt template uses");
                Long first = seen.putIfAbsent(id, row.line());
                if (first != null)
                    throw new InputException(file, row.line(), "duplicate id '" + id + "' (first on line " + first + ")");
                out.add(new Situation(id, text, value, row.line()));
            }
        }
        return out;
    }

    public Result run(List<Situation> situations, Path output, ChatJob.Listener listener) throws InterruptedException, IOException {
        List<Generate> tasks = new ArrayList<>();
        for (Situation s : situations)
            for (int k = 0; k < options.perSituation(); k++) tasks.add(new Generate(s, k, prompt(s)));
        Path raw = rawFile(output);
        ChatJob.Summary<Key> summary = new ChatJob<Key>(client, options.job())
                .run(tasks, RAW, raw, ChatJob.failuresFile(output), listener);
        Map<Key, String> answered = readRaw(raw);
        StringBuilder out = new StringBuilder();
        Set<String> seen = new HashSet<>();
        int questions = 0, duplicates = 0;
        for (Generate t : tasks) {
            String q = answered.get(t.key());
            if (q == null) continue; // failed: listed, asked again by a rerun
            if (!seen.add(normalise(q))) {
                duplicates++;
                continue;
            }
            Situation s = t.situation;
            JsonObject o = new JsonObject();
            o.addProperty("question_id", s.id() + "-" + t.sample);
            o.addProperty("question", q);
            o.addProperty("lang", options.lang());
            o.addProperty("question_group", s.id());
            o.addProperty("situation_id", s.id());
            o.addProperty("situation", s.text());
            if (s.value() != null) o.addProperty("value", s.value());
            o.addProperty("generator", options.generator());
            out.append(GSON.toJson(o)).append('\n');
            questions++;
        }
        if (questions > 0) AtomicFile.write(output, out.toString()); // no question, no (empty) questions file
        return new Result(summary, questions, duplicates, raw);
    }

    private String prompt(Situation s) {
        Map<String, String> values = new HashMap<>();
        values.put("situation", s.text());
        if (s.value() != null) values.put("value", s.value());
        values.put("language", Languages.name(options.lang()));
        values.put("lang", options.lang());
        return options.template().fill(values);
    }

    /** The cleaned question of every line of the raw log. */
    private static Map<Key, String> readRaw(Path raw) {
        Map<Key, String> m = new HashMap<>();
        if (!Files.exists(raw)) return m; // nothing was ever answered
        try (RecordSource src = RecordSource.open(raw, RecordSource.Format.JSONL)) {
            while (src.hasNext()) {
                RecordSource.Row row = src.next();
                m.put(new Key(row.string("situation_id"), Integer.parseInt(row.scalar("sample")), row.string("prompt")),
                        row.string("question"));
            }
        }
        return m;
    }

    /** One question to generate. */
    private final class Generate implements ChatJob.Task<Key> {
        final Situation situation;
        final int sample;
        final String prompt;

        Generate(Situation situation, int sample, String prompt) {
            this.situation = situation;
            this.sample = sample;
            this.prompt = prompt;
        }

        @Override
        public Key key() {
            return new Key(situation.id(), sample, prompt);
        }

        @Override
        public String prompt() {
            return prompt;
        }

        @Override
        public String unusable(ChatClient.Answer answer) {
            String q = clean(answer.content());
            if (q.isEmpty()) return "no question left after cleaning: '" + shorten(answer.content()) + "'";
            String n = normalise(q);
            for (String line : prompt.split("\n"))
                if (normalise(line).equals(n)) return "the answer repeats the prompt: '" + shorten(q) + "'";
            return null;
        }

        @Override
        public String line(ChatClient.Answer a) {
            JsonObject o = new JsonObject();
            o.addProperty("situation_id", situation.id());
            o.addProperty("sample", sample);
            o.addProperty("question", clean(a.content()));
            o.addProperty("raw", a.content());
            o.addProperty("prompt", prompt);
            o.addProperty("generator", options.generator());
            o.addProperty("finish_reason", a.finishReason());
            o.add("usage", a.usage());
            o.addProperty("timestamp", Instant.now().toString());
            return GSON.toJson(o);
        }

        @Override
        public void describe(JsonObject failure) {
            failure.addProperty("situation_id", situation.id());
            failure.addProperty("sample", sample);
            failure.addProperty("generator", options.generator());
        }
    }

    private static final String QUOTES = "\"'“”‘’«»„‚「」『』`";

    /**
     * As the paper cleans a generated question: the first non-blank line, without markdown heading marks, list
     * bullets or numbers, bold and surrounding quotes.
     */
    public static String clean(String answer) {
        String line = answer.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
        String prev;
        do {
            prev = line;
            line = line.replaceFirst("^#+\\s*", "").replaceFirst("^([-*•]|\\d{1,3}[.)])\\s+", "").strip();
            if (line.length() >= 4 && line.startsWith("**") && line.endsWith("**")) line = line.substring(2, line.length() - 2).strip();
            if (line.length() >= 2 && QUOTES.indexOf(line.charAt(0)) >= 0 && QUOTES.indexOf(line.charAt(line.length() - 1)) >= 0)
                line = line.substring(1, line.length() - 1).strip();
            else if (!line.isEmpty() && QUOTES.indexOf(line.charAt(0)) >= 0 && line.indexOf(line.charAt(0), 1) < 0)
                line = line.substring(1).strip(); // an opening quote whose close went with the rest of the answer
            else if (!line.isEmpty() && QUOTES.indexOf(line.charAt(line.length() - 1)) >= 0
                    && line.indexOf(line.charAt(line.length() - 1)) == line.length() - 1)
                line = line.substring(0, line.length() - 1).strip();
        } while (!line.equals(prev));
        return line;
    }

    /** The text two near-duplicates share: NFKC, lower case, letters and digits only, single spaces. */
    public static String normalise(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        StringBuilder sb = new StringBuilder(s.length());
        boolean space = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                if (space && !sb.isEmpty()) sb.append(' ');
                space = false;
                sb.appendCodePoint(cp);
            } else {
                space = true;
            }
        }
        return sb.toString();
    }

    private static String shorten(String s) {
        String flat = s.replaceAll("\\s+", " ").strip();
        return flat.length() <= 80 ? flat : flat.substring(0, 80) + "...";
    }
}
