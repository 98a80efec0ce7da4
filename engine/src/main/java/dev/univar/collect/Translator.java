package dev.univar.collect;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.univar.data.InputException;
import dev.univar.data.RecordSource;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code translate}: each row's {@code question} or {@code answer} into each target language, one output line per
 * row × target, through the shared {@link ChatJob} (append-only, resumable, exactly once). A line is the input row
 * with the field replaced by its translation and, beside it, {@code FIELD_original} (the source text),
 * {@code FIELD_original_lang} and {@code FIELD_lang} (BCP 47 tags) and {@code translator} (the LLM). A row keeps
 * its ids ({@code question_id}, and {@code model}, {@code sample} where it has them), so the translations of one
 * question pair up across languages and an answer translated back pairs with its key.
 *
 * <p>{@code lang} says what language a question is asked in: translating a question file's rows (rows without an
 * {@code answer}) makes questions in the target language, so {@code lang} becomes the target. In a corpus (rows
 * with an {@code answer}) {@code lang} names the key, the language the LLM was asked in, and stays.
 *
 * <p>A translation that is empty, in the wrong script for the target, or repeats the source is not used: it is
 * asked again, and listed as failed after the last attempt. A row whose language is the target is copied without a
 * request; a row with an empty text is copied as it is.
 */
public final class Translator {

    /** The default prompt. */
    public static final PromptTemplate DEFAULT_TEMPLATE = new PromptTemplate("""
            Translate the following text from {source_name} ({source}) into {target_name} ({target}). \
            Reply with the translation only.

            {text}""");

    public record Options(String field, List<String> targets, String from, PromptTemplate template, String translator,
                          ChatJob.Options job) {
        public Options {
            if (!field.equals("question") && !field.equals("answer"))
                throw new IllegalArgumentException("--field must be question or answer, got '" + field + "'");
            if (targets.isEmpty()) throw new IllegalArgumentException("--to names no language");
        }
    }

    /**
     * A translation's work-item id: the row's ids ({@code model} and {@code sample} null where the input has none),
     * its language, and the target.
     */
    public record Key(String model, String questionId, String lang, String sample, String target) {
    }

    /** One input row: its record, ids, language and the text to translate. */
    public record Source(JsonObject row, long line, String model, String questionId, String lang, String sample, String text) {
        Key key(String target) {
            return new Key(model, questionId, lang, sample, target);
        }
    }

    /** What {@link #read} kept, and how many rows it left out for being in another language than {@code --from}. */
    public record Input(List<Source> rows, int otherLanguage) {
    }

    /** The job's summary and the rows copied without a request. */
    public record Result(ChatJob.Summary<Key> job, long copied, long copiedBefore) {
    }

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private final ChatClient client;
    private final Options options;

    public Translator(ChatClient client, Options options) {
        this.client = client;
        this.options = options;
    }

    /** The output's lines, for {@code field}: the key read back from the ids the line carries. */
    public static CorpusFile.Format<Key> format(String field) {
        return new CorpusFile.Format<>("univar translate", o -> new Key(optional(o, "model"), required(o, "question_id"),
                CorpusFile.string(o, field + "_original_lang"), optional(o, "sample"), CorpusFile.string(o, field + "_lang")));
    }

