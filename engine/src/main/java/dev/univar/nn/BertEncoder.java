package dev.univar.nn;

import dev.univar.io.BertConfig;
import dev.univar.io.BertWeights;
import dev.univar.tensor.Activation;
import dev.univar.tensor.Backend;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A BERT encoder (post-layer-norm, as in the original BERT and all-MiniLM-L6-v2) written once against
 * {@link Backend}: embeddings, N × (self-attention, residual + LayerNorm, GELU feed-forward, residual + LayerNorm),
 * then sentence-transformers' mean pooling over the attention mask and L2 normalisation.
 *
 * <p>Activation buffers are allocated once for the largest batch seen and reused, so the steady state allocates
 * nothing. Not thread-safe: one encoder per thread of work (the backend itself runs each operation in parallel).
 *
 * <p>The dense weights are treated as constants: the first forward pass packs them into the backend's layout
 * ({@link Backend#pack}; the query, key and value weights side by side as one {@code [3·hidden, hidden]} matrix,
 * so the three projections are one product). Code that changes the weights in place (a training step) must call
 * {@link #prepack()} afterwards, or the encoder keeps computing with the old values. The other weights (embeddings,
 * biases, LayerNorm) are read through {@link Backend#resident}, taken at the same time: the tensors themselves on the
 * CPU, device copies on a GPU (unless they already live there, as a training run's weights do).
 */
public final class BertEncoder implements AutoCloseable {
    private final BertConfig config;
    private final BertWeights weights;
    private final Backend backend;
    private Arena arena;
    private int capacityTokens;
    private int capacityBatch;
    private Tensor x, qkv, context, attnOut, ffn, ffnOut, mask, pooled;
    /** Packed dense weights per layer, null until the first forward or {@link #prepack()}. */
    private List<Packed> packed;
    /** The weights as the backend reads them ({@link Backend#resident}), taken with {@link #packed}. */
    private BertWeights resident;
    private Arena packArena;

    private record Packed(PackedMatrix qkv, Tensor qkvBias, PackedMatrix attnOut, PackedMatrix ffnIn,
                          PackedMatrix ffnOut) {
    }

    public BertEncoder(BertConfig config, BertWeights weights, Backend backend) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
    }

    public BertConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** Embedding size (the hidden size). */
    public int dim() {
        return config.hiddenSize();
    }

    /**
     * (Re)packs the dense weights from their current values. Called by the first forward pass; call it again after
     * changing any weight in place. Packing copies: the weight tensors are not referenced by the packed form.
     */
    public void prepack() {
        releasePacked();
        int h = config.hiddenSize(), inter = config.intermediateSize();
        long hh = (long) h * h * Float.BYTES, hb = (long) h * Float.BYTES;
        Arena arena = Arena.ofShared();
        List<Packed> list = new ArrayList<>();
        try (Arena tmp = Arena.ofShared()) { // shared: the backend may pack on its worker threads
            Tensor qkvW = Tensor.allocate(tmp, 3 * h, h);
            for (BertWeights.Layer l : weights.layers()) {
                Tensor qkvB = Tensor.allocate(arena, 3 * h);
                Tensor[] ws = {l.qW(), l.kW(), l.vW()}, bs = {l.qB(), l.kB(), l.vB()};
                for (int i = 0; i < 3; i++) {
                    MemorySegment.copy(ws[i].data(), 0, qkvW.data(), i * hh, hh);
                    MemorySegment.copy(bs[i].data(), 0, qkvB.data(), i * hb, hb);
                }
                list.add(new Packed(backend.pack(qkvW, true, 3 * h, h), backend.resident(arena, qkvB),
                        backend.pack(l.attnOutW(), true, h, h),
                        backend.pack(l.ffnInW(), true, inter, h),
                        backend.pack(l.ffnOutW(), true, h, inter)));
            }
            resident = residentCopy(weights, arena);
        } catch (RuntimeException | Error e) {
            list.forEach(BertEncoder::close);
            arena.close();
            throw e;
        }
        packed = list;
        packArena = arena;
    }

    /** The embeddings, biases and LayerNorm weights through {@link Backend#resident}; dense weights as they are (packed). */
    private BertWeights residentCopy(BertWeights w, Arena arena) {
        BertWeights.Embeddings e = w.embeddings();
        BertWeights.Embeddings re = new BertWeights.Embeddings(backend.resident(arena, e.word()),
                backend.resident(arena, e.position()), backend.resident(arena, e.tokenType()),
                backend.resident(arena, e.lnGamma()), backend.resident(arena, e.lnBeta()));
        List<BertWeights.Layer> layers = new ArrayList<>();
        for (BertWeights.Layer l : w.layers())
            layers.add(new BertWeights.Layer(l.qW(), l.qB(), l.kW(), l.kB(), l.vW(), l.vB(), l.attnOutW(),
                    backend.resident(arena, l.attnOutB()), backend.resident(arena, l.attnLnGamma()),
                    backend.resident(arena, l.attnLnBeta()), l.ffnInW(), backend.resident(arena, l.ffnInB()),
                    l.ffnOutW(), backend.resident(arena, l.ffnOutB()), backend.resident(arena, l.outLnGamma()),
                    backend.resident(arena, l.outLnBeta())));
        return new BertWeights(w.config(), re, layers);
    }

    private static void close(Packed p) {
        p.qkv.close();
        p.attnOut.close();
        p.ffnIn.close();
        p.ffnOut.close();
    }

    private void releasePacked() {
        backend.synchronize(); // nothing may still be reading what is freed
        if (packed != null) packed.forEach(BertEncoder::close);
        if (packArena != null) packArena.close();
        packed = null;
        packArena = null;
        resident = null;
    }

    /** Mean-pooled, L2-normalised embeddings of a tokenised batch, one row per text, in batch order. */
    public float[][] embed(Batch batch) {
        Tensor out = forwardPooled(batch);
        int hidden = config.hiddenSize();
        float[][] rows = new float[batch.size()][];
        MemorySegment seg = out.data();
        for (int b = 0; b < batch.size(); b++) {
            rows[b] = seg.asSlice((long) b * hidden * Float.BYTES, (long) hidden * Float.BYTES)
                    .toArray(ValueLayout.JAVA_FLOAT);
        }
        return rows;
    }

    /**
     * Runs the encoder and pooling; the returned {@code [batch, hidden]} tensor is owned by this encoder and
     * overwritten by the next call.
     */
    public Tensor forwardPooled(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen(), hidden = config.hiddenSize();
        forward(batch);
        backend.meanPool(x, mask, pooled, bs, seq, hidden);
        backend.l2Normalize(pooled, bs, hidden);
        backend.synchronize();
        return pooled.rows(0, bs);
    }

    /**
     * Runs the encoder; the returned last hidden state {@code [batch * seq, hidden]} is owned by this encoder
     * and overwritten by the next call.
     */
    public Tensor forward(Batch batch) {
        int bs = batch.size(), seq = batch.seqLen();
        if (seq > config.maxPositionEmbeddings())
            throw new IllegalArgumentException("sequence of " + seq + " tokens exceeds the model's "
                    + config.maxPositionEmbeddings() + " positions");
        int tokens = bs * seq;
        backend.synchronize(); // the last batch's work is done before its buffers are rewritten or freed
        ensureCapacity(tokens, bs);
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), headDim = hidden / heads;
        float eps = (float) config.layerNormEps();
        mask.copyFrom(batch.mask());

        if (packed == null) prepack();
        BertWeights.Embeddings emb = resident.embeddings();
        backend.embeddings(batch.ids(), batch.typeIds(), emb.word(), emb.position(), emb.tokenType(), x, bs, seq, hidden);
        backend.layerNorm(x, null, emb.lnGamma(), emb.lnBeta(), eps, x, tokens, hidden);

        List<BertWeights.Layer> layers = resident.layers();
        for (int i = 0; i < layers.size(); i++) {
            BertWeights.Layer l = layers.get(i);
            Packed p = packed.get(i);
            backend.linear(x, p.qkv, p.qkvBias, Activation.NONE, qkv, tokens);
            backend.attention(qkv, mask, context, bs, seq, heads, headDim);
            backend.linear(context, p.attnOut, l.attnOutB(), Activation.NONE, attnOut, tokens);
            backend.layerNorm(attnOut, x, l.attnLnGamma(), l.attnLnBeta(), eps, x, tokens, hidden);
            backend.linear(x, p.ffnIn, l.ffnInB(), Activation.GELU, ffn, tokens);
            backend.linear(ffn, p.ffnOut, l.ffnOutB(), Activation.NONE, ffnOut, tokens);
            backend.layerNorm(ffnOut, x, l.outLnGamma(), l.outLnBeta(), eps, x, tokens, hidden);
        }
        backend.synchronize();
        return x.rows(0, tokens);
    }

    private void ensureCapacity(int tokens, int bs) {
        if (tokens <= capacityTokens && bs <= capacityBatch) return;
        if (arena != null) arena.close();
        capacityTokens = Math.max(tokens, capacityTokens);
        capacityBatch = Math.max(bs, capacityBatch);
        // Shared: the backend's worker threads read and write these buffers.
        arena = Arena.ofShared();
        int hidden = config.hiddenSize(), inter = config.intermediateSize();
        x = backend.allocate(arena, capacityTokens, hidden);
        qkv = backend.allocate(arena, capacityTokens, 3 * hidden);
        context = backend.allocate(arena, capacityTokens, hidden);
        attnOut = backend.allocate(arena, capacityTokens, hidden);
        ffn = backend.allocate(arena, capacityTokens, inter);
        ffnOut = backend.allocate(arena, capacityTokens, hidden);
        mask = backend.allocate(arena, capacityTokens);
        pooled = backend.allocate(arena, capacityBatch, hidden);
    }

    @Override
    public void close() {
        releasePacked();
        if (arena != null) arena.close();
        arena = null;
        capacityTokens = capacityBatch = 0;
    }
}
