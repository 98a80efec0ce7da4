package dev.univar.hub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The Hub support's pieces without a server: names, settings, checksums, the cache layout. */
class HubPartsTest {
    static final List<String> VARS = List.of("HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME",
            "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "XDG_CACHE_HOME", "HF_HUB_DOWNLOAD_TIMEOUT");

    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        for (String v : VARS) System.clearProperty("univar.env." + v);
    }

    static void env(String name, String value) {
        System.setProperty("univar.env." + name, value);
    }

    @Test
    void repoNames() {
        RepoSpec r = RepoSpec.parse("CAiRE/UniVaR-lambda-5");
        assertEquals("CAiRE", r.org());
        assertEquals("main", r.revision());
        assertEquals("models--CAiRE--UniVaR-lambda-5", r.folderName());
        assertEquals("CAiRE/UniVaR-lambda-5", r.toString());
        RepoSpec pr = RepoSpec.parse("org/name@refs/pr/1");
        assertEquals("refs/pr/1", pr.revision());
        assertEquals("org/name@refs/pr/1", pr.toString());
        assertTrue(RepoSpec.parse("o/n@0123456789abcdef0123456789abcdef01234567").isCommit());
        assertFalse(RepoSpec.parse("o/n@v1.0").isCommit());
        for (String ok : List.of("a/b", "out/model", "nomic-ai/nomic-embed-text-v1.5", "o/n@v1.0", "o_1/n.2@main"))
            assertTrue(RepoSpec.isHubName(ok), ok);
        for (String bad : List.of("minilm", "./model", "../x/y", "/abs/path", "a/b/c", "a//b", "a/b@", "a/b@../../etc",
                "a/b@refs//x", "a--b/c", "a/b..c", "-a/b", "a/b-", "a/b@x\\y", "a b/c", "a/" + "n".repeat(97)))
            assertFalse(RepoSpec.isHubName(bad), bad);
        assertThrows(IllegalArgumentException.class, () -> RepoSpec.parse("a/b/c"));
    }

    @Test
    void settingsComeFromTheEnvironmentConventions() throws IOException {
        for (String v : VARS) env(v, "");
        env("HF_HOME", dir.resolve("hfhome").toString());
        HubSettings s = HubSettings.fromEnvironment();
        assertEquals(URI.create("https://huggingface.co"), s.endpoint());
        assertEquals(dir.resolve("hfhome/hub"), s.cache());
        assertNull(s.token());
        assertFalse(s.offline());

        env("HF_ENDPOINT", "http://127.0.0.1:8080/mirror/");
        env("HF_HUB_CACHE", dir.resolve("c").toString());
        env("HF_HUB_OFFLINE", "TRUE");
        Files.createDirectories(dir.resolve("hfhome"));
        Files.writeString(dir.resolve("hfhome/token"), "hf_fromFile\n");
        s = HubSettings.fromEnvironment();
        assertEquals(URI.create("http://127.0.0.1:8080/mirror"), s.endpoint());
        assertEquals(dir.resolve("c"), s.cache());
        assertTrue(s.offline());
        assertEquals("hf_fromFile", s.token(), "the token file huggingface-cli login writes");
        assertFalse(s.toString().contains("hf_fromFile"), "toString hides the token");
        env("HF_TOKEN", "hf_fromEnv");
        assertEquals("hf_fromEnv", HubSettings.fromEnvironment().token());
        assertEquals("echo [HF_TOKEN] back", HubSettings.fromEnvironment().redact("echo hf_fromEnv back"));

        for (String off : List.of("0", "false", "no")) {
            env("HF_HUB_OFFLINE", off);
            assertFalse(HubSettings.fromEnvironment().offline(), off);
        }
        env("HF_HOME", "");
        env("HF_HUB_CACHE", "");
        env("XDG_CACHE_HOME", dir.resolve("xdg").toString());
        assertEquals(dir.resolve("xdg/huggingface/hub"), HubSettings.fromEnvironment().cache());
        env("HF_ENDPOINT", "ftp://example.org");
        assertThrows(IllegalArgumentException.class, HubSettings::fromEnvironment);
        env("HF_ENDPOINT", "");
        env("HF_HUB_DOWNLOAD_TIMEOUT", "-1");
        assertThrows(IllegalArgumentException.class, HubSettings::fromEnvironment);
    }

