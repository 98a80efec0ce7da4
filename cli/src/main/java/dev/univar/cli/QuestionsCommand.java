package dev.univar.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.univar.collect.Question;
import dev.univar.collect.QuestionFile;
import dev.univar.collect.QuestionSets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "questions", mixinStandardHelpOptions = true,
        description = {"Value-eliciting questions: the bundled sets (Moore et al. 2024, MIT), your own.",
                "`questions list` shows the bundled sets; `questions show SET` prints their",
                "questions; `questions generate` has an LLM write questions from situations."},
        subcommands = {QuestionsCommand.ListSets.class, QuestionsCommand.Show.class, GenerateCommand.class})
final class QuestionsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    /** A bundled set's name, or a .jsonl/.csv file of the user's own: what {@code --questions} accepts. */
    static List<Question> load(String setOrFile, List<String> languages) {
        if (QuestionSets.exists(setOrFile)) return QuestionSets.load(setOrFile, languages);
        if (QuestionFile.looksLikeFile(setOrFile) || Files.exists(Path.of(setOrFile)))
            return QuestionFile.read(Path.of(setOrFile), languages);
        return QuestionSets.load(setOrFile, languages); // names the known sets in its error
    }

    /** Splits {@code en,zh} and checks each is a plausible language code (ISO 639-1, or und). */
    static List<String> languages(String csv) {
        if (csv == null || csv.isBlank()) return List.of();
        List<String> langs = Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(s -> s.toLowerCase(Locale.ROOT)).distinct().toList();
        for (String l : langs)
            if (!l.matches("[a-z]{2,3}(-[a-z0-9]{2,8})*"))
                throw new IllegalArgumentException("invalid language '" + l + "' in --languages: use ISO codes such as en,zh,de,ja");
        return langs;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the bundled question sets: languages and question counts.")
    static final class ListSets implements Callable<Integer> {
        @Override
        public Integer call() {
            PrintStream out = System.out;
            List<String> langs = List.copyOf(QuestionSets.LANGUAGES.keySet());
            StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-16s", "set"));
            for (String l : langs) header.append(String.format(Locale.ROOT, "%6s", l));
            out.println(header + "  description");
            for (QuestionSets.SetInfo s : QuestionSets.list()) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-16s", s.name()));
                for (String l : langs) {
                    Integer n = s.counts().get(l);
                    row.append(String.format(Locale.ROOT, "%6s", n == null ? "-" : n.toString()));
                }
                out.println(row + "  " + s.description());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = {"Print the questions of a set (or of a .jsonl/.csv file), one per line:",
                    "id, language and text (line breaks shown as \\n), or JSON lines with --format jsonl",
                    "(the format --questions FILE reads back)."})
    static final class Show implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SET", description = "A bundled set (see `questions list`) or a .jsonl/.csv file.")
        String set;

        @Option(names = {"--language", "--languages"}, paramLabel = "LANG[,LANG...]", description = "Only these languages (ISO codes). Default: all.")
        String languages;

        @Option(names = "--limit", paramLabel = "N", description = "At most N questions per language.")
        Integer limit;

        @Option(names = "--format", defaultValue = "text", paramLabel = "text|jsonl", description = "Output format. Default: ${DEFAULT-VALUE}.")
        String format;

        @Override
        public Integer call() {
            if (!format.equals("text") && !format.equals("jsonl"))
                throw new IllegalArgumentException("--format must be text or jsonl, not '" + format + "'");
            if (limit != null && limit < 0) throw new IllegalArgumentException("--limit must be at least 0");
            List<Question> questions = load(set, languages(languages));
            Gson gson = new GsonBuilder().disableHtmlEscaping().create();
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            java.util.Map<String, Integer> perLang = new java.util.HashMap<>();
            for (Question q : questions) {
                if (limit != null && perLang.merge(q.lang(), 1, Integer::sum) > limit) continue;
                if (format.equals("jsonl")) {
                    JsonObject o = new JsonObject();
                    o.addProperty("question_id", q.id());
                    o.addProperty("lang", q.lang());
                    o.addProperty("question", q.text());
                    if (!q.group().equals(q.id())) o.addProperty("question_group", q.group());
                    out.println(gson.toJson(o));
                } else {
                    out.println(q.id() + "\t" + q.lang() + "\t" + q.text().strip().replace("\r", "").replace("\n", "\\n"));
                }
            }
            out.flush();
            return 0;
        }
    }
}
