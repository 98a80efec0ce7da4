package dev.univar.io;

import dev.univar.MiniLmFiles;
import dev.univar.io.OnnxGraph.OnnxTensor;
import dev.univar.model.BertConfig;
import dev.univar.model.BertWeights;
import dev.univar.model.Binder;
import dev.univar.model.ModelConfig;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Imports all-MiniLM-L6-v2 once and checks the folder against the ONNX graph it came from. */
class OnnxBertImporterTest {
    @TempDir
    static Path tmp;
    static Path folder;
    static BertConfig imported;
    static Arena onnxArena;
    static OnnxGraph onnx;

    @BeforeAll
    static void importOnce() throws IOException {
        folder = tmp.resolve("minilm");
        long t0 = System.nanoTime();
        imported = OnnxBertImporter.importModel(MiniLmFiles.onnx(), MiniLmFiles.tokenizerJson(), folder);
        System.out.printf("MiniLM import took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        onnxArena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(MiniLmFiles.onnx(), StandardOpenOption.READ)) {
            onnx = OnnxGraph.parseModel(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), onnxArena));
        }
    }

    @AfterAll
    static void unmap() {
        onnxArena.close();
    }

    @Test
    void derivesTheConfig() throws IOException {
        BertConfig expected = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0, "bert");
        assertEquals(expected, imported);
        assertEquals(expected, ModelConfig.read(folder.resolve("config.json")));
        assertEquals(32, imported.headDim());
    }

    @Test
    void writesAnHfFolderAndNothingElse() throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")),
                    "no temporary folder left next to the output");
        }
        assertEquals(-1, Files.mismatch(MiniLmFiles.tokenizerJson(), folder.resolve("tokenizer.json")));
        try (SafeTensors st = SafeTensors.open(folder.resolve("model.safetensors"))) {
            assertEquals(5 + 6 * 16, st.names().size());
            assertEquals("pt", st.metadata().get("format"));
        }
    }

    @Test
    void denseWeightsAreTransposedMatMulInitialisers() throws IOException {
        // the graph's first four MatMul weights are layer 0's query, key, value and attention output
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("encoder.layer.0.attention.self.query.weight", "onnx::MatMul_787");
        expected.put("encoder.layer.0.attention.self.key.weight", "onnx::MatMul_788");
        expected.put("encoder.layer.0.attention.self.value.weight", "onnx::MatMul_791");
        expected.put("encoder.layer.0.attention.output.dense.weight", "onnx::MatMul_797");
        expected.put("encoder.layer.0.intermediate.dense.weight", "onnx::MatMul_798");
        expected.put("encoder.layer.0.output.dense.weight", "onnx::MatMul_799");
        expected.put("encoder.layer.5.output.dense.weight", "onnx::MatMul_864");
        try (SafeTensors st = SafeTensors.open(folder.resolve("model.safetensors"));
             Arena arena = Arena.ofConfined()) {
            for (var e : expected.entrySet()) {
                Tensor hf = st.tensor(e.getKey());
                Tensor src = onnx.initializers().get(e.getValue()).toFloatTensor(arena);
                int in = src.dim(0), out = src.dim(1);
                assertArrayEquals(new int[]{out, in}, hf.shape(), e.getKey());
                int[][] probes = {{0, 0}, {0, in - 1}, {out - 1, 0}, {out - 1, in - 1}, {out / 3, in / 2},
                        {7, 5}, {5, 7}};
                for (int[] p : probes)
                    assertEquals(src.get((long) p[1] * out + p[0]), hf.get((long) p[0] * in + p[1]),
                            e.getKey() + " at " + p[0] + "," + p[1]);
                // and in full, through the transpose helper
                assertArrayEquals(OnnxBertImporter.transpose(src, arena).toArray(), hf.toArray(), e.getKey());
            }
        }
    }

    @Test
    void namedInitialisersAreCopiedUnchanged() throws IOException {
        try (SafeTensors st = SafeTensors.open(folder.resolve("model.safetensors"));
             Arena arena = Arena.ofConfined()) {
            Tensor word = st.tensor("embeddings.word_embeddings.weight");
            Tensor src = onnx.initializers().get("embeddings.word_embeddings.weight").toFloatTensor(arena);
            assertArrayEquals(src.rows(101, 1).toArray(), word.rows(101, 1).toArray(), "[CLS] row");
            assertNotEquals(0f, word.get(101L * 384));
            for (String name : List.of("embeddings.LayerNorm.weight", "encoder.layer.3.attention.self.key.bias",
                    "encoder.layer.5.output.LayerNorm.bias", "embeddings.position_embeddings.weight"))
                assertArrayEquals(onnx.initializers().get(name).toFloatTensor(arena).toArray(),
                        st.tensor(name).toArray(), name);
        }
    }

    @Test
    void bertWeightsLoadsTheImportedFolder() throws IOException {
        try (Weights.Loaded m = Weights.open(folder)) {
            BertWeights w = BertWeights.bind((BertConfig) m.config(), Binder.of(m.weights()));
            assertEquals(6, w.layers().size());
            assertArrayEquals(new int[]{1536, 384}, w.layers().get(2).ffnIn().weight().shape());
            assertArrayEquals(new int[]{384, 1536}, w.layers().get(2).ffnOut().weight().shape());
            assertArrayEquals(new int[]{30522, 384}, w.embeddings().word().shape());
        }
    }

    @Test
    void bertWeightsRejectsAFolderWithAMissingTensor() throws IOException {
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        try (Weights.Loaded m = Weights.open(folder)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>(m.weights().named());
            tensors.remove("encoder.layer.4.intermediate.dense.weight");
            SafeTensors.write(broken.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        Files.copy(folder.resolve("config.json"), broken.resolve("config.json"));
        IOException e = assertThrows(IOException.class, () -> Weights.open(broken).close());
        assertTrue(e.getMessage().contains("encoder.layer.4.intermediate.dense.weight"), e.getMessage());
        assertTrue(e.getMessage().contains(broken.resolve("model.safetensors").toString()), e.getMessage());
    }

    @Test
    void refusesANonEmptyOutputFolderAndCleansUpAfterAFailure() throws IOException {
        Path busy = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(busy.resolve("keep.txt"), "mine");
        IOException e = assertThrows(IOException.class,
                () -> OnnxBertImporter.importModel(MiniLmFiles.onnx(), MiniLmFiles.tokenizerJson(), busy));
        assertTrue(e.getMessage().contains(busy.toString()), e.getMessage());

        Path notOnnx = Files.writeString(tmp.resolve("garbage.onnx"), "this is not a protobuf \u00ff\u00ff\u00ff");
        Path target = tmp.resolve("from-garbage");
        IOException bad = assertThrows(IOException.class,
                () -> OnnxBertImporter.importModel(notOnnx, MiniLmFiles.tokenizerJson(), target));
        assertTrue(bad.getMessage().contains("garbage.onnx"), bad.getMessage());
        assertFalse(Files.exists(target));
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains("importing")));
        }
    }

    /**
     * End to end: a plain reference BERT forward pass over the imported weights must reproduce ONNX Runtime's
     * output for the original graph, which catches any mix-up of q/k/v, a missing transpose, or a wrong head
     * count or epsilon that element checks would not.
     */
    @Test
    void importedWeightsReproduceOnnxRuntime() throws Exception {
        long[] ids = {101, 7592, 1010, 2088, 999, 102}; // [CLS] hello , world ! [SEP]
        float[][] expected;
        var env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        try (var session = env.createSession(MiniLmFiles.onnx().toString());
             var inIds = ai.onnxruntime.OnnxTensor.createTensor(env, new long[][]{ids});
             var mask = ai.onnxruntime.OnnxTensor.createTensor(env, new long[][]{{1, 1, 1, 1, 1, 1}});
             var types = ai.onnxruntime.OnnxTensor.createTensor(env, new long[][]{{0, 0, 0, 0, 0, 0}});
             var result = session.run(Map.of("input_ids", inIds, "attention_mask", mask, "token_type_ids", types))) {
            expected = ((float[][][]) result.get(0).getValue())[0];
        }
        try (Weights.Loaded m = Weights.open(folder)) {
            BertConfig c = (BertConfig) m.config();
            float[][] actual = ReferenceBert.forward(c, BertWeights.bind(c, Binder.of(m.weights())), ids);
            for (int s = 0; s < ids.length; s++)
                for (int h = 0; h < 384; h++)
                    assertEquals(expected[s][h], actual[s][h], 1e-3, "token " + s + " dim " + h);
        }
    }
}
