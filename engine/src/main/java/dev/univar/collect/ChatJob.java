package dev.univar.collect;

import dev.univar.data.IoFailure;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one job runner of the commands that ask an LLM: {@code collect}, {@code questions generate} and
 * {@code translate}. It asks every {@link Task} whose key the output does not hold yet, {@code concurrency} at a
 * time, and appends one line per finished task to an append-only {@link CorpusFile}: rerunning resumes, and each
 * key lands exactly once. The first task goes alone, as a check of the endpoint: a server that cannot be reached,
 * has no chat-completions endpoint, refuses the key or answers something else stops the run there with a clear
 * message, before any hammering. After it, a failure that would be the same for every request (404, 401) stops the
 * run too, and so does a long streak of tasks that all failed. Tasks that fail after all retries are listed, as
 * they fail, in the failures file; a rerun tries them again.
 */
public final class ChatJob<K> {

    public record Options(int concurrency, RetryPolicy retry) {
        public Options {
            if (concurrency < 1) throw new IllegalArgumentException("--concurrency must be at least 1");
        }
    }

    /** One work item: a prompt whose usable answer becomes one line of the output, named by {@link #key()}. */
    public interface Task<K> {
        /** What names this item in the output; {@link CorpusFile.Format#key()} reads it back from the line. */
        K key();

        /** The user message sent. */
        String prompt();

        /** Why {@code answer} cannot be used (it is then asked again, at once), or null when it can. */
        default String unusable(ChatClient.Answer answer) {
            return null;
        }

        /** The output line for a usable answer: one JSON object, no line break. */
        String line(ChatClient.Answer answer);

        /** Adds the fields that name this item to its line in the failures file. */
        void describe(JsonObject failure);
    }

    /** Called after every finished or failed task, from worker threads, one call at a time. */
    public interface Listener {
        void progress(long done, long todo, long failed, long retries, double rate, double etaSeconds);
    }

    public record Failure<K>(K key, int attempts, ChatClient.Kind kind, String reason) {
    }

    /** {@code planned} tasks, of which {@code alreadyPresent} were in the output before the run. */
    public record Summary<K>(long planned, long alreadyPresent, long completed, List<Failure<K>> failures, long retries,
                             boolean repairedLastLine, Path failuresFile, Duration elapsed) {
        /** Failures counted by kind, most frequent first. */
        public Map<String, Integer> failureCounts() {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (Failure<K> f : failures) counts.merge(f.kind().label, 1, Integer::sum);
            List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
            sorted.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
            Map<String, Integer> out = new LinkedHashMap<>();
            for (var e : sorted) out.put(e.getKey(), e.getValue());
            return out;
        }
    }

    /** Tasks in a row that failed for good, with no success between them, before the run gives up. */
    static final int FAILURE_STREAK = 20;
    /** A first task answered with something that is not a chat completion this many times: not a compatible server. */
    static final int PREFLIGHT_MALFORMED = 3;

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private final ChatClient client;
    private final Options options;

    public ChatJob(ChatClient client, Options options) {
        this.client = client;
        this.options = options;
    }

    /** {@code OUTPUT.failures.jsonl}, beside the output. */
    public static Path failuresFile(Path output) {
        return output.resolveSibling(output.getFileName() + ".failures.jsonl");
    }

    /**
     * Runs the {@code tasks} (distinct keys) not yet in {@code output}, whose lines are in {@code format}; failures go
     * to {@code failures}. A run that had none removes the last run's list.
     */
    public Summary<K> run(List<? extends Task<K>> tasks, CorpusFile.Format<K> format, Path output, Path failures,
                          Listener listener) throws InterruptedException {
        long start = System.nanoTime();
        try (CorpusFile<K> corpus = CorpusFile.open(output, format)) {
            List<Task<K>> todo = new ArrayList<>();
            for (Task<K> t : tasks) if (!corpus.done().contains(t.key())) todo.add(t);
            Run run;
            try (FailureLog log = new FailureLog(failures)) {
                run = new Run(corpus, log, todo.size(), listener, start);
                if (!todo.isEmpty()) run.execute(todo);
                // A clean run leaves no stale list; one that stopped early proves nothing about the last run's
                // failures, so their list stays unless this run had failures of its own (which replaced it).
                if (run.failures.isEmpty()) log.deleteStale();
            }
            return new Summary<>(tasks.size(), tasks.size() - todo.size(), run.completed.get(), List.copyOf(run.failures),
                    run.retries.get(), corpus.repaired(), failures, Duration.ofNanos(System.nanoTime() - start));
        }
    }