    private static String optional(JsonObject o, String field) {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) return null;
        if (!v.isJsonPrimitive()) throw new CorpusFile.BadLine("field '" + field + "' is not a string or number");
        return v.getAsString();
    }

    private static String required(JsonObject o, String field) {
        String v = optional(o, field);
        if (v == null) throw new CorpusFile.BadLine("no field '" + field + "'");
        return v;
    }

    /**
     * The rows of a {@code .jsonl} or {@code .csv} file: {@code field} a string; {@code question_id} given or
     * {@code q<record>} (1-based, as {@code collect} numbers a question file); the language from {@code lang}, or
     * {@code from} for rows without one. With {@code from}, rows in other languages are left out. Two rows with
     * the same ids are an error.
     */
    public static Input read(Path file, String field, String from) {
        if (RecordSource.formatOf(file) == RecordSource.Format.TXT)
            throw new InputException(file, 0, "translate reads .jsonl or .csv rows (a '" + field + "' field, with 'question_id' and 'lang')");
        List<Source> out = new ArrayList<>();
        Map<Key, Long> seen = new HashMap<>();
        int other = 0;
        long record = 0;
        try (RecordSource src = RecordSource.open(file)) {
            src.requireColumns(java.util.Set.of(field), "");
            while (src.hasNext()) {
                RecordSource.Row row = src.next();
                record++;
                String text = row.string(field);
                String id = row.has("question_id") ? row.scalar("question_id") : "q" + record;
                String lang;
                if (row.has("lang") && !row.scalar("lang").isBlank()) lang = row.scalar("lang").strip();
                else if (from != null) lang = from;
                else throw new InputException(file, row.line(), "no " + row.describe("lang")
                            + ": give --from to say which language the rows without one are in");
                if (!Languages.isTag(lang))
                    throw new InputException(file, row.line(), "language '" + lang + "' (" + row.describe("lang")
                            + ") is not a BCP 47 tag such as en or zh-Hant");
                if (from != null && !Languages.same(lang, from)) {
                    other++;
                    continue;
                }
                String model = row.has("model") ? row.scalar("model") : null;
                String sample = row.has("sample") ? row.scalar("sample") : null;
                Source s = new Source(row.toJson(), row.line(), model, id, lang, sample, text);
                Long first = seen.putIfAbsent(s.key(""), row.line());
                if (first != null)
                    throw new InputException(file, row.line(), "same ids as line " + first + " (question_id '" + id + "', lang '"
                            + lang + "'" + (model != null ? ", model '" + model + "'" : "") + (sample != null ? ", sample " + sample : "")
                            + "): each row needs its own, so that its translations can be paired with it");
                out.add(s);
            }
        }
        return new Input(out, other);
    }

    public Result run(List<Source> rows, Path output, ChatJob.Listener listener) throws InterruptedException {
        CorpusFile.Format<Key> format = format(options.field());
        List<Translate> tasks = new ArrayList<>();
        List<Translate> copies = new ArrayList<>();
        for (Source s : rows)
            for (String target : options.targets()) {
                Translate t = new Translate(s, target);
                (Languages.same(s.lang(), target) || s.text().isBlank() ? copies : tasks).add(t);
            }
        long copied = 0, before = 0;
        if (!copies.isEmpty()) {
            try (CorpusFile<Key> file = CorpusFile.open(output, format)) {
                for (Translate t : copies) {
                    if (file.done().contains(t.key())) before++;
                    else {
                        file.append(t.key(), t.line(t.source.text(), null));
                        copied++;
                    }
                }
            }
        }
        ChatJob.Summary<Key> summary = new ChatJob<Key>(client, options.job())
                .run(tasks, format, output, ChatJob.failuresFile(output), listener);
        return new Result(summary, copied, before);
    }

    /** One row into one language. */
    private final class Translate implements ChatJob.Task<Key> {
        final Source source;
        final String target;

        Translate(Source source, String target) {
            this.source = source;
            this.target = target;
        }

        @Override
        public Key key() {
            return source.key(target);
        }

        @Override
        public String prompt() {
            return options.template().fill(Map.of("text", source.text(), "source", source.lang(),
                    "source_name", Languages.name(source.lang()), "target", target, "target_name", Languages.name(target)));
        }

        @Override
        public String unusable(ChatClient.Answer a) {
            String t = a.content().strip();
            if (t.isEmpty()) return "empty translation";
            String n = QuestionGenerator.normalise(t);
            if (!n.isEmpty() && n.equals(QuestionGenerator.normalise(source.text())))
                return "the translation repeats the source text";
            return Scripts.mismatch(t, target);
        }

        @Override
        public String line(ChatClient.Answer a) {
            return line(a.content().strip(), options.translator());
        }

        /** {@code translator} null: copied, not translated (already in the target language, or empty). */
        String line(String translation, String translator) {
            String field = options.field();
            JsonObject o = source.row().deepCopy();
            o.addProperty("question_id", source.questionId());
            o.addProperty(field, translation);
            o.addProperty(field + "_original", source.text());
            o.addProperty(field + "_original_lang", source.lang());
            o.addProperty(field + "_lang", target);
            if (!o.has("answer")) o.addProperty("lang", target);
            else o.addProperty("lang", source.lang());
            o.addProperty("translator", translator);
            o.addProperty("translated_at", Instant.now().toString());
            return GSON.toJson(o);
        }

        @Override
        public void describe(JsonObject failure) {
            failure.addProperty("question_id", source.questionId());
            if (source.model() != null) failure.addProperty("model", source.model());
            failure.addProperty("lang", source.lang());
            if (source.sample() != null) failure.addProperty("sample", source.sample());
            failure.addProperty("to", target);
            failure.addProperty("line", source.line());
        }
    }
}
