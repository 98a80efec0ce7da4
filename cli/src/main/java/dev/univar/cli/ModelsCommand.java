package dev.univar.cli;

import dev.univar.hub.DownloadProgress;
import dev.univar.hub.HubCache;
import dev.univar.hub.HubException;
import dev.univar.hub.HubModels;
import dev.univar.hub.HubSettings;
import dev.univar.hub.RepoSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "models", mixinStandardHelpOptions = true,
        description = {"Models from the Hugging Face Hub, kept in the Hub's cache, which Python's huggingface_hub",
                "shares ($HF_HUB_CACHE, default ~/.cache/huggingface/hub). A --model ORG/NAME[@REVISION]",
                "downloads on first use; `models download` does it ahead (e.g. before working offline with",
                "HF_HUB_OFFLINE=1). Environment: HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE."},
        subcommands = {ModelsCommand.Download.class, ModelsCommand.ListModels.class, ModelsCommand.Remove.class})
final class ModelsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    static RepoSpec repo(String name) {
        try {
            return RepoSpec.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    @Command(name = "download", mixinStandardHelpOptions = true,
            description = {"Download a model into the Hub's cache and print its snapshot folder on stdout.",
                    "Fetches the config, the weights, the tokenizer and the sentence-transformers files,",
                    "resuming an interrupted download; a model already cached costs one request."})
    static final class Download implements Callable<Integer> {
        @Parameters(paramLabel = "ORG/NAME[@REVISION]", description = "The model; the revision (branch, tag or commit) defaults to main.")
        String model;

        @Override
        public Integer call() throws Exception {
            RepoSpec repo = repo(model);
            DownloadProgress progress = Models.progress(System.err);
            HubModels.Result r = new HubModels(HubSettings.fromEnvironment(), Models.log(progress), progress).resolve(repo);
            System.err.println("univar models: " + repo.id() + "@" + r.commit() + (r.filesDownloaded() == 0 ? " is in the cache"
                    : ": " + r.filesDownloaded() + " files (" + DownloadProgress.bytes(r.bytesDownloaded()) + ") downloaded"));
            System.out.println(r.snapshot());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"List the models in the Hub's cache, with their size on disk and revisions",
                    "(BRANCH=COMMIT, or a cached commit no branch points to)."})
    static final class ListModels implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            HubCache cache = new HubCache(HubSettings.fromEnvironment().cache());
            List<HubCache.Entry> entries = cache.list();
            PrintStream out = System.out;
            if (entries.isEmpty()) {
                System.err.println("univar models: no models in the cache " + cache.root());
                return 0;
            }
            int w = Math.max(5, entries.stream().mapToInt(e -> e.repoId().length()).max().orElse(0));
            out.printf(Locale.ROOT, "%-" + w + "s %10s  %s%n", "MODEL", "SIZE", "REVISIONS");
            long total = 0;
            for (HubCache.Entry e : entries) {
                total += e.bytes();
                List<String> revs = new ArrayList<>();
                for (Map.Entry<String, String> ref : e.refs().entrySet())
                    revs.add(ref.getKey() + "=" + shortCommit(ref.getValue()));
                for (String s : e.snapshots())
                    if (!e.refs().containsValue(s)) revs.add(shortCommit(s));
                String size = DownloadProgress.bytes(e.bytes());
                String partial = e.partialBytes() > 0 ? " (+" + DownloadProgress.bytes(e.partialBytes()) + " partly downloaded)" : "";
                out.printf(Locale.ROOT, "%-" + w + "s %10s  %s%s%n", e.repoId(), size, revs.isEmpty() ? "-" : String.join(" ", revs), partial);
            }
            System.err.println("univar models: " + entries.size() + (entries.size() == 1 ? " model, " : " models, ") + DownloadProgress.bytes(total) + " in " + cache.root());
            return 0;
        }

        private static String shortCommit(String c) {
            return c.length() > 12 ? c.substring(0, 12) : c;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = {"Delete a model from the Hub's cache, all revisions (for Python too, which shares the cache)."})
    static final class Remove implements Callable<Integer> {
        @Parameters(paramLabel = "ORG/NAME", description = "The model.")
        String model;

        @Override
        public Integer call() throws Exception {
            if (model.contains("@"))
                throw new UsageException("models rm deletes a whole model with all its revisions: give ORG/NAME without @REVISION");
            RepoSpec repo = repo(model);
            HubCache cache = new HubCache(HubSettings.fromEnvironment().cache());
            HubCache.Entry removed = cache.remove(repo);
            if (removed == null)
                throw new HubException(HubException.Kind.NOT_CACHED, repo.id() + " is not in the cache " + cache.root());
            System.err.println("univar models: removed " + repo.id() + " (" + DownloadProgress.bytes(removed.bytes() + removed.partialBytes())
                    + ") from " + cache.root());
            return 0;
        }
    }
}
