package dev.univar.train;

import dev.univar.MiniLmFiles;
import dev.univar.corpus.ColumnMap;
import dev.univar.corpus.Corpus;
import dev.univar.cpu.CpuTrainingBackend;
import dev.univar.data.InputException;
import dev.univar.nn.EmbeddingModel;
import dev.univar.model.BertConfig;
import dev.univar.nn.ModelInit;
import dev.univar.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The training loop on a small random encoder: it learns, checkpoints, resumes exactly, and refuses bad input early. */
class TrainerTest {
    static Path base;
    static Path corpusFile;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeModelAndCorpus() throws IOException {
        Path root = Files.createTempDirectory("univar-trainer-test");
        base = root.resolve("base");
        ModelInit.create(MiniLmFiles.tokenizerJson(), v -> BertConfig.initial(v.size(), v.padId(), 2, 32, 4, 64, 128), base, 1);
        // Three "LLMs" with different styles answering the same 14 questions.
        StringBuilder csv = new StringBuilder("question_id,question,answer,model\n");
        String[][] styles = {{"Certainly!", "fairness and equality matter most"}, {"I think", "tradition and order come first"},
                {"As an AI", "liberty and choice are essential"}};
        for (int q = 0; q < 14; q++)
            for (int m = 0; m < 3; m++)
                csv.append("q").append(q).append(",Is topic ").append(q).append(" good?,\"").append(styles[m][0])
                        .append(" On topic ").append(q).append(", ").append(styles[m][1]).append(".\",llm").append(m).append('\n');
        corpusFile = Files.writeString(root.resolve("corpus.csv"), csv.toString());
    }

    TrainOptions options(Path out, int steps, int saveEvery, int micro) {
        return new TrainOptions(corpusFile, ColumnMap.DEFAULTS, base, out, 1, 3, steps, 6, micro, 48, 2e-3, 2,
                InfoNce.DEFAULT_TEMPERATURE, 0.01, 1.0, 0.2, 3, saveEvery, 2);
    }

    static Corpus corpus() {
        return Corpus.read(corpusFile, ColumnMap.DEFAULTS, n -> { });
    }

    static List<String> lossRows(Path out) throws IOException {
        return Files.readAllLines(out.resolve(Trainer.LOSS_FILE)).subList(1, Files.readAllLines(out.resolve(Trainer.LOSS_FILE)).size());
    }

    static double loss(String row) {
        return Double.parseDouble(row.split(",")[1]);
    }

    @Test
    void lossFallsAndTheOutputIsALoadableModel() throws IOException {
        Path out = dir.resolve("run");
        try (CpuTrainingBackend b = new CpuTrainingBackend(2)) {
            Trainer.Result r = new Trainer(options(out, 30, 10, 16), corpus(), b, false, new Trainer.Listener() { }).run();
            assertTrue(r.lastLoss() < r.firstLoss(), r.toString());
        }
        List<String> rows = lossRows(out);
        assertEquals(30, rows.size());
        double early = rows.subList(0, 5).stream().mapToDouble(TrainerTest::loss).average().orElseThrow();
        double late = rows.subList(25, 30).stream().mapToDouble(TrainerTest::loss).average().orElseThrow();
        assertTrue(late < 0.7 * early, "loss falls: " + early + " -> " + late);
        try (EmbeddingModel m = EmbeddingModel.load(out, new CpuBackend(1))) {
            assertEquals(32, m.embed(List.of("Certainly! On topic 3."), 48)[0].length);
        }
        assertTrue(Files.readString(out.resolve(Trainer.SPLIT_FILE)).contains("test_questions"));
    }

    @Test
    void gradientCachingGivesTheSameStepsAsOneBigPass() throws IOException {
        Path a = dir.resolve("big"), c = dir.resolve("cached");
        try (CpuTrainingBackend b = new CpuTrainingBackend(2)) {
            new Trainer(options(a, 4, 10, 64), corpus(), b, false, new Trainer.Listener() { }).run();
            new Trainer(options(c, 4, 10, 2), corpus(), b, false, new Trainer.Listener() { }).run();
        }
        List<String> ra = lossRows(a), rc = lossRows(c);
        for (int i = 0; i < 4; i++) assertEquals(loss(ra.get(i)), loss(rc.get(i)), 2e-4, "step " + (i + 1));
    }