    /** One run's shared state. */
    private final class Run {
        final CorpusFile<K> corpus;
        final FailureLog log;
        final long todo;
        final Listener listener;
        final long start;
        final AtomicLong completed = new AtomicLong();
        final AtomicLong retries = new AtomicLong();
        final AtomicInteger streak = new AtomicInteger();
        final AtomicReference<String> fatal = new AtomicReference<>();
        /** Opens when the run must stop: backoff waits end early and requests in flight are abandoned. */
        final CountDownLatch stopped = new CountDownLatch(1);
        final List<Failure<K>> failures = Collections.synchronizedList(new ArrayList<>());

        Run(CorpusFile<K> corpus, FailureLog log, long todo, Listener listener, long start) {
            this.corpus = corpus;
            this.log = log;
            this.todo = todo;
            this.listener = listener;
            this.start = start;
        }

        void execute(List<Task<K>> todo) throws InterruptedException {
            Queue<Task<K>> queue = new ConcurrentLinkedQueue<>(todo);
            // The check of the endpoint: tasks alone until one is answered (a refused task is the task's problem;
            // an answer the task cannot use still shows that the endpoint answers).
            int rejected = 0;
            while (!queue.isEmpty()) {
                Task<K> item = queue.poll();
                Result r = attempt(item, true);
                if (r instanceof Fatal f) throw new CollectException(f.message);
                record(item, r);
                if (r instanceof Success || r instanceof Failed f && f.failure.kind() == ChatClient.Kind.UNUSABLE) break;
                if (++rejected >= 3) {
                    ChatClient.Failure f = ((Failed) r).failure;
                    throw new CollectException(client.uri() + (f.kind() == ChatClient.Kind.REJECTED ? " refused" : " failed")
                            + " the first " + rejected + " requests: " + f.reason());
                }
            }
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < options.concurrency(); i++) {
                workers.add(Thread.ofVirtual().name("collect-", i).start(() -> {
                    Task<K> item;
                    while (fatal.get() == null && (item = queue.poll()) != null) {
                        try {
                            Result r = attempt(item, false);
                            if (r instanceof Fatal f) stop(f.message);
                            else record(item, r);
                        } catch (InterruptedException e) {
                            return;
                        } catch (RuntimeException e) {
                            stop(e.getMessage() != null ? e.getMessage() : e.toString());
                        }
                    }
                }));
            }
            try {
                for (Thread t : workers) t.join();
            } catch (InterruptedException e) {
                workers.forEach(Thread::interrupt);
                throw e;
            }
            if (fatal.get() != null) throw new CollectException(fatal.get());
        }

        void stop(String message) {
            if (fatal.compareAndSet(null, message)) {
                stopped.countDown();
                client.cancelAll();
            }
        }

        void record(Task<K> item, Result r) {
            switch (r) {
                case Success s -> {
                    corpus.append(item.key(), item.line(s.answer));
                    completed.incrementAndGet();
                    streak.set(0);
                }
                case Failed f -> {
                    Failure<K> failure = new Failure<>(item.key(), f.attempts, f.failure.kind(), f.failure.reason());
                    log.append(item, failure);
                    failures.add(failure);
                    if (streak.incrementAndGet() >= FAILURE_STREAK)
                        stop(FAILURE_STREAK + " items in a row failed after all retries, stopping; last: "
                                + f.failure.kind().label + ": " + f.failure.reason());
                }
                case Fatal ignored -> throw new IllegalStateException();
            }
            synchronized (listener) {
                long done = completed.get() + failures.size();
                double seconds = (System.nanoTime() - start) / 1e9;
                double rate = seconds > 0 ? done / seconds : 0;
                listener.progress(completed.get(), todo, failures.size(), retries.get(), rate,
                        rate > 0 ? (todo - done) / rate : Double.NaN);
            }
        }

