package dev.univar.cli;

import dev.univar.collect.ChatClient;
import dev.univar.collect.ChatJob;
import dev.univar.collect.CollectException;
import dev.univar.collect.Languages;
import dev.univar.collect.PromptTemplate;
import dev.univar.collect.Translator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "translate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Translate questions or answers into other languages, or back, with an LLM.",
                "Reads a .jsonl/.csv file and appends one JSON line per row × target language",
                "to --output, through an OpenAI-compatible chat API: the input row with --field",
                "replaced by its translation and, beside it, FIELD_original,",
                "FIELD_original_lang, FIELD_lang (BCP 47 tags) and translator. Ids are kept",
                "(question_id; model and sample where the row has them), so translations pair",
                "up. In a question file (rows without 'answer') 'lang' becomes the target",
                "language; in a corpus of answers 'lang' names the key (the language the LLM",
                "was asked in) and stays.",
                "",
                "A translation that is empty, in the wrong script for the target or repeats the",
                "source is asked again; one still unusable is listed in OUTPUT.failures.jsonl,",
                "exit code 1. A row already in the target language is copied. Rerunning resumes",
                "(also after kill -9).",
                "",
                "Default prompt ({text}, {source}, {source_name}, {target}, {target_name}):",
                "  Translate the following text from {source_name} ({source}) into",
                "  {target_name} ({target}). Reply with the translation only.",
                "",
                "  {text}",
                ""})
final class TranslateCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "FILE", description = "A .jsonl or .csv file: questions, or collected answers.")
    Path input;

    @Mixin
    ChatOptions chat;

    @Option(names = "--to", required = true, paramLabel = "LANG[,LANG...]", description = "Target languages (BCP 47), e.g. zh,de,ja, or en to translate back.")
    String to;

    @Option(names = "--from", paramLabel = "LANG",
            description = "Translate only rows in this language; rows without 'lang' are taken to be in it. Default: every row, from its 'lang'.")
    String from;

    @Option(names = "--field", defaultValue = "question", paramLabel = "question|answer", description = "What is translated. Default: ${DEFAULT-VALUE}.")
    String field;

    @Option(names = "--prompt-template", paramLabel = "FILE", description = "The prompt, with {text} and optionally {source}, {source_name}, {target}, {target_name}.")
    Path promptTemplate;

    @Option(names = "--temperature", defaultValue = "0.3", paramLabel = "T",
            description = "Sampling temperature, 0 to 2; low for faithful translations, above 0 so that one asked again can differ. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--max-tokens", defaultValue = "1024", paramLabel = "N", description = "Longest translation, in tokens, 1 to 1048576. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--output", required = true, paramLabel = "FILE.jsonl", description = "Where translations are appended.")
    Path output;

    @Override
    public Integer call() throws Exception {
        Check.oneOf("--field", field, "question", "answer");
        chat.check(temperature, maxTokens);
        List<String> targets = languages("--to", to);
        if (from != null && !Languages.isTag(from))
            throw new UsageException("--from must be a BCP 47 tag such as en or zh-Hant, got '" + from + "'");
        Outputs.requireExtension(output, "--output", "jsonl");
        Outputs.check(Arrays.asList(input, promptTemplate), new Outputs.Target("--output", output),
                new Outputs.Target("the failure list beside --output", ChatJob.failuresFile(output)));
        PromptTemplate template = promptTemplate == null ? Translator.DEFAULT_TEMPLATE : PromptTemplate.read(promptTemplate, "text");
        Translator.Input in = Translator.read(input, field, from);
        if (in.rows().isEmpty())
            throw new IllegalArgumentException(input + ": no rows to translate" + (from == null ? "" : " in --from " + from));
        PrintStream err = System.err;
        if (in.otherLanguage() > 0)
            err.printf(Locale.ROOT, "univar translate: %,d rows not in --from %s left out%n", in.otherLanguage(), from);
        try (ChatClient client = new ChatClient(chat.settings(temperature, maxTokens))) {
            ChatOptions.Printer progress = new ChatOptions.Printer(err, "translated", "texts");
            Translator.Result r;
            try {
                r = new Translator(client, new Translator.Options(field, targets, from, template, chat.llm, chat.job()))
                        .run(in.rows(), output, progress);
            } catch (CollectException e) {
                progress.endLine();
                err.println("univar translate: error: " + e.getMessage());
                return 1;
            }
            progress.endLine();
            ChatJob.Summary<?> s = r.job();
            ChatOptions.repaired(err, s, output, "translation");
            err.printf(Locale.ROOT, "univar: %,d %ss translated by %s into %s in %s (%,d of %,d already there, %,d retries; %,d copied as already in the target language or empty)%n",
                    s.completed(), field, chat.llm, output, Progress.duration(s.elapsed().toMillis() / 1e3), s.alreadyPresent(),
                    s.planned(), s.retries(), r.copied() + r.copiedBefore());
            return ChatOptions.finish(err, "translate", "translations", s, output);
        }
    }

    /** A comma-separated list of BCP 47 tags, as given (case kept: the tags are written as they are). */
    static List<String> languages(String option, String csv) {
        List<String> out = new ArrayList<>();
        for (String part : csv.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            if (!Languages.isTag(t)) throw new UsageException(option + ": '" + t + "' is not a BCP 47 tag such as en, zh or zh-Hant");
            if (out.stream().noneMatch(o -> Languages.same(o, t))) out.add(t);
        }
        if (out.isEmpty()) throw new UsageException(option + " names no language");
        return out;
    }
}