    @Test
    void theTokenGoesOnlyToTheHubsOwnHost() {
        HubSettings s = new HubSettings(URI.create("https://huggingface.co"), "t0ken", dir, false,
                java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1), dev.univar.collect.RetryPolicy.defaults());
        assertTrue(s.isHubHost(URI.create("https://huggingface.co/api/models/a/b")));
        assertTrue(s.isHubHost(URI.create("https://HuggingFace.co:443/x")));
        assertFalse(s.isHubHost(URI.create("https://cdn-lfs.huggingface.co/x")));
        assertFalse(s.isHubHost(URI.create("http://huggingface.co/x")), "not over plain http");
        assertFalse(s.isHubHost(URI.create("https://huggingface.co:8443/x")));
    }

    @Test
    void etagsUrlsAndChecksums() throws IOException {
        assertEquals("abc", HubClient.normalizeEtag("W/\"abc\""));
        assertEquals("abc", HubClient.normalizeEtag("\"abc\""));
        assertNull(HubClient.normalizeEtag("\"\""));
        assertEquals("refs%2Fpr%2F1", HubClient.encode("refs/pr/1", false));
        assertEquals("1_Pooling/config.json", HubClient.encode("1_Pooling/config.json", true));
        assertEquals("a%20b%C3%A9", HubClient.encode("a bé", true));

        Path f = Files.writeString(dir.resolve("f"), "hello\n", StandardCharsets.UTF_8);
        // `git hash-object` of "hello\n" and `sha256sum` of it.
        String gitSha1 = "ce013625030ba8dba906f756967f9e9ca394464a";
        String sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        assertNull(HubClient.verify(f, new HubClient.FileInfo("f", gitSha1, 6, false)));
        assertNull(HubClient.verify(f, new HubClient.FileInfo("f", sha256, 6, true)));
        assertNotNull(HubClient.verify(f, new HubClient.FileInfo("f", sha256, 7, true)), "size");
        assertTrue(HubClient.verify(f, new HubClient.FileInfo("f", sha256.replace('5', '6'), 6, true)).contains("SHA-256"));
        assertTrue(HubClient.verify(f, new HubClient.FileInfo("f", gitSha1.replace('c', 'd'), 6, false)).contains("git SHA-1"));
        assertNull(HubClient.verify(f, new HubClient.FileInfo("f", "some-other-etag", 6, false)), "unknown form: size only");
    }

    @Test
    void snapshotsLinkIntoBlobsWithRelativeLinks() throws IOException {
        HubCache cache = new HubCache(dir.resolve("hub"));
        RepoSpec repo = RepoSpec.parse("org/name");
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Files.createDirectories(cache.blob(repo, "e1").getParent());
        Files.writeString(cache.blob(repo, "e1"), "one");
        Files.writeString(cache.blob(repo, "e2"), "two");
        cache.link(repo, commit, "config.json", "e1");
        cache.link(repo, commit, "1_Pooling/config.json", "e2");
        cache.link(repo, commit, "config.json", "e1"); // again: kept
        Path snap = cache.snapshot(repo, commit);
        assertEquals(Path.of("../../blobs/e1"), Files.readSymbolicLink(snap.resolve("config.json")));
        assertEquals(Path.of("../../../blobs/e2"), Files.readSymbolicLink(snap.resolve("1_Pooling/config.json")));
        assertEquals("two", Files.readString(snap.resolve("1_Pooling/config.json")));

        cache.writeRef(repo, commit);
        assertEquals(commit, Files.readString(cache.repoDir(repo).resolve("refs/main")));
        assertEquals(commit, cache.commit(repo));
        RepoSpec pr = repo.withRevision("refs/pr/1");
        cache.writeRef(pr, commit);
        assertEquals(commit, cache.commit(pr));
        assertNull(cache.commit(repo.withRevision("v2")));

        HubCache.Entry e = cache.list().getFirst();
        assertEquals("org/name", e.repoId());
        assertEquals(6, e.bytes());
        assertEquals(commit, e.refs().get("main"));
        assertEquals(commit, e.refs().get("refs/pr/1"));
        assertEquals(List.of(commit), e.snapshots());
        assertNotNull(cache.remove(repo));
        assertTrue(cache.list().isEmpty());
        assertNull(cache.remove(repo));
    }

    @Test
    void onlySafeRelativePathsComeFromTheServer() {
        for (String ok : List.of("model-00001-of-00002.safetensors", "1_Pooling/config.json"))
            assertTrue(HubModels.safePath(ok), ok);
        for (String bad : List.of("", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a", "a/", "x\ny"))
            assertFalse(HubModels.safePath(bad), bad);
    }

    @Test
    void aSnapshotIsLoadableWithConfigWeightsAndATokenizer() throws IOException {
        Path s = Files.createDirectories(dir.resolve("snap"));
        assertEquals("config.json", HubModels.missing(s));
        Files.writeString(s.resolve("config.json"), "{}");
        assertEquals("model.safetensors", HubModels.missing(s));
        Files.writeString(s.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}}");
        Files.writeString(s.resolve("model-00001-of-00002.safetensors"), "");
        assertEquals("model-00002-of-00002.safetensors", HubModels.missing(s));
        Files.writeString(s.resolve("model-00002-of-00002.safetensors"), "");
        assertEquals("a tokenizer", HubModels.missing(s));
        Files.writeString(s.resolve("vocab.txt"), "[PAD]\n");
        assertNull(HubModels.missing(s));
        Files.writeString(s.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"../../evil\"}}");
        assertThrows(HubException.class, () -> HubModels.shards(s.resolve("model.safetensors.index.json")));
    }
}
