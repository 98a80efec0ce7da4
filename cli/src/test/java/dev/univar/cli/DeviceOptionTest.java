package dev.univar.cli;

import dev.univar.model.BertConfig;
import dev.univar.nn.ModelInit;
import dev.univar.tensor.BackendProvider;
import dev.univar.tensor.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --device} and {@code --precision} on the commands that compute, and {@code bench --device all}: an
 * unavailable device is one line and exit 2, never a stack trace; the cpu side of every benchmark runs here.
 */
class DeviceOptionTest {
    @TempDir
    Path dir;

    /** Skips (visibly) where the cuda backend is not in this build, or where a CUDA driver is present. */
    private static void assumeCudaBuiltButNoDriver() {
        BackendProvider cuda = Backends.providers().stream().filter(p -> p.name().equals("cuda")).findFirst().orElse(null);
        assumeTrue(cuda != null, "the cuda backend is not in this build");
        assumeTrue(cuda.unavailableReason() != null, "a CUDA driver is present: the no-driver path is not reachable here");
    }

    private static void assertOneLineError(Run r, String expected) {
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains(expected), "stderr should say '" + expected + "': " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(r.err().contains("Exception"), "no exception name: " + r.err());
        assertEquals(1, r.err().lines().filter(l -> l.contains("error:")).count(), r.err());
    }

