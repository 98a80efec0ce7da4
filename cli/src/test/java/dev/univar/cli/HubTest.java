package dev.univar.cli;

import dev.univar.hub.DownloadListener;
import dev.univar.hub.HubModels;
import dev.univar.hub.HubSettings;
import dev.univar.hub.RepoSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Models by name from a fake Hugging Face Hub on loopback ({@link FakeHub}): downloads, the cache layout
 * huggingface_hub uses, resumed and verified transfers, retries, offline use, errors and the token's privacy.
 * The Hub's environment variables are set through univar.env.* system properties ({@link HubSettings#env}).
 */
class HubTest {
    static final String TOKEN = "hf_TestSecret_9f8e7d6c5b4a";
    static final String TINY = "test-org/tiny-bert";
    static final List<String> ENV = List.of("HF_ENDPOINT", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT",
            "XDG_CACHE_HOME");
    /** The files univar fetches from the tiny BERT repository (not README.md, not pytorch_model.bin). */
    static final Set<String> TINY_FILES = Set.of("config.json", "model.safetensors", "tokenizer.json", "modules.json",
            "sentence_bert_config.json", "1_Pooling/config.json");

    static FakeHub hub;
    static Path work, tinyBert;
    static String tinyCommit, previousHome;

    @TempDir
    Path dir;
    Path cache;

