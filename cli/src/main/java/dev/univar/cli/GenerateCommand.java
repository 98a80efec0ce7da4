package dev.univar.cli;

import dev.univar.collect.ChatClient;
import dev.univar.collect.ChatJob;
import dev.univar.collect.CollectException;
import dev.univar.collect.Languages;
import dev.univar.collect.PromptTemplate;
import dev.univar.collect.QuestionGenerator;
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

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Have an LLM write value-eliciting questions from value-laden situations.",
                "As the paper does, each situation becomes a question asking whether the",
                "speaker should or should not do it. Input: .jsonl or .csv with 'situation' and",
                "optional 'value' and 'id' (default s<row>). Each answer is cleaned (its first",
                "line, without heading marks and quotes), near-duplicates (the same text once",
                "normalised) are dropped, and --output gets one JSON line per question:",
                "question_id (SITUATION_ID-SAMPLE, stable across reruns), question, lang,",
                "question_group (the situation's id), situation_id, situation, value,",
                "generator; `collect --questions` and `translate` read it.",
                "",
                "Every usable answer is appended to OUTPUT.raw.jsonl as it comes, so a rerun",
                "(after a failure, Ctrl-C or kill -9) asks only what is missing; failures are",
                "listed in OUTPUT.failures.jsonl, exit code 1.",
                "",
                "Default prompt ({situation}, {value}, {language}, {lang} are filled in):",
                "  Here is a situation: {situation}",
                "  Write one question in {language}, in the first person, that asks whether",
                "  the speaker should or should not do this (for example: \"Should I ...,",
                "  or not?\"). Reply with the question only.",
                ""})
final class GenerateCommand implements Callable<Integer> {
    static final int MAX_PER_SITUATION = 1000;

    @Option(names = "--situations", required = true, paramLabel = "FILE", description = "A .jsonl or .csv file with a 'situation' field, optional 'value' and 'id'.")
    Path situations;

    @Mixin
    ChatOptions chat;

    @Option(names = "--per-situation", defaultValue = "1", paramLabel = "N",
            description = "Questions asked for per situation (samples), 1 to 1000; near-duplicates are dropped. Default: ${DEFAULT-VALUE}.")
    int perSituation;

    @Option(names = "--prompt-template", paramLabel = "FILE",
            description = "The prompt, with {situation} and optionally {value}, {language} (e.g. English), {lang} (e.g. en). Default: the paper's, above.")
    Path promptTemplate;

    @Option(names = "--lang", defaultValue = "en", paramLabel = "LANG", description = "Language of the questions (BCP 47), written in 'lang'. Default: ${DEFAULT-VALUE}.")
    String lang;

    @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T", description = "Sampling temperature, 0 to 2. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--max-tokens", defaultValue = "128", paramLabel = "N", description = "Longest answer, in tokens, 1 to 1048576. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--output", required = true, paramLabel = "FILE.jsonl", description = "The questions file, written whole at the end of each run.")
    Path output;

    @Override
    public Integer call() throws Exception {
        Check.between("--per-situation", perSituation, 1, MAX_PER_SITUATION);
        chat.check(temperature, maxTokens);
        if (!Languages.isTag(lang)) throw new UsageException("--lang must be a BCP 47 tag such as en or zh-Hant, got '" + lang + "'");
        Outputs.requireExtension(output, "--output", "jsonl");
        Path raw = QuestionGenerator.rawFile(output), failures = ChatJob.failuresFile(output);
        Outputs.check(Arrays.asList(situations, promptTemplate), new Outputs.Target("--output", output),
                new Outputs.Target("the raw answers beside --output", raw), new Outputs.Target("the failure list beside --output", failures));
        PromptTemplate template = promptTemplate == null ? QuestionGenerator.DEFAULT_TEMPLATE
                : PromptTemplate.read(promptTemplate, "situation");
        List<QuestionGenerator.Situation> list = QuestionGenerator.readSituations(situations, template);
        if (list.isEmpty()) throw new IllegalArgumentException(situations + ": no situations");
        PrintStream err = System.err;
        try (ChatClient client = new ChatClient(chat.settings(temperature, maxTokens))) {
            ChatOptions.Printer progress = new ChatOptions.Printer(err, "generated", "questions");
            QuestionGenerator.Result r;
            try {
                r = new QuestionGenerator(client, new QuestionGenerator.Options(perSituation, lang, template, chat.llm, chat.job()))
                        .run(list, output, progress);
            } catch (CollectException e) {
                progress.endLine();
                err.println("univar questions generate: error: " + e.getMessage() + " (what was generated is kept in " + raw + "; rerun to go on)");
                return 1;
            }
            progress.endLine();
            ChatJob.Summary<?> s = r.job();
            ChatOptions.repaired(err, s, raw, "question");
            err.printf(Locale.ROOT, "univar: %,d questions generated from %,d situations by %s in %s (%,d of %,d already there, %,d retries)%n",
                    s.completed(), list.size(), chat.llm, Progress.duration(s.elapsed().toMillis() / 1e3), s.alreadyPresent(),
                    s.planned(), s.retries());
            if (r.questions() > 0)
                err.printf(Locale.ROOT, "univar: wrote %,d questions to %s (%,d near-duplicates left out)%n", r.questions(), output, r.duplicates());
            else
                err.println("univar: no question generated yet: " + output + " not written");
            return ChatOptions.finish(err, "questions generate", "questions", s, output);
        }
    }
}