    @Test
    void embedOnCudaWithoutDriverSaysSo() {
        assumeCudaBuiltButNoDriver();
        Path out = dir.resolve("e.npy");
        Run r = Run.of("embed", "--device", "cuda", "--input", dir.resolve("texts.txt").toString(), "--output", out.toString());
        assertOneLineError(r, "no CUDA driver found");
        assertTrue(r.err().startsWith("univar embed: error: no CUDA driver found"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void benchGemmOnCudaWithoutDriverSaysSo() {
        assumeCudaBuiltButNoDriver();
        assertOneLineError(Run.of("bench", "gemm", "--device", "cuda"), "no CUDA driver found");
    }

    @Test
    void trainOnCudaWithoutDriverSaysSoBeforeReadingAnything() {
        assumeCudaBuiltButNoDriver();
        Run r = Run.of("train", "--device", "cuda", "--corpus", dir.resolve("missing.csv").toString(),
                "--output", dir.resolve("out").toString());
        assertOneLineError(r, "no CUDA driver found");
        assertFalse(Files.exists(dir.resolve("out")));
    }

    @Test
    void unknownDeviceListsTheKnownOnes() {
        for (String[] args : List.of(
                new String[]{"embed", "--device", "tpu", "--input", "x.txt", "--output", dir.resolve("x.npy").toString()},
                new String[]{"bench", "gemm", "--device", "tpu"},
                new String[]{"eval", "--device", "tpu", "--corpus", "c.csv", "--output", "e.json"})) {
            Run r = Run.of(args);
            assertOneLineError(r, "unknown device 'tpu'");
            for (String name : Backends.names()) assertTrue(r.err().contains(name), "lists " + name + ": " + r.err());
        }
    }

    @Test
    void reducedPrecisionOnTheCpuIsRefused() {
        Run r = Run.of("embed", "--precision", "bf16", "--device", "cpu", "--input", "x.txt", "--output", dir.resolve("x.npy").toString());
        assertOneLineError(r, "fp32 only");
        assertTrue(r.err().contains("cpu"), r.err());
        assertOneLineError(Run.of("bench", "gemm", "--device", "cpu", "--precision", "tf32"), "fp32 only");
    }

    @Test
    void unknownPrecisionIsAUsageError() {
        Run r = Run.of("bench", "gemm", "--precision", "fp8");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown precision 'fp8': use fp32, tf32 or bf16"), r.err());
    }

    @Test
    void malformedOrdinalIsRefused() {
        assertOneLineError(Run.of("bench", "gemm", "--device", "cuda:x"), "':N'");
    }

    @Test
    void benchAllRunsTheCpuAndSkipsWhatIsMissing() throws IOException {
        Path json = dir.resolve("bench.jsonl");
        Run r = Run.of("bench", "gemm", "--device", "all", "--threads", "1", "--m", "64", "--n", "48", "--k", "32",
                "--repeat", "3", "--warmup", "0.05", "--json", json.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.getFirst().startsWith("device"), r.out());
        assertTrue(lines.getLast().startsWith("gemm 64x48x32 cpu threads=1: "), r.out());
        assertTrue(lines.getLast().endsWith(" GFLOP/s") || lines.getLast().contains(" | "), r.out());
        for (BackendProvider p : Backends.providers())
            if (p.unavailableReason() != null)
                assertTrue(r.err().contains("univar bench: " + p.name() + " skipped: " + p.unavailableReason()), r.err());
        List<String> records = Files.readAllLines(json);
        assertEquals(lines.size() - 2, records.size(), "one JSON line per measured device: " + records);
        assertTrue(records.getFirst().contains("\"tool\":\"univar\"") && records.getFirst().contains("\"device\":\"cpu\"")
                && records.getFirst().contains("\"m\":64") && records.getFirst().contains("\"gflops\":"), records.getFirst());
    }

    @Test
    void benchCpuSweepKeepsItsLastLine() {
        Run r = Run.of("bench", "gemm", "--threads", "1", "--m", "32", "--n", "32", "--k", "32", "--repeat", "2", "--warmup", "0.05");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().lines().toList().getFirst().startsWith("threads"), r.out());
        assertTrue(r.out().lines().toList().getLast().matches("gemm 32x32x32 threads=1: [0-9.]+ GFLOP/s"), r.out());
    }

    @Test
    void benchEncoderAndTrainRunOnATinyModel() throws IOException {
        Path model = tinyModel();
        Path json = dir.resolve("bench.jsonl");
        Run enc = Run.of("bench", "encoder", "--device", "all", "--threads", "1", "--model", model.toString(),
                "--batch-size", "4", "--seq-len", "16", "--repeat", "2", "--warmup", "0.05", "--json", json.toString());
        assertEquals(0, enc.exit(), enc.err());
        assertTrue(enc.out().lines().toList().getLast().matches("encoder tiny 4x16 cpu threads=1: [0-9.]+ seq/s.*"), enc.out());
        Run train = Run.of("bench", "train", "--threads", "1", "--model", model.toString(),
                "--batch-size", "4", "--seq-len", "16", "--repeat", "2", "--warmup", "0.05", "--json", json.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().lines().toList().getLast().matches(
                "train 4x16 threads=1: [0-9.]+ seq/s per whole step; forward\\+backward [0-9.]+ GFLOP/s = [0-9]+% of the forward's [0-9.]+"), train.out());
        List<String> records = Files.readAllLines(json);
        assertTrue(records.stream().anyMatch(l -> l.contains("\"bench\":\"encoder\"") && l.contains("\"seq_per_s\":")), records.toString());
        assertTrue(records.stream().anyMatch(l -> l.contains("\"bench\":\"train\"") && l.contains("\"forward_ms\":")), records.toString());
        Run odd = Run.of("bench", "train", "--threads", "1", "--model", model.toString(), "--batch-size", "3", "--seq-len", "8");
        assertEquals(1, odd.exit());
        assertTrue(odd.err().contains("--batch-size must be even"), odd.err());
    }

    /** A 1-layer random BERT over a 1,100-token vocabulary laid out as BERT's ([CLS] 101, [SEP] 102). */
    private Path tinyModel() throws IOException {
        List<String> vocab = new ArrayList<>(List.of("[PAD]"));
        for (int i = 0; i < 99; i++) vocab.add("[unused" + i + "]");
        vocab.addAll(List.of("[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        while (vocab.size() < 1100) vocab.add("tok" + vocab.size());
        Path file = dir.resolve("vocab.txt");
        Files.write(file, vocab);
        Path model = dir.resolve("tiny");
        ModelInit.create(file, v -> BertConfig.initial(v.size(), v.padId(), 1, 32, 2, 64, 64), model, 0);
        return model;
    }
}
