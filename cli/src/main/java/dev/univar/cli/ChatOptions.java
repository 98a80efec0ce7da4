package dev.univar.cli;

import dev.univar.collect.ChatClient;
import dev.univar.collect.ChatJob;
import dev.univar.collect.Durations;
import dev.univar.collect.RetryPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The options of the commands that ask an LLM through an OpenAI-compatible chat API ({@code collect},
 * {@code questions generate}, {@code translate}): endpoint, model, key, and how the shared {@link ChatJob} runs.
 * Sampling temperature and answer length are each command's own (their defaults differ).
 */
final class ChatOptions {
    /** The ranges of the numeric options: a value outside is a usage error (exit code 2) before any work. */
    static final int MAX_TOKENS = 1 << 20, MAX_CONCURRENCY = 256, MAX_ATTEMPTS = 100;
    static final double MAX_TEMPERATURE = 2;
    static final long MIN_RESPONSE_BYTES = 1024, MAX_RESPONSE_BYTES = 1L << 30;

    @Option(names = "--endpoint", required = true, paramLabel = "BASE_URL",
            description = "Base URL of the API, as in OpenAI clients (e.g. http://localhost:8000/v1); requests go to BASE_URL/chat/completions.")
    String endpoint;

    @Option(names = "--llm", required = true, paramLabel = "MODEL", description = "Model name sent to the API and written in the output.")
    String llm;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable holding the API key (sent as a Bearer token, never written or logged). Default: OPENAI_API_KEY if set, else no key.")
    String apiKeyEnv;

    @Option(names = "--concurrency", defaultValue = "4", paramLabel = "N", description = "Requests in flight at once, 1 to 256. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(names = "--timeout", defaultValue = "60s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Longest wait for one response (e.g. 500ms, 60s, 2m). Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Option(names = "--system-prompt", paramLabel = "TEXT", description = "A system message sent before every request.")
    String systemPrompt;

    @Option(names = "--max-attempts", defaultValue = "6", paramLabel = "N", description = "Requests per item before it counts as failed, 1 to 100. Default: ${DEFAULT-VALUE}.")
    int maxAttempts;

    @Option(names = "--max-response-bytes", defaultValue = "8388608", paramLabel = "N",
            description = "Largest response body read, in bytes, 1024 to 1073741824; a longer one is abandoned and its item listed as failed. Default: ${DEFAULT-VALUE} (8 MiB).")
    long maxResponseBytes;

    /** Hidden: the first backoff delay; tests shrink it so fault injection runs fast. */
    @Option(names = "--retry-base-delay", defaultValue = "1s", hidden = true, converter = DurationConverter.class)
    Duration retryBaseDelay;

    /** Checks these options and a command's own temperature and length: one line naming the option, exit code 2. */
    void check(double temperature, int maxTokens) {
        Check.within("--temperature", temperature, 0, MAX_TEMPERATURE);
        Check.between("--max-tokens", maxTokens, 1, MAX_TOKENS);
        Check.between("--concurrency", concurrency, 1, MAX_CONCURRENCY);
        Check.between("--max-attempts", maxAttempts, 1, MAX_ATTEMPTS);
        Check.between("--max-response-bytes", maxResponseBytes, MIN_RESPONSE_BYTES, MAX_RESPONSE_BYTES);
    }

    ChatJob.Options job() {
        return new ChatJob.Options(concurrency, retry());
    }

    RetryPolicy retry() {
        return new RetryPolicy(maxAttempts, retryBaseDelay, retryBaseDelay.compareTo(Duration.ofSeconds(60)) >= 0
                ? retryBaseDelay : Duration.ofSeconds(60));
    }

    ChatClient.Settings settings(double temperature, int maxTokens) {
        return new ChatClient.Settings(endpoint, llm, apiKey(), systemPrompt, temperature, maxTokens, timeout, maxResponseBytes);
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

    /**
     * The end of a run, on stderr: the notice about a repaired last line, and the failures by kind. Returns the exit
     * code: 1 when some items failed.
     */
    static int finish(PrintStream err, String command, String items, ChatJob.Summary<?> s, java.nio.file.Path output) {
        if (!s.failures().isEmpty()) {
            StringBuilder kinds = new StringBuilder();
            for (Map.Entry<String, Integer> e : s.failureCounts().entrySet())
                kinds.append(kinds.isEmpty() ? "" : ", ").append(e.getValue()).append(" × ").append(e.getKey());
            err.printf(Locale.ROOT, "univar %s: error: %,d %s failed after all retries (%s); listed in %s; rerun the same command to retry them%n",
                    command, s.failures().size(), items, kinds, s.failuresFile());
            return 1;
        }
        return 0;
    }

    /** The notice for a last line cut short by an interrupted run, if this run repaired one. */
    static void repaired(PrintStream err, ChatJob.Summary<?> s, java.nio.file.Path file, String item) {
        if (s.repairedLastLine())
            err.println("univar: notice: " + file + ": cut off a broken last line left by an interrupted run; its " + item + " was asked again");
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
    static final class Printer implements ChatJob.Listener {
        private final PrintStream err;
        private final String verb, items;
        private final boolean terminal;
        private final long intervalNanos;
        private long last = System.nanoTime();
        private boolean dirty;

        /** {@code verb} and {@code items} as in "collected 5 of 10 answers". */
        Printer(PrintStream err, String verb, String items) {
            this.err = err;
            this.verb = verb;
            this.items = items;
            this.terminal = System.console() != null && System.console().isTerminal();
            this.intervalNanos = terminal ? 200_000_000L : 5_000_000_000L;
        }

        @Override
        public void progress(long done, long todo, long failed, long retries, double rate, double etaSeconds) {
            long now = System.nanoTime();
            if (now - last < intervalNanos) return;
            last = now;
            String line = String.format(Locale.ROOT, "%s %,d of %,d %s (%.0f%%), %,d failed, %,d retries, %.1f %s/s%s",
                    verb, done, todo, items, todo == 0 ? 100.0 : 100.0 * (done + failed) / todo, failed, retries, rate, items,
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
