package dev.univar.collect;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code collect}: asks every question × language × sample not yet in the output and appends one line per answer,
 * through the shared {@link ChatJob} (its checks, retries, resume and failure list). Failed answers are listed in
 * {@code OUTPUT.failures.jsonl}.
 */
public final class CollectJob {

    public record Options(int samples, int concurrency, RetryPolicy retry) {
        public Options {
            if (samples < 1) throw new IllegalArgumentException("--samples must be at least 1");
            if (concurrency < 1) throw new IllegalArgumentException("--concurrency must be at least 1");
        }
    }

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private final ChatClient client;
    private final String model;
    private final Options options;

    public CollectJob(ChatClient client, String model, Options options) {
        this.client = client;
        this.model = model;
        this.options = options;
    }

    public ChatJob.Summary<WorkItem.Key> run(List<Question> questions, Path output, ChatJob.Listener listener)
            throws InterruptedException {
        List<Ask> tasks = new ArrayList<>();
        for (Question q : questions)
            for (int s = 0; s < options.samples(); s++) tasks.add(new Ask(new WorkItem(q, s)));
        return new ChatJob<WorkItem.Key>(client, new ChatJob.Options(options.concurrency(), options.retry()))
                .run(tasks, CorpusFile.COLLECT, output, ChatJob.failuresFile(output), listener);
    }

    /** One answer to collect. */
    private final class Ask implements ChatJob.Task<WorkItem.Key> {
        private final WorkItem item;

        Ask(WorkItem item) {
            this.item = item;
        }

        @Override
        public WorkItem.Key key() {
            return item.key(model);
        }

        @Override
        public String prompt() {
            return item.question().text();
        }

        @Override
        public String line(ChatClient.Answer a) {
            JsonObject o = new JsonObject();
            Question q = item.question();
            o.addProperty("question_id", q.id());
            o.addProperty("question", q.text());
            o.addProperty("answer", a.content());
            o.addProperty("model", model);
            o.addProperty("lang", q.lang());
            o.addProperty("sample", item.sample());
            o.addProperty("finish_reason", a.finishReason());
            o.add("usage", a.usage());
            o.addProperty("timestamp", Instant.now().toString());
            o.addProperty("question_group", q.group());
            return GSON.toJson(o);
        }

        @Override
        public void describe(JsonObject failure) {
            failure.addProperty("question_id", item.question().id());
            failure.addProperty("lang", item.question().lang());
            failure.addProperty("sample", item.sample());
            failure.addProperty("model", model);
        }
    }
}