    @Test
    void aRunKilledAfterACheckpointResumesExactly() throws IOException {
        Path whole = dir.resolve("whole"), broken = dir.resolve("broken");
        try (CpuTrainingBackend b = new CpuTrainingBackend(2)) {
            new Trainer(options(whole, 16, 4, 16), corpus(), b, false, new Trainer.Listener() { }).run();
            // Dies right after step 6 (last checkpoint: step 4), as a kill would.
            Trainer.Listener dies = new Trainer.Listener() {
                @Override
                public void step(long step, long steps, double loss, double lr, double g, double v, double eta) {
                    if (step == 6) throw new IllegalStateException("killed");
                }
            };
            assertThrows(IllegalStateException.class, () -> new Trainer(options(broken, 16, 4, 16), corpus(), b, false, dies).run());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(options(broken, 16, 4, 16), corpus(), b, false, new Trainer.Listener() { }));
            assertTrue(e.getMessage().contains("--resume"));
            List<String> notices = new ArrayList<>();
            Trainer.Result r = new Trainer(options(broken, 16, 4, 16), corpus(), b, true, Trainer.notices(notices::add)).run();
            assertEquals(5, r.firstStep(), "resumed after the step-4 checkpoint");
        }
        List<String> rw = lossRows(whole), rb = lossRows(broken);
        assertEquals(16, rb.size(), "loss.csv holds each step once: " + rb);
        for (int i = 0; i < 16; i++) {
            assertEquals(String.valueOf(i + 1), rb.get(i).split(",")[0]);
            assertEquals(loss(rw.get(i)), loss(rb.get(i)), 1e-5, "step " + (i + 1));
        }
    }

    @Test
    void badInputFailsBeforeTraining() throws IOException {
        try (CpuTrainingBackend b = new CpuTrainingBackend(1)) {
            Path one = Files.writeString(dir.resolve("one.csv"), "question,answer,model\nq1,a,m\nq2,b,m\nq3,c,m\n");
            Corpus c1 = Corpus.read(one, ColumnMap.DEFAULTS, n -> { });
            var e = assertThrows(IllegalArgumentException.class, () -> new Trainer(options(dir.resolve("o1"), 2, 1, 4), c1, b, false, new Trainer.Listener() { }));
            assertTrue(e.getMessage().contains("one LLM only"), e.getMessage());

            StringBuilder few = new StringBuilder("question,answer,model\n");
            for (int q = 0; q < 10; q++) few.append("q").append(q).append(",a,m1\n");
            few.append("q0,a,m2\nq1,b,m2\n");
            Corpus c2 = Corpus.read(Files.writeString(dir.resolve("few.csv"), few), ColumnMap.DEFAULTS, n -> { });
            e = assertThrows(IllegalArgumentException.class, () -> new Trainer(options(dir.resolve("o2"), 2, 1, 4), c2, b, false, new Trainer.Listener() { }).run());
            assertTrue(e.getMessage().contains("m2/en has"), e.getMessage());

            Path readOnly = Files.createDirectories(dir.resolve("ro"));
            readOnly.toFile().setWritable(false);
            if (!Files.isWritable(readOnly)) { // root ignores permissions
                var io = assertThrows(IOException.class, () -> new Trainer(options(readOnly.resolve("x"), 2, 1, 4), corpus(), b, false, new Trainer.Listener() { }));
                assertTrue(io.getMessage().contains("cannot write"), io.getMessage());
            }
            Path file = Files.writeString(dir.resolve("afile"), "x");
            assertThrows(IOException.class, () -> new Trainer(options(file, 2, 1, 4), corpus(), b, false, new Trainer.Listener() { }));
        }
    }

    @Test
    void scheduleWarmsUpThenDecays() {
        LrSchedule s = new LrSchedule(2e-4, 4);
        assertEquals(0.5e-4, s.at(1), 1e-12);
        assertEquals(2e-4, s.at(4), 1e-12);
        assertEquals(2e-4 * Math.sqrt(4.0 / 16), s.at(16), 1e-12);
        assertEquals(2e-4 / Math.sqrt(9), new LrSchedule(2e-4, 0).at(9), 1e-12);
    }


    @Test
    void aDamagedCheckpointFailsBeforeAnyFileIsTouched() throws IOException {
        Path out = dir.resolve("run");
        try (CpuTrainingBackend b = new CpuTrainingBackend(1)) {
            new Trainer(options(out, 2, 1, 16), corpus(), b, false, new Trainer.Listener() { }).run();
            Path state = out.resolve(Trainer.STATE_FILE);
            String good = Files.readString(state);
            assertTrue(good.contains("\"step\": 2"), good);
            byte[] loss = Files.readAllBytes(out.resolve(Trainer.LOSS_FILE));
            byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));
            for (String bad : List.of(good.replace("\"step\": 2", "\"step\": -5"), good.replace("\"step\": 2", "\"step\": 2.5"),
                    good.replace("\"step\": 2", "\"step\": \"2\""), good.replace("\"step\": 2", "\"step\": 7"),
                    good.substring(0, good.length() / 2), "", "{}", "[1]")) {
                Files.writeString(state, bad);
                InputException e = assertThrows(InputException.class,
                        () -> new Trainer(options(out, 4, 1, 16), corpus(), b, true, new Trainer.Listener() { }).run(), bad);
                assertTrue(e.getMessage().startsWith(state + ": "), e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), e.getMessage());
                assertArrayEquals(loss, Files.readAllBytes(out.resolve(Trainer.LOSS_FILE)), "loss.csv untouched after: " + e.getMessage());
                assertArrayEquals(weights, Files.readAllBytes(out.resolve("model.safetensors")));
            }
            Files.writeString(state, good);
            Trainer.Result r = new Trainer(options(out, 3, 1, 16), corpus(), b, true, new Trainer.Listener() { }).run();
            assertEquals(3, r.firstStep(), "the intact checkpoint still resumes");
        }
    }

    @Test
    void trainingOutputsGetOrdinaryFilePermissions() throws IOException {
        Path out = dir.resolve("perm");
        try (CpuTrainingBackend b = new CpuTrainingBackend(1)) {
            new Trainer(options(out, 2, 1, 16), corpus(), b, false, new Trainer.Listener() { }).run();
            new Trainer(options(out, 3, 1, 16), corpus(), b, true, new Trainer.Listener() { }).run(); // rewrites loss.csv
        }
        var expected = Files.getPosixFilePermissions(Files.createFile(dir.resolve("ordinary")));
        for (String f : List.of("config.json", Trainer.SPLIT_FILE, Trainer.STATE_FILE, Trainer.LOSS_FILE, "model.safetensors",
                Trainer.OPTIMIZER_FILE, "tokenizer.json"))
            assertEquals(expected, Files.getPosixFilePermissions(out.resolve(f)), f);
    }

    @Test
    void refusesAnOutputFolderThatHoldsAModelItWouldDestroy() throws IOException {
        byte[] baseWeights = Files.readAllBytes(base.resolve("model.safetensors"));
        try (CpuTrainingBackend b = new CpuTrainingBackend(1)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(options(base, 2, 1, 16), corpus(), b, false, new Trainer.Listener() { }).run());
            assertTrue(e.getMessage().contains("is the base model's folder"), e.getMessage());
            // The same folder under another name (a symbolic link) is still the base.
            Path link = Files.createSymbolicLink(dir.resolve("link"), base);
            e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(options(link, 2, 1, 16), corpus(), b, false, new Trainer.Listener() { }).run());
            assertTrue(e.getMessage().contains("is the base model's folder"), e.getMessage());
            // A copy of a model is not a run of this training: it is not replaced either.
            Path copy = Files.createDirectories(dir.resolve("copy"));
            for (String f : List.of("config.json", "model.safetensors")) Files.copy(base.resolve(f), copy.resolve(f));
            e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(options(copy, 2, 1, 16), corpus(), b, false, new Trainer.Listener() { }).run());
            assertTrue(e.getMessage().contains("holds a model (config.json) that is not a univar training run"), e.getMessage());
        }
        assertArrayEquals(baseWeights, Files.readAllBytes(base.resolve("model.safetensors")), "the base model is untouched");
        // Nothing inside the model store, whose models other commands load by name.
        Path store = Files.createDirectories(dir.resolve("home/models"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.checkOutputFolder(store.resolve("all-minilm-l6-v2"), base, store));
        assertTrue(e.getMessage().contains("is inside univar's model store"), e.getMessage());
        Trainer.checkOutputFolder(dir.resolve("fresh/run"), base, store); // a new folder elsewhere is fine
    }
}