        /** Asks for one task until it is answered usably, fails for good, or the run must stop. */
        Result attempt(Task<K> item, boolean preflight) throws InterruptedException {
            int malformed = 0;
            for (int attempt = 1; ; attempt++) {
                ChatClient.Outcome o = client.ask(item.prompt());
                if (o instanceof ChatClient.Answer a) {
                    String why = item.unusable(a);
                    if (why == null) return new Success(a);
                    o = new ChatClient.Failure(ChatClient.Kind.UNUSABLE, why, null);
                }
                if (fatal.get() != null) return new Fatal(fatal.get());
                ChatClient.Failure f = (ChatClient.Failure) o;
                switch (f.kind()) {
                    case NOT_COMPATIBLE -> {
                        return new Fatal(client.uri() + " answered " + f.reason()
                                + ": is --endpoint the base URL of an OpenAI-compatible API (e.g. http://localhost:8000/v1), and --llm a model it serves?");
                    }
                    case AUTH -> {
                        return new Fatal(client.uri() + " refused the request: " + f.reason()
                                + " (check the API key: --api-key-env names the environment variable holding it)");
                    }
                    case UNREACHABLE -> {
                        if (preflight) return new Fatal("cannot reach " + client.uri() + ": " + f.reason()
                                + " (is the server running? check --endpoint)");
                    }
                    case MALFORMED -> {
                        if (preflight && ++malformed >= PREFLIGHT_MALFORMED)
                            return new Fatal(client.uri() + " does not answer like an OpenAI chat-completions endpoint: "
                                    + malformed + " of its responses were not chat completions (last: " + f.reason() + ")");
                    }
                    default -> {
                    }
                }
                if (!f.kind().retryable || attempt >= options.retry().maxAttempts()) {
                    // A refused or over-size request, or an answer the task cannot use, is that task's problem, not
                    // proof of a broken endpoint.
                    if (preflight && f.kind() != ChatClient.Kind.REJECTED && f.kind() != ChatClient.Kind.TOO_LARGE
                            && f.kind() != ChatClient.Kind.UNUSABLE)
                        return new Fatal("the first request to " + client.uri() + " failed " + attempt + " times; last: "
                                + f.kind().label + ": " + f.reason());
                    return new Failed(f, attempt);
                }
                // Once the run stops, an unfinished item is not a failure of its own: it is simply not done.
                if (fatal.get() != null) return new Fatal(fatal.get());
                retries.incrementAndGet();
                // The server answered, only not usably: no reason to wait before asking again.
                if (f.kind() == ChatClient.Kind.UNUSABLE) continue;
                if (stopped.await(options.retry().delay(attempt, f.retryAfter(), ThreadLocalRandom.current()).toNanos(), TimeUnit.NANOSECONDS))
                    return new Fatal(fatal.get());
            }
        }
    }

    private sealed interface Result permits Success, Failed, Fatal {
    }

    private record Success(ChatClient.Answer answer) implements Result {
    }

    private record Failed(ChatClient.Failure failure, int attempts) implements Result {
    }

    private record Fatal(String message) implements Result {
    }

    /**
     * The failures file, written as failures happen: the first failure of a run replaces the last run's list,
     * and each failure is appended as one line in one write, so it reaches the OS at once (a kill loses nothing
     * listed; the file is fsynced when the run ends).
     */
    private static final class FailureLog implements AutoCloseable {
        private final Path file;
        private FileChannel channel;
        private boolean closed;

        FailureLog(Path file) {
            this.file = file;
        }

        synchronized void append(Task<?> task, Failure<?> f) {
            JsonObject o = new JsonObject();
            task.describe(o);
            o.addProperty("attempts", f.attempts());
            o.addProperty("kind", f.kind().name().toLowerCase(Locale.ROOT));
            o.addProperty("reason", f.reason());
            ByteBuffer line = ByteBuffer.wrap((GSON.toJson(o) + "\n").getBytes(StandardCharsets.UTF_8));
            if (closed) return; // a worker outliving an interrupted run must not start the list over
            try {
                if (channel == null)
                    channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING);
                while (line.hasRemaining()) channel.write(line);
            } catch (IOException e) {
                throw new CollectException(file + ": cannot write the list of failed answers: " + IoFailure.reason(e));
            }
        }

        /** Removes the last run's list (this run had no failures). */
        synchronized void deleteStale() {
            try {
                if (channel == null) Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new CollectException(file + ": cannot remove the last run's list of failed answers: " + IoFailure.reason(e));
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            if (channel == null) return;
            try (FileChannel c = channel) {
                channel = null;
                c.force(false);
            } catch (IOException e) {
                throw new CollectException(file + ": cannot write the list of failed answers: " + IoFailure.reason(e));
            }
        }
    }
}
