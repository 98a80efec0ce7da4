package dev.univar.values;

import dev.univar.data.AtomicFile;
import dev.univar.embed.EmbedJob;
import dev.univar.nn.EmbeddingModel;
import dev.univar.text.Encoding;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Embeds many texts, sorted by token count into batches so little is spent on padding, and remembers the result
 * in a cache folder keyed by the model (folder and weights file size and time), the maximum length and the texts:
 * eval, map, compare and report on one corpus embed the same texts, and a second run costs nothing.
 */
public final class CachedEmbedder {
    private final EmbeddingModel model;
    private final int maxLength, batchSize;
    private final Path cacheDir;
    private final String arithmetic;

    /** {@code cacheDir} may be null (no cache). */
    public CachedEmbedder(EmbeddingModel model, int maxLength, int batchSize, Path cacheDir) {
        this(model, maxLength, batchSize, cacheDir, null);
    }

    /**
     * {@code arithmetic} names reduced-precision products ("tf32", "bf16") whose embeddings get cache entries of
     * their own; null or "fp32" shares the float32 entries (CPU and GPU float32 agree within the 1e-4 the GPU tests allow).
     */
    public CachedEmbedder(EmbeddingModel model, int maxLength, int batchSize, Path cacheDir, String arithmetic) {
        if (maxLength < 2) throw new IllegalArgumentException("--max-length must be at least 2");
        if (maxLength > model.maxPositions())
            throw new IllegalArgumentException("--max-length " + maxLength + " exceeds the model's " + model.maxPositions() + " positions");
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1");
        this.model = model;
        this.maxLength = maxLength;
        this.batchSize = batchSize;
        this.cacheDir = cacheDir;
        this.arithmetic = arithmetic == null || arithmetic.equalsIgnoreCase("fp32") ? "" : arithmetic.toLowerCase(java.util.Locale.ROOT);
    }

    /** L2-normalised embeddings in input order; {@code progress} hears the number embedded so far. */
    public float[][] embed(List<String> texts, IntConsumer progress) throws IOException {
        // The cache is keyed by the set of distinct texts, not their order: eval, compare and report list the
        // same answers in different orders and share one entry.
        List<String> distinct = List.copyOf(new java.util.TreeSet<>(texts));
        Path cached = cacheDir == null ? null : cacheDir.resolve("emb-" + key(distinct) + ".f32");
        float[][] rows = null;
        if (cached != null && Files.isRegularFile(cached)) {
            float[][] m = read(cached);
            if (m.length == distinct.size()) rows = m;
        }
        if (rows == null) {
            rows = embedSorted(distinct, done -> progress.accept((int) ((long) done * texts.size() / Math.max(1, distinct.size()))));
            if (cached != null) write(cached, rows);
        }
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < distinct.size(); i++) index.put(distinct.get(i), i);
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = rows[index.get(texts.get(i))];
        progress.accept(texts.size());
        return out;
    }

    private float[][] embedSorted(List<String> texts, IntConsumer progress) {
        Encoding[] enc = new Encoding[texts.size()];
        for (int i = 0; i < enc.length; i++) enc[i] = model.tokenizer().encode(texts.get(i), maxLength);
        return EmbedJob.embedSorted(model, enc, batchSize, progress);
    }

    private String key(List<String> texts) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Path weights = model.dir().resolve("model.safetensors");
            md.update((model.dir().toAbsolutePath().normalize() + "\0" + Files.size(weights) + "\0"
                    + Files.getLastModifiedTime(weights).toMillis() + "\0" + maxLength + "\0" + texts.size() + "\0"
                    + (arithmetic.isEmpty() ? "" : arithmetic + "\0"))
                    .getBytes(StandardCharsets.UTF_8));
            for (String t : texts) {
                byte[] b = t.getBytes(StandardCharsets.UTF_8);
                md.update(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
                md.update((byte) 0);
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static float[][] read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            int n = in.readInt(), d = in.readInt();
            float[][] m = new float[n][d];
            for (float[] row : m) for (int j = 0; j < d; j++) row[j] = in.readFloat();
            return m;
        } catch (IOException e) {
            return new float[0][]; // a damaged cache entry is recomputed
        }
    }

    private static void write(Path file, float[][] m) throws IOException {
        try (AtomicFile f = AtomicFile.create(file)) {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(f.stream()));
            out.writeInt(m.length);
            out.writeInt(m.length == 0 ? 0 : m[0].length);
            for (float[] row : m) for (float v : row) out.writeFloat(v);
            out.flush();
            f.commit();
        }
    }
}
