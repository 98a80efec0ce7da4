package dev.univar.cli;

import dev.univar.collect.ChatClient;
import dev.univar.collect.CollectException;
import dev.univar.collect.CollectJob;
import dev.univar.collect.Durations;
import dev.univar.collect.Question;
import dev.univar.collect.RetryPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    /** The ranges of the numeric options: a value outside is a usage error (exit code 2) before any work. */
    static final int MAX_SAMPLES = 100_000, MAX_TOKENS = 1 << 20, MAX_CONCURRENCY = 256, MAX_ATTEMPTS = 100;
    static final double MAX_TEMPERATURE = 2;
    static final long MIN_RESPONSE_BYTES = 1024, MAX_RESPONSE_BYTES = 1L << 30;


    @Option(names = "--endpoint", required = true, paramLabel = "BASE_URL",
            description = "Base URL of the API, as in OpenAI clients (e.g. http://localhost:8000/v1); requests go to BASE_URL/chat/completions.")
    String endpoint;

    @Option(names = "--llm", required = true, paramLabel = "MODEL", description = "Model name sent to the API and written in the 'model' column.")
    String llm;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable holding the API key (sent as a Bearer token, never written or logged). Default: OPENAI_API_KEY if set, else no key.")
    String apiKeyEnv;

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

    @Option(names = "--concurrency", defaultValue = "4", paramLabel = "N", description = "Requests in flight at once, 1 to 256. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(names = "--timeout", defaultValue = "60s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Longest wait for one response (e.g. 500ms, 60s, 2m). Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Option(names = "--system-prompt", paramLabel = "TEXT", description = "A system message sent before every question.")
    String systemPrompt;

    @Option(names = "--max-attempts", defaultValue = "6", paramLabel = "N", description = "Requests per answer before it counts as failed, 1 to 100. Default: ${DEFAULT-VALUE}.")
    int maxAttempts;

    @Option(names = "--max-response-bytes", defaultValue = "8388608", paramLabel = "N",
            description = "Largest response body read, in bytes, 1024 to 1073741824; a longer one is abandoned and its answer listed as failed. Default: ${DEFAULT-VALUE} (8 MiB).")
    long maxResponseBytes;

    /** Hidden: the first backoff delay; tests shrink it so fault injection runs fast. */
    @Option(names = "--retry-base-delay", defaultValue = "1s", hidden = true, converter = DurationConverter.class)
    Duration retryBaseDelay;

    @Option(names = "--output", required = true, paramLabel = "FILE.jsonl", description = "Where answers are appended.")
    Path output;

    @Override
    public Integer call() throws Exception {
        checkRanges();
        Outputs.requireExtension(output, "--output", "jsonl");
        CollectJob.Options options = new CollectJob.Options(samples, concurrency,
                new RetryPolicy(maxAttempts, retryBaseDelay, max(retryBaseDelay, Duration.ofSeconds(60))));
        List<Question> qs = QuestionsCommand.load(questions, QuestionsCommand.languages(languages));
        if (qs.isEmpty()) throw new IllegalArgumentException("no questions in " + questions
                + (languages == null ? "" : " for --languages " + languages));
        ChatClient.Settings settings = new ChatClient.Settings(endpoint, llm, apiKey(), systemPrompt, temperature,
                maxTokens, timeout, maxResponseBytes);
        PrintStream err = System.err;
        try (ChatClient client = new ChatClient(settings)) {
            Printer progress = new Printer(err);
            CollectJob.Summary s;
            try {
                s = new CollectJob(client, llm, options).run(qs, output, progress);
            } catch (CollectException e) {
                // The run stopped on purpose; what was answered is kept and a rerun resumes.
                progress.endLine();
                err.println("univar collect: error: " + e.getMessage());
                return 1;
            }
            progress.endLine();
            if (s.repairedLastLine())
                err.println("univar: notice: " + output + ": cut off a broken last line left by an interrupted run; its answer was asked again");
            err.printf(Locale.ROOT, "univar: %,d answers collected from %s into %s in %s (%,d of %,d already there, %,d retries)%n",
                    s.collected(), llm, output, Progress.duration(s.elapsed().toMillis() / 1e3), s.alreadyPresent(),
                    s.planned(), s.retries());
            if (!s.failures().isEmpty()) {
                StringBuilder kinds = new StringBuilder();
                for (Map.Entry<String, Integer> e : s.failureCounts().entrySet())
                    kinds.append(kinds.isEmpty() ? "" : ", ").append(e.getValue()).append(" × ").append(e.getKey());
                err.printf(Locale.ROOT, "univar collect: error: %,d answers failed after all retries (%s); listed in %s; rerun the same command to retry them%n",
                        s.failures().size(), kinds, s.failuresFile());
                return 1;
            }
        }
        return 0;
    }

    /** Out-of-range numbers are usage errors: one line naming the option and its range, exit code 2. */
    private void checkRanges() {
        Check.between("--samples", samples, 1, MAX_SAMPLES);
        Check.within("--temperature", temperature, 0, MAX_TEMPERATURE);
        Check.between("--max-tokens", maxTokens, 1, MAX_TOKENS);
        Check.between("--concurrency", concurrency, 1, MAX_CONCURRENCY);
        Check.between("--max-attempts", maxAttempts, 1, MAX_ATTEMPTS);
        Check.between("--max-response-bytes", maxResponseBytes, MIN_RESPONSE_BYTES, MAX_RESPONSE_BYTES);
    }

    /** The key from the environment only: a command-line flag would leak it into shell history and process lists. */
    private String apiKey() {
        if (apiKeyEnv != null) {
            String key = System.getenv(apiKeyEnv);
            if (key == null || key.isEmpty())
                throw new IllegalArgumentException("environment variable " + apiKeyEnv + " (--api-key-env) is not set");
            return key;
        }
        String key = System.getenv("OPENAI_API_KEY");
        return key == null || key.isEmpty() ? null : key;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Counts, rate and ETA on stderr: in place on a terminal, a line every few seconds otherwise. */
    static final class Printer implements CollectJob.Listener {
        private final PrintStream err;
        private final boolean terminal;
        private final long intervalNanos;
        private long last = System.nanoTime();
        private boolean dirty;

        Printer(PrintStream err) {
            this.err = err;
            this.terminal = System.console() != null && System.console().isTerminal();
            this.intervalNanos = terminal ? 200_000_000L : 5_000_000_000L;
        }

        @Override
        public void progress(long done, long todo, long failed, long retries, double rate, double etaSeconds) {
            long now = System.nanoTime();
            if (now - last < intervalNanos) return;
            last = now;
            String line = String.format(Locale.ROOT, "collected %,d of %,d answers (%.0f%%), %,d failed, %,d retries, %.1f answers/s%s",
                    done, todo, todo == 0 ? 100.0 : 100.0 * (done + failed) / todo, failed, retries, rate,
                    Double.isFinite(etaSeconds) ? ", ETA " + Progress.duration(etaSeconds) : "");
            if (terminal) {
                err.print("\r" + line + "\u001b[K");
                dirty = true;
            } else {
                err.println(line);
            }
        }

        void endLine() {
            if (dirty) {
                err.println();
                dirty = false;
            }
        }
    }
}
