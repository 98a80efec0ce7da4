package dev.univar.cpu;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.univar.NomicTinyFiles;
import dev.univar.io.SafeTensors;
import dev.univar.tensor.Backend;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A NomicBERT forward written here from the README of {@code nomic-bert-tiny} (the exact specification of the official
 * code), built from the NomicBERT operations and the existing dense products, layer norm and pooling, checked against
 * the official model's float64 outputs: {@code last_hidden_0..2} (texts of 28, 60 and 700 tokens, alone and inside a
 * right-padded batch) to 2e-5, and the mean-pooled, L2-normalised embeddings of all 24 texts in right-padded batches
 * of 5 to 1e-6 (the README's thresholds: about 10x the official float32 noise, 10x below the smallest mistake).
 *
 * <p>Two builds of the same forward: "scalar" from the references only ({@link ScalarBackend},
 * {@link ScalarNomicOps}: separate fc11/fc12 products), "cpu" from the kernels ({@link CpuBackend}, {@link Rotary},
 * {@link FlashAttention}, {@link SwiGlu} with fc11 and fc12 fused into one product).
 */
class NomicBertGoldenTest {

    private static Path dir;
    private static Model model;
    private static final Arena ARENA = Arena.ofShared();
    private static SafeTensors weights;

    @BeforeAll
    static void load() throws IOException {
        dir = NomicTinyFiles.dir();
        weights = SafeTensors.open(dir.resolve("model.safetensors"));
        model = Model.load(dir, weights);
    }

    @AfterAll
    static void close() {
        if (weights != null) weights.close();
        ARENA.close();
    }

    /** The config fields the forward uses, and the weights by their official names. */
    private record Model(int hidden, int heads, int headDim, int layers, int width, int rotaryDim, float eps,
                         RotaryTable rotary, Tensor word, Tensor tokenType, Tensor embGamma, Tensor embBeta,
                         Layer[] blocks) {

        static Model load(Path dir, SafeTensors st) throws IOException {
            JsonObject c = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
            assertEquals("nomic_bert", c.get("model_type").getAsString());
            assertEquals("swiglu", c.get("activation_function").getAsString());
            assertEquals(false, c.get("prenorm").getAsBoolean());
            assertEquals(false, c.get("rotary_emb_interleaved").getAsBoolean());
            assertTrue(c.get("rotary_scaling_factor").isJsonNull());
            int hidden = c.get("n_embd").getAsInt(), heads = c.get("n_head").getAsInt(), layers = c.get("n_layer").getAsInt();
            int headDim = hidden / heads;
            // NomciBertGatedMLP rounds the hidden width of the MLP up to a multiple of 256.
            int width = (c.get("n_inner").getAsInt() + 255) / 256 * 256;
            int rotaryDim = RotaryTable.rotaryDim(headDim, c.get("rotary_emb_fraction").getAsDouble());
            float eps = c.get("layer_norm_epsilon").getAsFloat();
            RotaryTable rotary = RotaryTable.create(ARENA, rotaryDim, c.get("rotary_emb_base").getAsDouble(), 1024);
            Layer[] blocks = new Layer[layers];
            for (int i = 0; i < layers; i++) {
                String p = "encoder.layers." + i + ".";
                Tensor fc11 = st.tensor(p + "mlp.fc11.weight"), fc12 = st.tensor(p + "mlp.fc12.weight");
                assertEquals(width, fc11.dim(0));
                // fc11 and fc12 stacked, [2 * width, hidden]: one product gives a and g side by side.
                Tensor fused = Tensor.allocate(ARENA, 2 * width, hidden);
                long n = (long) width * hidden;
                for (long j = 0; j < n; j++) {
                    fused.set(j, fc11.get(j));
                    fused.set(n + j, fc12.get(j));
                }
                blocks[i] = new Layer(st.tensor(p + "attn.Wqkv.weight"), st.tensor(p + "attn.out_proj.weight"), fc11, fc12,
                        fused, st.tensor(p + "mlp.fc2.weight"), st.tensor(p + "norm1.weight"), st.tensor(p + "norm1.bias"),
                        st.tensor(p + "norm2.weight"), st.tensor(p + "norm2.bias"));
            }
            return new Model(hidden, heads, headDim, layers, width, rotaryDim, eps, rotary,
                    st.tensor("embeddings.word_embeddings.weight"), st.tensor("embeddings.token_type_embeddings.weight"),
                    st.tensor("emb_ln.weight"), st.tensor("emb_ln.bias"), blocks);
        }
    }

    private record Layer(Tensor wqkv, Tensor out, Tensor fc11, Tensor fc12, Tensor fc1112, Tensor fc2, Tensor norm1Gamma,
                         Tensor norm1Beta, Tensor norm2Gamma, Tensor norm2Beta) {
    }

    /** The forward's operations, from the references or the kernels. */
    private interface Ops extends AutoCloseable {
        Backend backend();

        void rotateQkv(Tensor qkv, int batch, int seq);

        void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq);

        /** {@code y = fc11(x) ⊙ SiLU(fc12(x))}. */
        void gatedMlp(Tensor x, Layer layer, Tensor y, int rows);

        @Override
        void close();
    }

    private static Ops ops(String name) {
        Model m = model;
        if (name.equals("scalar")) {
            ScalarBackend be = new ScalarBackend();
            return new Ops() {
                public Backend backend() {
                    return be;
                }

                public void rotateQkv(Tensor qkv, int batch, int seq) {
                    ScalarNomicOps.rotateQkv(qkv, m.rotary.cos(), m.rotary.sin(), batch, seq, m.heads, m.headDim, m.rotaryDim, false);
                }

                public void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq) {
                    ScalarNomicOps.attention(qkv, mask, out, null, batch, seq, m.heads, m.headDim);
                }

                public void gatedMlp(Tensor x, Layer layer, Tensor y, int rows) {
                    Tensor a = Tensor.allocate(ARENA, rows, m.width), g = Tensor.allocate(ARENA, rows, m.width);
                    be.matmul(x, layer.fc11, true, null, a, rows, m.width, m.hidden);
                    be.matmul(x, layer.fc12, true, null, g, rows, m.width, m.hidden);
                    ScalarNomicOps.swiglu(a, g, y, rows, m.width);
                }

                public void close() {
                }
            };
        }
        CpuBackend cpu = new CpuBackend(2);
        Rotary rotary = new Rotary(cpu.pool());
        FlashAttention flash = new FlashAttention(cpu.pool());
        SwiGlu swiglu = new SwiGlu(cpu.pool());
        return new Ops() {
            public Backend backend() {
                return cpu;
            }

            public void rotateQkv(Tensor qkv, int batch, int seq) {
                rotary.rotateQkv(qkv, m.rotary.cos(), m.rotary.sin(), batch, seq, m.heads, m.headDim, m.rotaryDim, false);
            }

            public void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq) {
                flash.forward(qkv, mask, out, null, batch, seq, m.heads, m.headDim);
            }

            public void gatedMlp(Tensor x, Layer layer, Tensor y, int rows) {
                Tensor ag = Tensor.allocate(ARENA, rows, 2 * m.width);
                cpu.matmul(x, layer.fc1112, true, null, ag, rows, 2 * m.width, m.hidden);
                swiglu.forward(ag, y, rows, m.width);
            }

            public void close() {
                cpu.close();
            }
        };
    }

    /**
     * The last hidden state {@code [batch * seq, hidden]} of token ids right-padded with id 0 to the longest; fills
     * {@code mask[batch, seq]}.
     */
    private static Tensor forward(Ops ops, int[][] texts, Tensor mask) {
        Model m = model;
        Backend be = ops.backend();
        int batch = texts.length, seq = 0;
        for (int[] t : texts) seq = Math.max(seq, t.length);
        int rows = batch * seq, hidden = m.hidden;
        int[] ids = new int[rows];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++) {
                ids[b * seq + t] = t < texts[b].length ? texts[b][t] : 0;
                mask.set((long) b * seq + t, t < texts[b].length ? 1 : 0);
            }
        Tensor x = Tensor.allocate(ARENA, rows, hidden);
        // word[id] + tokenType[0]: no position embeddings (rotary only), so a zero position table.
        be.embeddings(ids, null, m.word, Tensor.allocate(ARENA, seq, hidden), m.tokenType, x, batch, seq, hidden);
        be.layerNorm(x, null, m.embGamma, m.embBeta, m.eps, x, rows, hidden);
        Tensor qkv = Tensor.allocate(ARENA, rows, 3 * hidden), att = Tensor.allocate(ARENA, rows, hidden);
        Tensor proj = Tensor.allocate(ARENA, rows, hidden), y = Tensor.allocate(ARENA, rows, m.width);
        for (Layer layer : m.blocks) {
            be.matmul(x, layer.wqkv, true, null, qkv, rows, 3 * hidden, hidden);
            ops.rotateQkv(qkv, batch, seq);
            ops.attention(qkv, mask, att, batch, seq);
            be.matmul(att, layer.out, true, null, proj, rows, hidden, hidden);
            be.layerNorm(proj, x, layer.norm1Gamma, layer.norm1Beta, m.eps, x, rows, hidden); // post-norm: LN(x + attn)
            ops.gatedMlp(x, layer, y, rows);
            be.matmul(y, layer.fc2, true, null, proj, rows, hidden, m.width);
            be.layerNorm(proj, x, layer.norm2Gamma, layer.norm2Beta, m.eps, x, rows, hidden);
        }
        return x;
    }

    private static int[][] inputs() throws IOException {
        List<int[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(NomicTinyFiles.golden("inputs.jsonl"))) {
            if (line.isBlank()) continue;
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            var ids = o.getAsJsonArray("ids");
            int[] t = new int[ids.size()];
            for (int i = 0; i < t.length; i++) t[i] = ids.get(i).getAsInt();
            assertEquals(o.get("n_tokens").getAsInt(), t.length);
            out.add(t);
        }
        return out.toArray(int[][]::new);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void lastHiddenStates(String name) throws IOException {
        int[][] texts = inputs();
        int hidden = model.hidden;
        try (Ops ops = ops(name)) {
            // The first batch of 5 (lengths 28, 60, 700, 2, 150), padded to 700.
            int[][] batch = {texts[0], texts[1], texts[2], texts[3], texts[4]};
            Tensor batchMask = Tensor.allocate(ARENA, 5, 700);
            Tensor batched = forward(ops, batch, batchMask);
            for (int i = 0; i < 3; i++) {
                NomicTinyFiles.Array golden = NomicTinyFiles.readNpy(NomicTinyFiles.golden("last_hidden_" + i + ".npy"));
                assertEquals(texts[i].length, golden.rows());
                Tensor alone = forward(ops, new int[][]{texts[i]}, Tensor.allocate(ARENA, 1, texts[i].length));
                double maxAlone = 0, maxBatched = 0;
                for (int t = 0; t < golden.rows(); t++)
                    for (int c = 0; c < hidden; c++) {
                        float g = golden.data()[t * hidden + c];
                        maxAlone = Math.max(maxAlone, Math.abs(alone.get((long) t * hidden + c) - g));
                        maxBatched = Math.max(maxBatched, Math.abs(batched.get(((long) i * 700 + t) * hidden + c) - g));
                    }
                System.out.printf("%s last_hidden_%d (T=%d): max |diff| alone %.3g, in a padded batch %.3g%n",
                        name, i, golden.rows(), maxAlone, maxBatched);
                assertTrue(maxAlone <= 2e-5, name + " last_hidden_" + i + " alone: " + maxAlone);
                assertTrue(maxBatched <= 2e-5, name + " last_hidden_" + i + " in a batch: " + maxBatched);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void pooledEmbeddings(String name) throws IOException {
        int[][] texts = inputs();
        NomicTinyFiles.Array golden = NomicTinyFiles.readNpy(NomicTinyFiles.golden("embeddings.npy"));
        assertEquals(texts.length, golden.rows());
        int hidden = model.hidden;
        double max = 0;
        try (Ops ops = ops(name)) {
            // Batches of 5 consecutive texts, right-padded with id 0 (attention mask 0), as the goldens were made.
            for (int first = 0; first < texts.length; first += 5) {
                int batch = Math.min(5, texts.length - first), seq = 0;
                int[][] part = new int[batch][];
                for (int b = 0; b < batch; b++) {
                    part[b] = texts[first + b];
                    seq = Math.max(seq, part[b].length);
                }
                Tensor mask = Tensor.allocate(ARENA, batch, seq);
                Tensor x = forward(ops, part, mask);
                Tensor e = Tensor.allocate(ARENA, batch, hidden);
                ops.backend().meanPool(x, mask, e, batch, seq, hidden);
                ops.backend().l2Normalize(e, batch, hidden);
                for (int b = 0; b < batch; b++)
                    for (int c = 0; c < hidden; c++)
                        max = Math.max(max, Math.abs(e.get((long) b * hidden + c) - golden.data()[(first + b) * hidden + c]));
            }
        }
        System.out.printf("%s embeddings (24 texts, batches of 5): max |diff| %.3g%n", name, max);
        assertTrue(max <= 1e-6, name + " embeddings: " + max);
    }
}