    @BeforeAll
    static void startHub() throws IOException {
        work = Files.createTempDirectory("univar-hub-test");
        previousHome = System.getProperty("univar.home");
        System.setProperty("univar.home", work.resolve("home").toString());
        Path tokenizer = work.resolve("tokenizer.json");
        try (InputStream in = HubTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            assertNotNull(in, "the MiniLM tokenizer is on the test classpath");
            Files.copy(in, tokenizer);
        }
        tinyBert = work.resolve("tiny-bert");
        Run r = Run.of("init", "--tokenizer", tokenizer.toString(), "--layers", "1", "--hidden", "16", "--heads", "2",
                "--output", tinyBert.toString());
        assertEquals(0, r.exit(), r.err());
        Files.writeString(tinyBert.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
                """);
        Files.writeString(tinyBert.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 128, \"do_lower_case\": false}\n");
        Files.createDirectories(tinyBert.resolve("1_Pooling"));
        Files.writeString(tinyBert.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 16, \"pooling_mode_mean_tokens\": true}\n");
        Files.writeString(tinyBert.resolve("README.md"), "# tiny BERT\nnot needed by univar\n");
        Files.write(tinyBert.resolve("pytorch_model.bin"), new byte[4096]);

        hub = new FakeHub();
        tinyCommit = hub.addRepo(TINY, tinyBert, FakeHub.Access.PUBLIC);
        hub.addRepo("test-org/private-bert", tinyBert, FakeHub.Access.PRIVATE);
        hub.addRepo("test-org/gated-bert", tinyBert, FakeHub.Access.GATED);
        hub.addCommit("test-org/tiny-llama", Map.of(
                "config.json", "{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"]}".getBytes(StandardCharsets.UTF_8),
                "model.safetensors", new byte[2048], "tokenizer.json", "{}".getBytes(StandardCharsets.UTF_8)), FakeHub.Access.PUBLIC, "main");
        hub.addCommit("test-org/bin-only", Map.of(
                "config.json", Files.readAllBytes(tinyBert.resolve("config.json")),
                "pytorch_model.bin", new byte[2048], "vocab.txt", "[PAD]\n".getBytes(StandardCharsets.UTF_8)), FakeHub.Access.PUBLIC, "main");
    }

    @AfterAll
    static void stopHub() throws IOException {
        if (hub != null) hub.close();
        for (String n : ENV) System.clearProperty("univar.env." + n);
        if (previousHome != null) System.setProperty("univar.home", previousHome);
        else System.clearProperty("univar.home");
        try (Stream<Path> s = Files.walk(work)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @BeforeEach
    void environment() {
        cache = dir.resolve("hf").resolve("hub");
        for (String n : ENV) env(n, ""); // hide the developer's own variables
        env("HF_ENDPOINT", hub.endpoint());
        env("HF_HOME", dir.resolve("hf").toString());
        env("HF_HUB_CACHE", cache.toString());
        env("HF_HUB_DOWNLOAD_TIMEOUT", "2");
        hub.reset();
        hub.token = null;
    }

    @AfterEach
    void clear() {
        for (String n : ENV) System.clearProperty("univar.env." + n);
    }

    static void env(String name, String value) {
        System.setProperty("univar.env." + name, value);
    }

    Path repoDir(String id) {
        return cache.resolve("models--" + id.replace("/", "--"));
    }

    Path snapshot(String id, String commit) {
        return repoDir(id).resolve("snapshots").resolve(commit);
    }

    static byte[] source(String file) throws IOException {
        return Files.readAllBytes(tinyBert.resolve(file));
    }

    static String etag(String file) throws IOException {
        byte[] b = source(file);
        return FakeHub.isLfs(file, b) ? FakeHub.sha256(b) : FakeHub.gitSha1(b);
    }

    static List<String> errorLines(Run r) {
        return r.err().lines().filter(l -> l.contains(": error: ")).toList();
    }

    void assertNoTokenAnywhere(Run r) {
        assertFalse(r.out().contains(TOKEN), "token in stdout");
        assertFalse(r.err().contains(TOKEN), "token in stderr");
    }

    Run download(String spec) {
        return Run.of("models", "download", spec);
    }

    @Test
    void embedDownloadsOnceThenRunsFromTheCacheAndOffline() throws IOException {
        Path input = Files.writeString(dir.resolve("in.txt"), "The cat sat on the mat.\nValues differ between LLMs.\n\n");
        Path local = dir.resolve("local.npy"), fromHub = dir.resolve("hub.npy");
        Run ref = Run.of("embed", "--model", tinyBert.toString(), "--input", input.toString(), "--output", local.toString());
        assertEquals(0, ref.exit(), ref.err());

        Run first = Run.of("embed", "--model", TINY, "--input", input.toString(), "--output", fromHub.toString());
        assertEquals(0, first.exit(), first.err());
        assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(fromHub), "the Hub's copy embeds as the folder does");
        assertTrue(first.err().contains("downloaded"), first.err());
        for (String f : TINY_FILES) assertEquals(1, hub.contentGets(f).size(), f + " fetched once");
        assertTrue(hub.contentGets("README.md").isEmpty() && hub.contentGets("pytorch_model.bin").isEmpty(), "only what a model needs");
        assertTrue(hub.hits("cdn").stream().allMatch(h -> h.path().startsWith("/lfs/")), "weights came from the CDN");

        hub.reset();
        Run second = Run.of("embed", "--model", TINY, "--input", input.toString(), "--output", fromHub.toString());
        assertEquals(0, second.exit(), second.err());
        assertEquals(1, hub.hits.size(), "a second run only resolves the revision: " + hub.hits);
        assertEquals("GET", hub.hits.getFirst().method());
        assertTrue(hub.hits.getFirst().path().startsWith("/api/models/" + TINY + "/revision/main"));
        assertFalse(second.err().contains("download"), second.err());

        hub.reset();
        env("HF_HUB_OFFLINE", "1");
        Run offline = Run.of("embed", "--model", TINY, "--input", input.toString(), "--output", fromHub.toString());
        assertEquals(0, offline.exit(), offline.err());
        assertTrue(hub.hits.isEmpty(), "offline: no request");
        assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(fromHub));

        env("HF_HUB_OFFLINE", "");
        Run pinned = Run.of("tokenize", "--model", TINY + "@" + tinyCommit, "--input", input.toString());
        assertEquals(0, pinned.exit(), pinned.err());
        assertTrue(hub.hits.isEmpty(), "a cached commit needs no request: " + hub.hits);
        assertTrue(pinned.out().startsWith("[101,"), pinned.out());
    }

    @Test
    void cacheIsLaidOutAsHuggingfaceHubLaysItOut() throws IOException {
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        Path snap = snapshot(TINY, tinyCommit);
        assertEquals(snap.toString(), r.out().strip(), "stdout: the snapshot folder");

        // The layout of https://huggingface.co/docs/hub/local-cache: every file the cache holds, and nothing else.
        Set<String> expected = new TreeSet<>();
        String folder = "models--test-org--tiny-bert";
        for (String f : TINY_FILES) {
            expected.add(".locks/" + folder + "/" + etag(f) + ".lock");
            expected.add(folder + "/blobs/" + etag(f));
            expected.add(folder + "/snapshots/" + tinyCommit + "/" + f);
        }
        expected.add(folder + "/refs/main");
        assertEquals(expected, tree(cache));

        assertEquals(tinyCommit, Files.readString(repoDir(TINY).resolve("refs/main")), "refs/main: the commit, no newline");
        for (String f : TINY_FILES) {
            Path pointer = snap.resolve(f);
            assertTrue(Files.isSymbolicLink(pointer), f + " is a symlink");
            String up = "../".repeat(f.split("/").length + 1);
            assertEquals(Path.of(up + "blobs/" + etag(f)), Files.readSymbolicLink(pointer), f + ": relative link into blobs/");
            assertArrayEquals(source(f), Files.readAllBytes(pointer), f + " content");
            assertEquals(FakeHub.isLfs(f, source(f)) ? 64 : 40, etag(f).length(), "LFS blobs by SHA-256, others by git SHA-1");
        }
    }

    /** Every regular file and symlink under {@code root}, relative, with / separators. */
    static Set<String> tree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            Set<String> out = new TreeSet<>();
            s.filter(p -> Files.isSymbolicLink(p) || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .forEach(p -> out.add(root.relativize(p).toString().replace('\\', '/')));
            return out;
        }
    }

    /** {@code ../shared/models/nomic-bert-tiny} (a NomicBERT repository with remote code), or the test is skipped. */
    static Path nomicBertTiny() {
        String root = System.getProperty("univar.root");
        Path nomic = root == null ? null : Path.of(root).resolve("../shared/models/nomic-bert-tiny").normalize();
        Assumptions.assumeTrue(nomic != null && Files.isDirectory(nomic), "../shared/models/nomic-bert-tiny not available");
        return nomic;
    }

    /**
     * The issue's acceptance line: embed test-org/nomic-bert-tiny from the fake Hub, then again from the cache and
     * offline, each equal to embedding the folder itself. Skipped while the engine cannot run NomicBERT (issue 14).
     */
    @Test
    void nomicBertTinyEmbedsFromTheHub() throws IOException {
        Path nomic = nomicBertTiny();
        Path input = nomic.resolve("golden/inputs.jsonl");
        Path local = dir.resolve("local.npy"), fromHub = dir.resolve("hub.npy");
        Run ref = Run.of("embed", "--model", nomic.toString(), "--input", input.toString(), "--output", local.toString());
        Assumptions.assumeTrue(ref.exit() == 0, "the engine cannot embed NomicBERT yet (issue 14): " + errorLines(ref));
        hub.addRepo("test-org/nomic-bert-tiny", nomic, FakeHub.Access.PUBLIC);
        for (String mode : List.of("download", "cached", "offline")) {
            if (mode.equals("offline")) env("HF_HUB_OFFLINE", "1");
            hub.reset();
            Run r = Run.of("embed", "--model", "test-org/nomic-bert-tiny", "--input", input.toString(), "--output", fromHub.toString());
            assertEquals(0, r.exit(), mode + ": " + r.err());
            assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(fromHub), mode);
            if (!mode.equals("download")) assertTrue(hub.hits("cdn").isEmpty(), mode + ": nothing downloaded");
        }
    }

    @Test
    void nomicBertTinyIsDownloadedFromItsConfigWithoutRemoteCode() throws IOException {
        Path nomic = nomicBertTiny();
        assertTrue(Files.readString(nomic.resolve("config.json")).contains("auto_map"), "a remote-code repository");
        String commit = hub.addRepo("test-org/nomic-bert-tiny", nomic, FakeHub.Access.PUBLIC);

        Run r = download("test-org/nomic-bert-tiny");
        assertEquals(0, r.exit(), r.err());
        Path snap = snapshot("test-org/nomic-bert-tiny", commit);
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.walk(snap)) {
            s.filter(Files::isSymbolicLink).forEach(p -> files.add(snap.relativize(p).toString()));
        }
        assertEquals(new TreeSet<>(List.of("1_Pooling/config.json", "config.json", "model.safetensors", "modules.json",
                "sentence_bert_config.json", "tokenizer.json")), files, "config, weights, tokenizer, sentence-transformers files only");
        for (String f : files) assertArrayEquals(Files.readAllBytes(nomic.resolve(f)), Files.readAllBytes(snap.resolve(f)), f);
        byte[] weights = Files.readAllBytes(nomic.resolve("model.safetensors"));
        assertTrue(Files.isRegularFile(repoDir("test-org/nomic-bert-tiny").resolve("blobs").resolve(FakeHub.sha256(weights))));
        assertEquals(1, hub.contentGets("model.safetensors").size());

        hub.reset();
        env("HF_HUB_OFFLINE", "1");
        Run again = download("test-org/nomic-bert-tiny");
        assertEquals(0, again.exit(), again.err());
        assertTrue(hub.hits.isEmpty());
        assertEquals(snap.toString(), again.out().strip());
    }

    @Test
    void aConnectionCutMidFileResumesWithARangeRequest() throws IOException {
        hub.script = (f, attempt) -> f.equals("model.safetensors") && attempt == 1 ? FakeHub.Fault.CUT_HALF : FakeHub.Fault.NONE;
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        List<FakeHub.Hit> gets = hub.contentGets("model.safetensors");
        assertEquals(2, gets.size(), gets.toString());
        assertNull(gets.get(0).range());
        int size = source("model.safetensors").length;
        String range = gets.get(1).range();
        assertNotNull(range, "the second request resumes");
        long from = Long.parseLong(range.substring("bytes=".length(), range.length() - 1));
        assertTrue(from > 0 && from <= size / 2, "resumed from what arrived: " + range + " of " + size);
        assertTrue(r.err().contains("retrying"), r.err());
        assertArrayEquals(source("model.safetensors"), Files.readAllBytes(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }

    @Test
    void aKilledDownloadResumesFromItsIncompleteBlob() throws IOException {
        byte[] weights = source("model.safetensors");
        int kept = weights.length * 2 / 5;
        Path blobs = Files.createDirectories(repoDir(TINY).resolve("blobs"));
        Files.write(blobs.resolve(FakeHub.sha256(weights) + ".incomplete"), Arrays.copyOf(weights, kept));
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        List<FakeHub.Hit> gets = hub.contentGets("model.safetensors");
        assertEquals(1, gets.size());
        assertEquals("bytes=" + kept + "-", gets.getFirst().range());
        assertTrue(r.err().contains("resuming"), r.err());
        assertEquals(FakeHub.sha256(weights), FakeHub.sha256(Files.readAllBytes(blobs.resolve(FakeHub.sha256(weights)))));
        assertFalse(Files.exists(blobs.resolve(FakeHub.sha256(weights) + ".incomplete")));
    }

    @Test
    void aDamagedIncompleteBlobIsDownloadedAgainFromTheStart() throws IOException {
        byte[] weights = source("model.safetensors");
        byte[] damaged = Arrays.copyOf(weights, weights.length / 3);
        damaged[10] ^= 1;
        Path blobs = Files.createDirectories(repoDir(TINY).resolve("blobs"));
        Files.write(blobs.resolve(FakeHub.sha256(weights) + ".incomplete"), damaged);
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        List<FakeHub.Hit> gets = hub.contentGets("model.safetensors");
        assertEquals(2, gets.size(), gets.toString());
        assertNotNull(gets.get(0).range());
        assertNull(gets.get(1).range(), "the second transfer starts over");
        assertArrayEquals(weights, Files.readAllBytes(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }

    @Test
    void aCorruptedTransferIsRefusedAndNothingLandsInSnapshots() throws IOException {
        hub.script = (f, attempt) -> f.equals("model.safetensors") ? FakeHub.Fault.CORRUPT : FakeHub.Fault.NONE;
        Run r = download(TINY);
        assertEquals(1, r.exit(), r.err());
        List<String> errors = errorLines(r);
        assertEquals(1, errors.size(), r.err());
        assertTrue(errors.getFirst().contains("SHA-256") && errors.getFirst().contains("model.safetensors"), errors.getFirst());
        Path snap = snapshot(TINY, tinyCommit);
        assertFalse(Files.exists(snap.resolve("model.safetensors"), LinkOption.NOFOLLOW_LINKS), "no weights in snapshots/");
        String sha = FakeHub.sha256(source("model.safetensors"));
        assertFalse(Files.exists(repoDir(TINY).resolve("blobs").resolve(sha)));
        assertFalse(Files.exists(repoDir(TINY).resolve("blobs").resolve(sha + ".incomplete")), "the bad bytes are discarded");
        assertFalse(Files.exists(repoDir(TINY).resolve("refs/main")), "no ref to an incomplete snapshot");
        assertEquals(1, hub.contentGets("model.safetensors").size(), "a fresh transfer that fails its checksum is not retried blindly");

        hub.reset();
        Run again = download(TINY);
        assertEquals(0, again.exit(), again.err());
    }

    @Test
    void rateLimitsAndServerErrorsAreRetriedWithBackoff() throws IOException {
        hub.apiScript = (f, attempt) -> attempt == 1 ? FakeHub.Fault.SERVER_ERROR : FakeHub.Fault.NONE;
        hub.script = (f, attempt) -> !f.equals("model.safetensors") ? FakeHub.Fault.NONE
                : attempt == 1 ? FakeHub.Fault.RATE_LIMIT : attempt == 2 ? FakeHub.Fault.SERVER_ERROR : FakeHub.Fault.NONE;
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        List<FakeHub.Hit> gets = hub.contentGets("model.safetensors");
        assertEquals(3, gets.size(), gets.toString());
        assertTrue(gets.get(1).nanos() - gets.get(0).nanos() >= 900_000_000L, "Retry-After: 1 is honoured");
        assertEquals(2, hub.hits.stream().filter(h -> h.path().startsWith("/api/")).count());
        assertTrue(r.err().contains("HTTP 429") && r.err().contains("HTTP 500"), r.err());
        assertArrayEquals(source("model.safetensors"), Files.readAllBytes(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }

    @Test
    void slowServersAreWaitedForAndStalledOnesResumed() throws IOException {
        hub.script = (f, attempt) -> f.equals("model.safetensors") ? FakeHub.Fault.SLOW : FakeHub.Fault.NONE;
        Run slow = download(TINY);
        assertEquals(0, slow.exit(), slow.err());
        assertEquals(1, hub.contentGets("model.safetensors").size(), "slow but steady: one transfer");

        Run.of("models", "rm", TINY);
        hub.reset();
        hub.script = (f, attempt) -> f.equals("model.safetensors") && attempt == 1 ? FakeHub.Fault.STALL : FakeHub.Fault.NONE;
        Run stalled = download(TINY);
        assertEquals(0, stalled.exit(), stalled.err());
        List<FakeHub.Hit> gets = hub.contentGets("model.safetensors");
        assertEquals(2, gets.size(), gets.toString());
        assertNotNull(gets.get(1).range(), "resumed after the stall");
        assertTrue(stalled.err().contains("no data for 2 s"), stalled.err());
        assertArrayEquals(source("model.safetensors"), Files.readAllBytes(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }

    @Test
    void failuresAreOneLineNamingTheCause() throws IOException {
        Path input = Files.writeString(dir.resolve("in.txt"), "hello\n");
        Path out = dir.resolve("out.npy");
        record Case(String model, String... expected) {
        }
        List<Case> cases = List.of(
                new Case("test-org/nope", "'test-org/nope' is not a folder", "no model test-org/nope on " + hub.endpoint(), "HF_TOKEN"),
                new Case("test-org/private-bert", "no model test-org/private-bert", "a private model needs HF_TOKEN"),
                new Case("test-org/gated-bert", "test-org/gated-bert is a gated model", "set HF_TOKEN"),
                new Case(TINY + "@nope", "test-org/tiny-bert has no revision 'nope'"),
                new Case("test-org/tiny-llama", "is a 'llama' model (LlamaForCausalLM)", "univar runs bert, nomic_bert encoders"),
                new Case("test-org/bin-only", "has no model.safetensors", "pytorch_model.bin"));
        for (Case c : cases) {
            Run r = Run.of("embed", "--model", c.model(), "--input", input.toString(), "--output", out.toString());
            assertEquals(1, r.exit(), c.model() + ": " + r.err());
            List<String> errors = errorLines(r);
            assertEquals(1, errors.size(), r.err());
            for (String e : c.expected()) assertTrue(errors.getFirst().contains(e), c.model() + ": " + errors.getFirst());
        }
        assertTrue(hub.hits("cdn").isEmpty(), "no weights downloaded for models that cannot run");

        env("HF_HUB_OFFLINE", "1");
        Run offline = download(TINY);
        assertEquals(1, offline.exit());
        assertTrue(errorLines(offline).getFirst().contains("HF_HUB_OFFLINE is set and test-org/tiny-bert is not in the cache"), offline.err());

        env("HF_HUB_OFFLINE", "");
        env("HF_ENDPOINT", "http://127.0.0.1:" + closedPort());
        Run unreachable = download(TINY);
        assertEquals(1, unreachable.exit());
        assertEquals(1, errorLines(unreachable).size(), unreachable.err());
        assertTrue(errorLines(unreachable).getFirst().contains("cannot reach http://127.0.0.1:")
                && unreachable.err().contains("is not in the cache"), unreachable.err());
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void anUnreachableHubFallsBackToTheCache() throws IOException {
        assertEquals(0, download(TINY).exit());
        env("HF_ENDPOINT", "http://127.0.0.1:" + closedPort());
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("cannot reach") && r.err().contains("using the cached test-org/tiny-bert"), r.err());
        assertEquals(snapshot(TINY, tinyCommit).toString(), r.out().strip());
    }

    @Test
    void theTokenGoesToTheHubOnlyAndIsNeverShown() throws IOException {
        hub.token = TOKEN;
        env("HF_TOKEN", TOKEN);
        hub.apiScript = (f, attempt) -> attempt == 1 ? FakeHub.Fault.ECHO_TOKEN_500 : FakeHub.Fault.NONE;
        List<Run> runs = new ArrayList<>();
        Run priv = download("test-org/private-bert");
        runs.add(priv);
        assertEquals(0, priv.exit(), priv.err());
        assertTrue(priv.err().contains("[HF_TOKEN]"), "the echoed token is redacted: " + priv.err());
        Run gated = download("test-org/gated-bert");
        runs.add(gated);
        assertEquals(0, gated.exit(), gated.err());
        assertFalse(hub.hits("cdn").isEmpty());
        assertTrue(hub.hits("cdn").stream().allMatch(h -> h.authorization() == null), "no token to the CDN");
        assertTrue(hub.hits("hub").stream().allMatch(h -> ("Bearer " + TOKEN).equals(h.authorization())), "the token to the Hub");

        env("HF_TOKEN", TOKEN + "-wrong");
        Run.of("models", "rm", "test-org/gated-bert");
        Run refused = download("test-org/gated-bert");
        runs.add(refused);
        assertEquals(1, refused.exit());
        assertTrue(errorLines(refused).getFirst().contains("the account of HF_TOKEN has not been granted access"), refused.err());
        assertFalse(refused.err().contains(TOKEN + "-wrong"));

        // The token file huggingface-cli login writes, when HF_TOKEN is unset.
        env("HF_TOKEN", "");
        Files.writeString(dir.resolve("hf").resolve("token"), TOKEN + "\n");
        Run.of("models", "rm", "test-org/private-bert");
        Run fromFile = download("test-org/private-bert");
        runs.add(fromFile);
        assertEquals(0, fromFile.exit(), fromFile.err());

        for (Run r : runs) assertNoTokenAnywhere(r);
        try (Stream<Path> s = Files.walk(cache)) {
            for (Path p : s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList())
                assertFalse(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains(TOKEN), "token written to " + p);
        }
    }

    @Test
    void aBlobPythonAlreadyDownloadedIsNotDownloadedAgain() throws IOException {
        byte[] weights = source("model.safetensors");
        Path blobs = Files.createDirectories(repoDir(TINY).resolve("blobs"));
        Files.write(blobs.resolve(FakeHub.sha256(weights)), weights); // as huggingface_hub leaves it for another commit
        Run r = download(TINY);
        assertEquals(0, r.exit(), r.err());
        assertTrue(hub.contentGets("model.safetensors").isEmpty(), "reused: " + hub.hits);
        assertArrayEquals(weights, Files.readAllBytes(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }

    @Test
    void twoDownloadsOfOneModelAtOnceFetchEachFileOnce() throws Exception {
        hub.script = (f, attempt) -> f.equals("model.safetensors") ? FakeHub.Fault.SLOW : FakeHub.Fault.NONE;
        List<String> notices = new java.util.concurrent.CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<HubModels.Result>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++)
                results.add(pool.submit(() -> new HubModels(HubSettings.fromEnvironment(), notices::add, DownloadListener.NONE)
                        .resolve(RepoSpec.parse(TINY))));
            Path a = results.get(0).get().snapshot(), b = results.get(1).get().snapshot();
            assertEquals(a, b);
        } finally {
            pool.shutdownNow();
        }
        for (String f : TINY_FILES) assertEquals(1, hub.contentGets(f).size(), f + ": " + hub.contentGets(f));
        assertTrue(notices.stream().anyMatch(n -> n.startsWith("waiting for another process downloading")), notices.toString());
        assertArrayEquals(source("model.safetensors"), Files.readAllBytes(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }

    @Test
    void modelsListShowsAndRmDeletesCachedModels() throws IOException {
        Run empty = Run.of("models", "list");
        assertEquals(0, empty.exit());
        assertTrue(empty.err().contains("no models in the cache"), empty.err());
        assertEquals(0, download(TINY).exit());
        assertEquals(1, download("test-org/private-bert@main").exit(), "private without a token fails");

        Run list = Run.of("models", "list");
        assertEquals(0, list.exit(), list.err());
        List<String> lines = list.out().lines().toList();
        assertTrue(lines.getFirst().startsWith("MODEL"), list.out());
        String row = lines.stream().filter(l -> l.startsWith(TINY)).findFirst().orElseThrow();
        assertTrue(row.contains("main=" + tinyCommit.substring(0, 12)) && row.contains("MB"), row);

        Run rm = Run.of("models", "rm", TINY);
        assertEquals(0, rm.exit(), rm.err());
        assertTrue(rm.err().contains("removed test-org/tiny-bert"), rm.err());
        assertFalse(Files.exists(repoDir(TINY)));
        assertFalse(Files.exists(cache.resolve(".locks/models--test-org--tiny-bert")));
        assertEquals(1, Run.of("models", "rm", TINY).exit(), "not cached");
        assertEquals(2, Run.of("models", "rm", TINY + "@main").exit(), "a revision is a usage error");
        assertEquals(2, Run.of("models", "download", "not-a-hub-name").exit());
    }

    @Test
    void trainStartsFromAHubModel() throws IOException {
        Path corpus = AnalysisFixtures.hostileCorpus(dir);
        Run inCache = Run.of("train", "--corpus", corpus.toString(), "--base", TINY, "--output", cache.resolve("mine").toString(),
                "--steps", "1");
        assertEquals(2, inCache.exit(), "an output inside the Hub cache is refused: " + inCache.err());
        Run r = Run.of("train", "--corpus", corpus.toString(), "--base", TINY, "--output", dir.resolve("trained").toString(),
                "--steps", "1", "--batch-size", "4", "--max-length", "16", "--threads", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(dir.resolve("trained/model.safetensors")));
        assertTrue(Files.isSymbolicLink(snapshot(TINY, tinyCommit).resolve("model.safetensors")));
    }
}
