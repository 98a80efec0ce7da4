package dev.univar.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.univar.io.OnnxGraph.Node;
import dev.univar.io.OnnxGraph.OnnxTensor;
import dev.univar.model.BertConfig;
import dev.univar.model.ModelConfig;
import dev.univar.model.Weights;
import dev.univar.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Converts a BERT encoder exported to ONNX by {@code torch.onnx.export} (such as all-MiniLM-L6-v2) into a Hugging
 * Face model folder.
 *
 * <p>The exporter keeps the HF names of biases, LayerNorms and embeddings, but stores each {@code Linear} weight
 * transposed ({@code [in, out]}, for {@code x @ W}) under an anonymous name such as {@code onnx::MatMul_787}.
 * Those are named through the graph: the {@code MatMul} that consumes the weight feeds an {@code Add} whose other
 * input is the layer's named bias, so the weight is that bias name with {@code .weight}. The config is read off
 * the graph too (sizes from shapes, heads from the attention {@code Reshape}, epsilon from the layer norms).
 */
public final class OnnxBertImporter {

    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    private OnnxBertImporter() {
    }

    /** The weights (HF names, {@code [out, in]} dense layout) and config recovered from an ONNX graph. */
    public record Converted(BertConfig config, Map<String, Tensor> tensors) {
    }

    /**
     * Imports {@code onnxFile} into the folder {@code outputDir} ({@code config.json}, {@code model.safetensors},
     * {@code tokenizer.json}). The folder is assembled under a temporary sibling name and renamed at the end, so
     * an interrupted import leaves no partial folder; an existing non-empty {@code outputDir} is not replaced.
     */
    public static BertConfig importModel(Path onnxFile, Path tokenizerJson, Path outputDir) throws IOException {
        Path out = outputDir.toAbsolutePath();
        if (Files.exists(out) && !isEmptyDirectory(out))
            throw new IOException("cannot import into " + out + ": it exists and is not an empty folder");
        Files.createDirectories(out.getParent());
        // Not Files.createTempDirectory: its owner-only permissions would carry over to the final folder.
        Path tmp = Files.createDirectory(out.resolveSibling("." + out.getFileName() + ".importing-" + UUID.randomUUID()));
        try (Arena arena = Arena.ofConfined()) {
            Converted c = convert(onnxFile, arena, padTokenId(tokenizerJson));
            c.config().write(tmp.resolve(ModelConfig.CONFIG_FILE));
            SafeTensors.write(tmp.resolve(Weights.WEIGHTS_FILE), c.tensors(),
                    Map.of("format", "pt", "source", String.valueOf(onnxFile.getFileName())));
            Files.copy(tokenizerJson, tmp.resolve("tokenizer.json"));
            if (Files.exists(out)) Files.delete(out); // empty, checked above; rename(2) cannot replace it on all OSes
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            return c.config();
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** Reads {@code onnxFile} and returns its BERT weights as copies in {@code arena}. */
    public static Converted convert(Path onnxFile, Arena arena) throws IOException {
        return convert(onnxFile, arena, 0);
    }

    private static Converted convert(Path onnxFile, Arena arena, int padTokenId) throws IOException {
        try (Arena mapping = Arena.ofConfined();
             FileChannel ch = FileChannel.open(onnxFile, StandardOpenOption.READ)) {
            MemorySegment model = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), mapping);
            OnnxGraph graph = OnnxGraph.parseModel(model);
            return new Mapper(graph).convert(arena, padTokenId);
        } catch (IllegalArgumentException e) {
            throw new IOException("cannot import ONNX model " + onnxFile + ": " + e.getMessage(), e);
        }
    }

    /** The graph walk; the graph's tensors view the mapping, so everything is copied out before it closes. */
    private static final class Mapper {
        private final OnnxGraph graph;
        private final Map<String, Node> producer = new HashMap<>();
        private final Map<String, List<Node>> consumers = new HashMap<>();

