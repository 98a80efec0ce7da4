package dev.univar.hub;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.univar.data.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;

/**
 * A model by name: resolves {@code ORG/NAME@REVISION} to a commit, downloads the files a model needs into the
 * {@link HubCache} and returns the snapshot folder, which loads as a local model. The files:
 * <ul>
 * <li>{@code config.json}, read first: a repository whose {@code model_type} univar does not run fails before any
 * weights are fetched. A repository with remote code ({@code auto_map}, as NomicBERT's) is read from its config
 * alone: no Python file is downloaded or run;</li>
 * <li>the weights: {@code model.safetensors}, or {@code model.safetensors.index.json} and the shards it names;</li>
 * <li>the tokenizer files there are: {@code tokenizer.json}, {@code vocab.txt}, {@code sentencepiece.bpe.model},
 * {@code tokenizer_config.json}, {@code special_tokens_map.json};</li>
 * <li>the sentence-transformers files there are: {@code modules.json}, {@code sentence_bert_config.json},
 * {@code config_sentence_transformers.json} and the modules' {@code N_Name/config.json}
 * ({@code 1_Pooling/config.json}).</li>
 * </ul>
 * With a complete snapshot in the cache a run downloads nothing (one request resolves the revision; none when the
 * revision is a commit hash). Offline ({@code HF_HUB_OFFLINE}), or when the Hub cannot be reached, the cached
 * snapshot of the revision is used if it is complete.
 */
public final class HubModels {
    /** The {@code model_type}s univar's engine runs. */
    public static final Set<String> SUPPORTED_MODEL_TYPES = new TreeSet<>(Set.of("bert", "nomic_bert"));
    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";
    static final List<String> TOKENIZERS = List.of("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model");
    static final List<String> TOKENIZER_EXTRAS = List.of("tokenizer_config.json", "special_tokens_map.json");
    static final List<String> SENTENCE_TRANSFORMERS = List.of("modules.json", "sentence_bert_config.json",
            "config_sentence_transformers.json");
    private static final Pattern MODULE_CONFIG = Pattern.compile("[0-9]+_[^/]+/config\\.json");

    /** What {@link #resolve} did: the snapshot folder, its commit, and what was downloaded (0 when all was cached). */
    public record Result(Path snapshot, String commit, int filesDownloaded, long bytesDownloaded) {
    }

    private final HubSettings settings;
    private final HubCache cache;
    private final Consumer<String> log;
    private final DownloadListener listener;

