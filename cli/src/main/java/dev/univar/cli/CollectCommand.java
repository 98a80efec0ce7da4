package dev.univar.cli;

import dev.univar.collect.ChatClient;
import dev.univar.collect.ChatJob;
import dev.univar.collect.CollectException;
import dev.univar.collect.CollectJob;
import dev.univar.collect.Question;
import dev.univar.collect.WorkItem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "collect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Ask an LLM value-eliciting questions through an OpenAI-compatible chat API",
                "(OpenAI, vLLM, llama.cpp server, Ollama, ...) and append one JSON line per answer",
                "to --output: question_id, question, answer, model, lang, sample, finish_reason,",
                "usage, timestamp, question_group.",
                "Rerunning the same command skips what the output already holds (also after a",
                "crash or kill -9); several LLMs can be collected into one file. Transient errors",
                "(429, 5xx, timeouts, dropped connections, malformed responses) are retried with",
                "backoff; answers that still fail are listed in OUTPUT.failures.jsonl, exit code 1.",
                "A response over --max-response-bytes is abandoned and counts as failed.",
                ""})
final class CollectCommand implements Callable<Integer> {
    static final int MAX_SAMPLES = 100_000;

    @Mixin
    ChatOptions chat;

    @Option(names = "--questions", required = true, paramLabel = "SET|FILE",
            description = "A bundled set (see `univar questions list`) or a .jsonl/.csv file with a 'question' field and optional 'question_id', 'lang'.")
    String questions;

    @Option(names = "--languages", paramLabel = "LANG[,LANG...]", description = "Languages to ask in (ISO codes, e.g. en,zh,de,ja). Default: all of the set's.")
    String languages;

    @Option(names = "--samples", defaultValue = "1", paramLabel = "N", description = "Answers per question and language, 1 to 100000. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--temperature", defaultValue = "0.7", paramLabel = "T", description = "Sampling temperature, 0 to 2. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N", description = "Longest answer, in tokens, 1 to 1048576. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--output", required = true, paramLabel = "FILE.jsonl", description = "Where answers are appended.")
    Path output;

    @Override
    public Integer call() throws Exception {
        Check.between("--samples", samples, 1, MAX_SAMPLES);
        chat.check(temperature, maxTokens);
        Outputs.requireExtension(output, "--output", "jsonl");
        CollectJob.Options options = new CollectJob.Options(samples, chat.concurrency, chat.retry());
        List<Question> qs = QuestionsCommand.load(questions, QuestionsCommand.languages(languages));
        if (qs.isEmpty()) throw new IllegalArgumentException("no questions in " + questions
                + (languages == null ? "" : " for --languages " + languages));
        ChatClient.Settings settings = chat.settings(temperature, maxTokens);
        PrintStream err = System.err;
        try (ChatClient client = new ChatClient(settings)) {
            ChatOptions.Printer progress = new ChatOptions.Printer(err, "collected", "answers");
            ChatJob.Summary<WorkItem.Key> s;
            try {
                s = new CollectJob(client, chat.llm, options).run(qs, output, progress);
            } catch (CollectException e) {
                // The run stopped on purpose; what was answered is kept and a rerun resumes.
                progress.endLine();
                err.println("univar collect: error: " + e.getMessage());
                return 1;
            }
            progress.endLine();
            ChatOptions.repaired(err, s, output, "answer");
            err.printf(Locale.ROOT, "univar: %,d answers collected from %s into %s in %s (%,d of %,d already there, %,d retries)%n",
                    s.completed(), chat.llm, output, Progress.duration(s.elapsed().toMillis() / 1e3), s.alreadyPresent(),
                    s.planned(), s.retries());
            return ChatOptions.finish(err, "collect", "answers", s, output);
        }
    }
}