        Mapper(OnnxGraph graph) {
            this.graph = graph;
            for (Node n : graph.nodes()) {
                for (String o : n.outputs()) producer.put(o, n);
                for (String i : n.inputs()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }

        Converted convert(Arena arena, int padTokenId) {
            Map<String, Tensor> named = new HashMap<>();
            for (OnnxTensor t : graph.initializers().values()) {
                String hf = hfName(t.name());
                if (t.dataType() == OnnxGraph.FLOAT && isBertName(hf)) put(named, hf, t.toFloatTensor(arena), t);
            }
            for (Node n : graph.nodes()) {
                if (n.opType().equals("MatMul")) mapMatMul(n, named, arena);
                else if (n.opType().equals("Gemm")) mapGemm(n, named, arena);
            }
            BertConfig config = deriveConfig(named, padTokenId);
            // Going through Weights checks every shape against the config and fixes the order.
            return new Converted(config, Weights.from(config, named, "the ONNX graph").named());
        }

        /** A MatMul with a constant [in, out] right operand is a Linear layer: name it and store it [out, in]. */
        private void mapMatMul(Node mm, Map<String, Tensor> named, Arena arena) {
            OnnxTensor w = graph.initializers().get(mm.input(1));
            if (w == null || w.dataType() != OnnxGraph.FLOAT || w.dims().length != 2) return;
            String weightName = weightNameFromBias(mm)
                    .orElseGet(() -> isBertName(hfName(w.name())) && hfName(w.name()).endsWith(".weight")
                            ? hfName(w.name()) : null);
            if (weightName == null)
                throw new IllegalArgumentException("cannot name the weight '" + w.name() + "' of " + mm
                        + ": its output feeds no Add with a named '.bias' initializer");
            put(named, weightName, transpose(w.toFloatTensor(arena), arena), w);
        }

        /** Gemm(A, W, bias) as some exporters write Linear: already [out, in] when transB = 1. */
        private void mapGemm(Node g, Map<String, Tensor> named, Arena arena) {
            OnnxTensor w = graph.initializers().get(g.input(1));
            OnnxTensor b = graph.initializers().get(g.input(2));
            if (w == null || w.dims().length != 2) return;
            if (b == null || !hfName(b.name()).endsWith(".bias"))
                throw new IllegalArgumentException("cannot name the weight '" + w.name() + "' of " + g
                        + ": its bias is not a named initializer");
            var tb = g.attributes().get("transB");
            var ta = g.attributes().get("transA");
            if (ta != null && ta.i() != 0) throw new IllegalArgumentException(g + " has transA = 1, not supported");
            Tensor t = w.toFloatTensor(arena);
            String name = hfName(b.name()).replaceFirst("\\.bias$", ".weight");
            put(named, name, tb != null && tb.i() != 0 ? t : transpose(t, arena), w);
        }

        private Optional<String> weightNameFromBias(Node mm) {
            for (Node add : consumers.getOrDefault(mm.outputs().getFirst(), List.of())) {
                if (!add.opType().equals("Add")) continue;
                for (String in : add.inputs()) {
                    OnnxTensor bias = graph.initializers().get(in);
                    if (bias != null && hfName(bias.name()).endsWith(".bias"))
                        return Optional.of(hfName(bias.name()).replaceFirst("\\.bias$", ".weight"));
                }
            }
            return Optional.empty();
        }

        private static void put(Map<String, Tensor> named, String name, Tensor t, OnnxTensor from) {
            if (named.putIfAbsent(name, t) != null)
                throw new IllegalArgumentException("two initializers map to '" + name + "' (the second is '"
                        + from.name() + "')");
        }

        private BertConfig deriveConfig(Map<String, Tensor> named, int padTokenId) {
            Tensor word = require(named, "embeddings.word_embeddings.weight");
            Tensor pos = require(named, "embeddings.position_embeddings.weight");
            Tensor type = require(named, "embeddings.token_type_embeddings.weight");
            Tensor inter = require(named, "encoder.layer.0.intermediate.dense.bias");
            TreeSet<Integer> layerIds = new TreeSet<>();
            for (String n : named.keySet()) {
                Matcher m = LAYER.matcher(n);
                if (m.find()) layerIds.add(Integer.parseInt(m.group(1)));
            }
            if (layerIds.first() != 0 || layerIds.last() != layerIds.size() - 1)
                throw new IllegalArgumentException("encoder layers are not numbered 0..n-1: " + layerIds);
            int hidden = word.dim(1);
            int heads = attentionHeads(hidden);
            return new BertConfig(word.dim(0), hidden, layerIds.size(), heads, inter.dim(0), pos.dim(0),
                    type.dim(0), layerNormEps(), activation(), padTokenId, "bert");
        }

        private static Tensor require(Map<String, Tensor> named, String name) {
            Tensor t = named.get(name);
            if (t == null) throw new IllegalArgumentException("no initializer named '" + name + "'");
            return t;
        }

        /**
         * Heads from the Reshape that splits the query/key/value projection into [batch, seq, heads, head_dim]:
         * its shape is a constant or, as torch exports it, a Concat of the dynamic batch and sequence sizes with
         * constant heads and head_dim.
         */
        private int attentionHeads(int hidden) {
            for (Node add : graph.nodes()) {
                if (!add.opType().equals("Add") || add.inputs().stream().noneMatch(
                        i -> graph.initializers().containsKey(i) && hfName(i).matches(
                                "encoder\\.layer\\.\\d+\\.attention\\.self\\.(query|key|value)\\.bias"))) continue;
                for (Node reshape : consumers.getOrDefault(add.outputs().getFirst(), List.of())) {
                    if (!reshape.opType().equals("Reshape")) continue;
                    long[] shape = constantShape(reshape.input(1));
                    if (shape == null || shape.length != 4) continue;
                    long heads = shape[2], headDim = shape[3];
                    if (heads > 0 && headDim > 0 && heads * headDim == hidden) return (int) heads;
                    if (heads > 0 && hidden % heads == 0 && headDim <= 0) return (int) heads;
                }
            }
            throw new IllegalArgumentException("cannot find the number of attention heads: no Reshape of a "
                    + "query/key/value projection to [batch, seq, heads, head_dim] with constant heads");
        }

        /** Values of a shape input, -1 for dynamic parts; null when it cannot be resolved. */
        private long[] constantShape(String value) {
            long[] c = constantLongs(value);
            if (c != null) return c;
            Node p = producer.get(value);
            if (p == null || !p.opType().equals("Concat")) return null;
            List<Long> out = new ArrayList<>();
            for (String in : p.inputs()) {
                long[] part = constantLongs(in);
                if (part != null) for (long v : part) out.add(v);
                else out.add(-1L); // a dynamic size: one element in torch's Unsqueeze(Gather(Shape)) pattern
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        }

        private long[] constantLongs(String value) {
            OnnxTensor t = constant(value);
            if (t == null || (t.dataType() != OnnxGraph.INT64 && t.dataType() != OnnxGraph.INT32)) return null;
            return t.toLongs();
        }

        /** An initializer or the value of a Constant node. */
        private OnnxTensor constant(String value) {
            OnnxTensor t = graph.initializers().get(value);
            if (t != null) return t;
            Node p = producer.get(value);
            if (p != null && p.opType().equals("Constant") && p.attributes().containsKey("value"))
                return p.attributes().get("value").t();
            return null;
        }

        /**
         * Epsilon of the layer norms: the attribute of LayerNormalization nodes, or in a decomposed layer norm
         * the scalar added to the variance right before Sqrt. All of them must agree.
         */
        private double layerNormEps() {
            TreeSet<Float> found = new TreeSet<>();
            for (Node n : graph.nodes()) {
                if (n.opType().equals("LayerNormalization")) {
                    var eps = n.attributes().get("epsilon");
                    found.add(eps == null ? 1e-5f : eps.f()); // the ONNX default
                } else if (n.opType().equals("Sqrt")) {
                    Node add = producer.get(n.input(0));
                    if (add == null || !add.opType().equals("Add")) continue;
                    for (String in : add.inputs()) {
                        OnnxTensor c = constant(in);
                        if (c != null && c.dataType() == OnnxGraph.FLOAT && c.elementCount() == 1)
                            found.add(c.scalarFloat());
                    }
                }
            }
            if (found.isEmpty()) throw new IllegalArgumentException("cannot find the layer norm epsilon: no "
                    + "LayerNormalization node and no constant added before a Sqrt");
            if (found.size() > 1) throw new IllegalArgumentException("layer norms use different epsilons " + found);
            // The float was written from a double config value: its shortest decimal form recovers it (1e-12).
            return Double.parseDouble(Float.toString(found.first()));
        }

        /** BERT's "gelu" is the erf form; torch exports it with an Erf node, the tanh approximation with Tanh. */
        private String activation() {
            boolean erf = false, tanh = false;
            for (Node n : graph.nodes()) {
                erf |= n.opType().equals("Erf") || n.opType().equals("Gelu") && !isTanhGelu(n);
                tanh |= n.opType().equals("Tanh") || n.opType().equals("Gelu") && isTanhGelu(n);
            }
            if (erf && !tanh) return BertConfig.GELU;
            if (tanh) throw new IllegalArgumentException("the graph uses a tanh activation (gelu_new / "
                    + "gelu_pytorch_tanh?), which is not supported: only erf GELU is");
            throw new IllegalArgumentException("cannot identify the activation: the graph has no Erf node, so it is "
                    + "not erf GELU, the only activation supported");
        }

        private static boolean isTanhGelu(Node n) {
            var a = n.attributes().get("approximate");
            return a != null && "tanh".equals(a.s());
        }

        private static String hfName(String onnxName) {
            return onnxName.startsWith("bert.") ? onnxName.substring(5) : onnxName;
        }

        private static boolean isBertName(String name) {
            return name.startsWith("embeddings.") && !name.equals("embeddings.position_ids")
                    || name.startsWith("encoder.layer.");
        }
    }

    /** [rows, cols] → [cols, rows] in {@code arena}. */
    static Tensor transpose(Tensor t, Arena arena) {
        int rows = t.dim(0), cols = t.dim(1);
        Tensor out = Tensor.allocate(arena, cols, rows);
        float[] src = t.toArray();
        float[] dst = new float[src.length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
        out.copyFrom(dst);
        return out;
    }

    /** The id of "[PAD]" in a WordPiece tokenizer.json, else 0 (BERT's usual pad id). */
    private static int padTokenId(Path tokenizerJson) throws IOException {
        try {
            JsonElement root = JsonParser.parseString(Files.readString(tokenizerJson, StandardCharsets.UTF_8));
            JsonObject model = root.getAsJsonObject().getAsJsonObject("model");
            JsonElement vocab = model == null ? null : model.get("vocab");
            if (vocab != null && vocab.isJsonObject() && vocab.getAsJsonObject().has("[PAD]"))
                return vocab.getAsJsonObject().get("[PAD]").getAsInt();
            return 0;
        } catch (RuntimeException e) {
            throw new IOException("cannot read tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: the original failure is what the caller needs to see
        }
    }
}