    /** {@code log} hears notices (retries, waiting for another process, using the cache); {@code listener} the bytes. */
    public HubModels(HubSettings settings, Consumer<String> log, DownloadListener listener) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        this.log = log;
        this.listener = listener;
    }

    public HubCache cache() {
        return cache;
    }

    /** The snapshot folder of {@code repo}, downloading what the cache lacks. */
    public Result resolve(RepoSpec repo) throws IOException {
        if (settings.offline()) {
            String commit = cache.commit(repo);
            String missing = commit == null ? null : missing(cache.snapshot(repo, commit));
            if (commit == null || missing != null)
                throw new HubException(HubException.Kind.NOT_CACHED, "HF_HUB_OFFLINE is set and " + repo + " is not in the cache "
                        + cache.root() + (commit != null ? " (its snapshot " + RepoSpec.shortCommit(commit) + " lacks " + missing + ")" : "")
                        + ": download it first with the network on (univar models download " + repo + ")");
            return new Result(cache.snapshot(repo, commit), commit, 0, 0);
        }
        if (repo.isCommit() && missing(cache.snapshot(repo, repo.revision())) == null)
            return new Result(cache.snapshot(repo, repo.revision()), repo.revision(), 0, 0);
        try (HubClient client = new HubClient(settings, log)) {
            HubClient.RepoInfo info;
            try {
                info = client.revision(repo);
            } catch (HubException e) {
                if (e.kind() != HubException.Kind.UNREACHABLE) throw e;
                String commit = cache.commit(repo);
                if (commit != null && missing(cache.snapshot(repo, commit)) == null) {
                    log.accept(e.getMessage() + "; using the cached " + repo + " (" + RepoSpec.shortCommit(commit) + ")");
                    return new Result(cache.snapshot(repo, commit), commit, 0, 0);
                }
                throw new HubException(HubException.Kind.UNREACHABLE, e.getMessage() + ", and " + repo + " is not in the cache "
                        + cache.root(), e);
            }
            return new Fetch(client, repo, info).run();
        }
    }

    /** One model's download: the file list, the metadata, the bytes. */
    private final class Fetch {
        final HubClient client;
        final RepoSpec repo;
        final String commit;
        final Set<String> files;
        final Path snapshot;
        int filesDownloaded;
        long bytesDownloaded;

        Fetch(HubClient client, RepoSpec repo, HubClient.RepoInfo info) {
            this.client = client;
            this.repo = repo;
            this.commit = info.commit();
            this.files = new LinkedHashSet<>(info.files());
            this.snapshot = cache.snapshot(repo, commit);
        }

        Result run() throws IOException {
            String at = repo.id() + "@" + RepoSpec.shortCommit(commit);
            if (!files.contains(CONFIG))
                throw new HubException(HubException.Kind.UNSUPPORTED, at + " has no config.json: not a transformers model univar can run");
            fetchQuietly(CONFIG);
            checkArchitecture(at);
            List<String> wanted = new ArrayList<>(List.of(CONFIG));
            if (files.contains(WEIGHTS)) {
                wanted.add(WEIGHTS);
            } else if (files.contains(INDEX)) {
                fetchQuietly(INDEX);
                wanted.add(INDEX);
                for (String shard : shards(snapshot.resolve(INDEX))) {
                    if (!files.contains(shard))
                        throw new HubException(HubException.Kind.UNSUPPORTED, at + ": " + INDEX + " names " + shard + ", which is not in the repository");
                    wanted.add(shard);
                }
            } else {
                throw new HubException(HubException.Kind.UNSUPPORTED, at + " has no " + WEIGHTS + (files.contains("pytorch_model.bin")
                        ? " (only pytorch_model.bin, a pickle univar does not read: it reads safetensors weights)" : ""));
            }
            if (TOKENIZERS.stream().noneMatch(files::contains))
                throw new HubException(HubException.Kind.UNSUPPORTED, at + " has no tokenizer univar reads (" + String.join(", ", TOKENIZERS) + ")");
            for (String f : TOKENIZERS) if (files.contains(f)) wanted.add(f);
            for (String f : TOKENIZER_EXTRAS) if (files.contains(f)) wanted.add(f);
            for (String f : SENTENCE_TRANSFORMERS) if (files.contains(f)) wanted.add(f);
            for (String f : files) if (MODULE_CONFIG.matcher(f).matches() && safePath(f)) wanted.add(f);

            List<String> absent = new ArrayList<>();
            for (String f : wanted) if (!Files.exists(snapshot.resolve(f))) absent.add(f);
            if (!absent.isEmpty()) {
                List<HubClient.FileInfo> metas = new ArrayList<>();
                for (String f : absent) metas.add(client.metadata(repo, commit, f));
                Map<String, HubClient.FileInfo> toFetch = new LinkedHashMap<>();
                for (HubClient.FileInfo m : metas)
                    if (!Files.exists(cache.blob(repo, m.etag()))) toFetch.putIfAbsent(m.etag(), m);
                long total = 0, resumed = 0;
                for (HubClient.FileInfo m : toFetch.values()) {
                    total += Math.max(0, m.size());
                    Path inc = cache.incomplete(repo, m.etag());
                    if (Files.isRegularFile(inc)) resumed += Math.min(Files.size(inc), Math.max(0, m.size()));
                }
                if (!toFetch.isEmpty()) listener.started(repo.toString(), total, resumed);
                boolean complete = false;
                try {
                    for (HubClient.FileInfo m : metas) fetch(m, listener::advanced);
                    complete = true;
                } finally {
                    if (!toFetch.isEmpty()) listener.finished(complete);
                }
            }
            cache.writeRef(repo, commit);
            String missing = missing(snapshot);
            if (missing != null) throw new HubException(HubException.Kind.NETWORK, at + ": the snapshot still lacks " + missing);
            return new Result(snapshot, commit, filesDownloaded, bytesDownloaded);
        }

        /** A small file needed before the plan is made (config, index): fetched without a progress line. */
        private void fetchQuietly(String file) throws IOException {
            if (Files.exists(snapshot.resolve(file))) return;
            fetch(client.metadata(repo, commit, file), n -> { });
        }

        /** Puts {@code m}'s blob in the cache (unless there) under its lock, and links the snapshot's file to it. */
        private void fetch(HubClient.FileInfo m, LongConsumer progress) throws IOException {
            Path blob = cache.blob(repo, m.etag());
            if (!Files.exists(blob)) {
                Runnable onWait = () -> log.accept("waiting for another process downloading " + m.path() + " of " + repo);
                try (BlobLock lock = BlobLock.acquire(cache.lockFile(repo, m.etag()), onWait)) {
                    if (!Files.exists(blob)) {
                        Path inc = cache.incomplete(repo, m.etag());
                        Files.createDirectories(inc.getParent());
                        long before = Files.isRegularFile(inc) ? Files.size(inc) : 0;
                        client.download(repo, commit, m, inc, progress);
                        AtomicFile.replace(inc, blob);
                        filesDownloaded++;
                        bytesDownloaded += Math.max(0, Files.size(blob) - before);
                    }
                }
            }
            cache.link(repo, commit, m.path(), m.etag());
        }

        private void checkArchitecture(String at) throws IOException {
            JsonObject cfg;
            try {
                cfg = JsonParser.parseString(Files.readString(snapshot.resolve(CONFIG), StandardCharsets.UTF_8)).getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw new HubException(HubException.Kind.UNSUPPORTED, at + ": config.json is not a JSON object");
            }
            List<String> archs = new ArrayList<>();
            if (cfg.has("architectures") && cfg.get("architectures").isJsonArray())
                for (JsonElement a : cfg.getAsJsonArray("architectures")) if (a.isJsonPrimitive()) archs.add(a.getAsString());
            JsonElement t = cfg.get("model_type");
            String type = t != null && t.isJsonPrimitive() ? t.getAsString() : null;
            // ModelConfig's default: a config without model_type is BERT, as in univar's own folders.
            if (type == null && archs.stream().allMatch(a -> a.startsWith("Bert"))) type = "bert";
            if (type == null || !SUPPORTED_MODEL_TYPES.contains(type))
                throw new HubException(HubException.Kind.UNSUPPORTED, at + " is " + (type == null ? "a model without model_type"
                        : "a '" + type + "' model") + (archs.isEmpty() ? "" : " (" + String.join(", ", archs) + ")")
                        + ": univar runs " + String.join(", ", SUPPORTED_MODEL_TYPES) + " encoders; its weights were not downloaded");
        }
    }

    /** Null when {@code snapshot} holds a loadable model (config, weights, a tokenizer), else what it lacks. */
    static String missing(Path snapshot) {
        if (!Files.isDirectory(snapshot)) return "everything";
        if (!Files.exists(snapshot.resolve(CONFIG))) return CONFIG;
        if (!Files.exists(snapshot.resolve(WEIGHTS))) {
            if (!Files.exists(snapshot.resolve(INDEX))) return WEIGHTS;
            try {
                for (String shard : shards(snapshot.resolve(INDEX)))
                    if (!Files.exists(snapshot.resolve(shard))) return shard;
            } catch (IOException e) {
                return INDEX;
            }
        }
        if (TOKENIZERS.stream().noneMatch(f -> Files.exists(snapshot.resolve(f)))) return "a tokenizer";
        return null;
    }

    /** The shard files a sharded checkpoint's index names, each a safe relative path. */
    static List<String> shards(Path index) throws IOException {
        try {
            JsonObject o = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8)).getAsJsonObject();
            Set<String> names = new TreeSet<>();
            for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("weight_map").entrySet()) names.add(e.getValue().getAsString());
            for (String n : names)
                if (!safePath(n)) throw new HubException(HubException.Kind.UNSUPPORTED, index + " names an unsafe file: " + n);
            return List.copyOf(names);
        } catch (JsonParseException | IllegalStateException | NullPointerException | ClassCastException | UnsupportedOperationException e) {
            throw new HubException(HubException.Kind.UNSUPPORTED, index.getFileName() + " is not a safetensors index (no weight_map)");
        }
    }

    /** A relative path inside the snapshot: no absolute path, no {@code ..}, no backslash or control character. */
    static boolean safePath(String p) {
        if (p.isEmpty() || p.length() > 1024 || p.startsWith("/") || p.contains("\\")) return false;
        for (String step : p.split("/", -1)) if (step.isEmpty() || step.equals(".") || step.equals("..")) return false;
        return p.chars().noneMatch(c -> c < 0x20 || c == 0x7f || c == ':');
    }
}
