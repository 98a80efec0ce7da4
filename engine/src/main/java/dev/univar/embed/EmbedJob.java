package dev.univar.embed;

import dev.univar.data.NpyWriter;
import dev.univar.data.TextRecord;
import dev.univar.data.TextSource;
import dev.univar.nn.EmbeddingModel;
import dev.univar.text.Batch;
import dev.univar.text.Encoding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Embeds every text of an input file into a float32 {@code .npy} matrix, rows in input order.
 *
 * <p>Streams: texts are read in windows of {@code window} texts; inside a window they are sorted by token count
 * so each batch carries little padding, embedded, and written back in input order. Memory is bounded by the
 * window, whatever the input size. The output appears at its path only when the whole input is done.
 */
public final class EmbedJob {

    /** Receives progress and notices; every method has a no-op default. */
    public interface Listener {
        default void progress(long texts, double fractionOfInput, double textsPerSecond) {
        }

        /** A text longer than the maximum length: only its first {@code maxLength} tokens are embedded. */
        default void truncated(Path file, long line, int tokens, int maxLength) {
        }
    }

    /** What a finished run did. */
    public record Summary(long texts, long truncated, int dim, double seconds) {
        public double textsPerSecond() {
            return seconds > 0 ? texts / seconds : 0;
        }
    }

    private final EmbeddingModel model;
    private final int maxLength;
    private final int batchSize;
    private final int window;

    public EmbedJob(EmbeddingModel model, int maxLength, int batchSize) {
        this(model, maxLength, batchSize, Math.max(batchSize, 2048));
    }

    public EmbedJob(EmbeddingModel model, int maxLength, int batchSize, int window) {
        if (maxLength < 2) throw new IllegalArgumentException("max length must be at least 2 (for [CLS] and [SEP])");
        if (maxLength > model.maxPositions())
            throw new IllegalArgumentException("max length " + maxLength + " exceeds the model's "
                    + model.maxPositions() + " positions");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1");
        this.model = model;
        this.maxLength = maxLength;
        this.batchSize = batchSize;
        this.window = window;
    }

    public Summary run(Path input, String textField, Path output, Listener listener) throws IOException {
        long start = System.nanoTime();
        long done = 0, truncated = 0;
        double fraction = 0;
        try (TextSource source = TextSource.open(input, textField);
             NpyWriter writer = new NpyWriter(output, model.dim())) {
            List<TextRecord> chunk = new ArrayList<>(window);
            while (true) {
                chunk.clear();
                while (chunk.size() < window && source.hasNext()) chunk.add(source.next());
                if (chunk.isEmpty()) break;
                Encoding[] enc = new Encoding[chunk.size()];
                for (int i = 0; i < enc.length; i++) {
                    enc[i] = model.tokenizer().encode(chunk.get(i).text(), maxLength);
                    if (enc[i].truncated()) {
                        truncated++;
                        listener.truncated(input, chunk.get(i).line(), enc[i].fullLength(), maxLength);
                    }
                }
                // Bytes read so far already include this whole window; progress inside it is interpolated.
                long before = done;
                double fractionBefore = fraction, fractionAfter = source.progress();
                boolean wholeJob = done == 0 && !source.hasNext(); // this window is the whole input
                float[][] rows = embedSorted(model, enc, batchSize, wholeJob, embedded -> listener.progress(before + embedded,
                        fractionBefore + (fractionAfter - fractionBefore) * embedded / enc.length,
                        rate(before + embedded, start)));
                for (float[] row : rows) writer.writeRow(row);
                done += rows.length;
                fraction = fractionAfter;
            }
            writer.commit();
        }
        return new Summary(done, truncated, model.dim(), (System.nanoTime() - start) / 1e9);
    }

    /** Embeds encodings in length order, in batches, and returns the rows in the original order. */
    float[][] embedSorted(Encoding[] enc, IntConsumer embeddedSoFar) {
        return embedSorted(model, enc, batchSize, embeddedSoFar);
    }

    /**
     * Embeds encodings with {@code model} in batches of {@code batchSize}, shortest first (so a batch carries
     * little padding), and returns the rows in the original order; {@code embeddedSoFar} hears the running count.
     */
    public static float[][] embedSorted(EmbeddingModel model, Encoding[] enc, int batchSize, IntConsumer embeddedSoFar) {
        return embedSorted(model, enc, batchSize, false, embeddedSoFar);
    }

    /**
     * {@link #embedSorted}; {@code wholeJob}: these encodings are all the job embeds, so when they make one batch it
     * is a whole job (see {@link EmbeddingModel#embed(Batch, boolean)}).
     */
    static float[][] embedSorted(EmbeddingModel model, Encoding[] enc, int batchSize, boolean wholeJob, IntConsumer embeddedSoFar) {
        Integer[] order = new Integer[enc.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> enc[i].ids().length));
        float[][] rows = new float[enc.length][];
        for (int from = 0; from < order.length; from += batchSize) {
            int n = Math.min(batchSize, order.length - from);
            Encoding[] batch = new Encoding[n];
            for (int j = 0; j < n; j++) batch[j] = enc[order[from + j]];
            float[][] out = model.embed(Batch.pad(batch, model.tokenizer().padId()), wholeJob && order.length <= batchSize);
            for (int j = 0; j < n; j++) rows[order[from + j]] = out[j];
            embeddedSoFar.accept(from + n);
        }
        return rows;
    }

    private static double rate(long done, long start) {
        double s = (System.nanoTime() - start) / 1e9;
        return s > 0 ? done / s : 0;
    }
}
