package dev.univar.model;

import dev.univar.tensor.Activation;
import dev.univar.tensor.Backend;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;
import dev.univar.text.Batch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The operations an encoder is written with, in one of two modes, so that an architecture writes its forward once
 * ({@link EncoderGraph}) and it serves both:
 * <ul>
 * <li><b>inference</b> ({@link #inference}): dense layers are products with weights packed once
 * ({@link Backend#pack}, {@link Backend#linear}; an activation fused into the product's store, query, key and value as
 * one product), layer norms may work in place, nothing is kept for a backward;</li>
 * <li><b>training</b> ({@link #training}): products with the weights as they are (an optimizer updates them in
 * place), and every forward op keeps what its backward needs in the buffers it is given ({@link #saved} hands out
 * those buffers in training and null at inference). The backward ops, one per forward op, stand beside them.</li>
 * </ul>
 * Both modes run the same kernels in the same order where the mode does not matter, so the two forwards agree
 * (to the summation order of a packed against an unpacked product).
 */
public final class Ops {

    private final Backend backend;
    private final TrainingBackend trainer;

    private Ops(Backend backend, TrainingBackend trainer) {
        this.backend = backend;
        this.trainer = trainer;
    }

    public static Ops inference(Backend backend) {
        return new Ops(backend, null);
    }

    public static Ops training(TrainingBackend backend) {
        return new Ops(backend, backend);
    }

    public boolean training() {
        return trainer != null;
    }

    public Backend backend() {
        return backend;
    }

    private TrainingBackend trainer() {
        if (trainer == null) throw new IllegalStateException("a backward op in an inference pass");
        return trainer;
    }

    // ---------------------------------------------------------------- binding and buffers

    /**
     * {@code weights} as this mode computes with them, for an architecture's weight view. Training: the tensors
     * themselves. Inference: dense weights packed ({@link Backend#pack}, a copy taken now: bind again after the
     * weights change), everything else through {@link Backend#resident}; the binding owns what it made until
     * closed.
     */
    public Binding bind(Weights weights) {
        return training() ? new Binding(weights, null) : new Binding(weights, backend);
    }

    /** A tensor for this pass's use, in the backend's memory ({@link Backend#allocate}). */
    public Tensor allocate(Arena arena, int... shape) {
        return backend.allocate(arena, shape);
    }

    /** A buffer the forward keeps for the backward: allocated in training, null at inference (nothing is kept). */
    public Tensor saved(Arena arena, int... shape) {
        return training() ? backend.allocate(arena, shape) : null;
    }

    /** What a layer norm keeps for its backward, per row: the normalised input and 1/σ. Null at inference. */
    public NormSaved normSaved(Arena arena, int rows, int dim) {
        return training() ? new NormSaved(backend.allocate(arena, rows, dim), backend.allocate(arena, rows)) : null;
    }

    /**
     * Buffers for query, key and value of {@code rows} tokens, {@code width} each: one {@code [rows, 3·width]} tensor
     * at inference (one product writes it, the fused attention reads it), three {@code [rows, width]} in training.
     */
    public Qkv qkv(Arena arena, int rows, int width) {
        if (!training()) return new Qkv(backend.allocate(arena, rows, 3 * width), null, null, null);
        return new Qkv(null, backend.allocate(arena, rows, width), backend.allocate(arena, rows, width),
                backend.allocate(arena, rows, width));
    }

    /** A layer norm's saved values ({@link TrainingBackend#layerNormTrain}). */
    public record NormSaved(Tensor xhat, Tensor rstd) {
    }

    /** Query, key and value side by side ({@code fused}, inference) or apart ({@code q}, {@code k}, {@code v}, training). */
    public record Qkv(Tensor fused, Tensor q, Tensor k, Tensor v) {
    }

    // ---------------------------------------------------------------- forward

    /**
     * {@code out[b·seq + t] = word[ids] (+ position[t]) + tokenType[typeIds]}; {@code position} null for an
     * architecture without a position table.
     */
    public void embeddings(Batch batch, Tensor word, Tensor position, Tensor tokenType, Tensor out, int hidden) {
        backend.embeddings(batch.ids(), batch.typeIds(), word, position, tokenType, out, batch.size(), batch.seqLen(), hidden);
    }

    /**
     * {@code out = LN(x + residual)} ({@code residual} may be null). Training keeps {@code saved} and {@code out} may
     * not alias an input; at inference ({@code saved} null) it may.
     */
    public void layerNorm(Tensor x, Tensor residual, Norm n, float eps, Tensor out, NormSaved saved, int rows, int dim) {
        if (training())
            trainer.layerNormTrain(x, residual, n.weight(), n.bias(), eps, out, saved.xhat(), saved.rstd(), rows, dim);
        else
            backend.layerNorm(x, residual, n.weight(), n.bias(), eps, out, rows, dim);
    }

    /**
     * {@code out = act(x · Wᵀ + b)} over {@code rows} rows. Training with an activation keeps its input in
     * {@code pre}; at inference the activation is fused into the product ({@code pre} unused, may be null).
     */
    public void linear(Tensor x, Linear w, Activation act, Tensor pre, Tensor out, int rows) {
        if (!training()) {
            backend.linear(x, w.packed(), w.bias(), act, out, rows);
            return;
        }
        if (act == Activation.NONE) {
            backend.matmul(x, w.weight(), true, w.bias(), out, rows, w.out(), w.in());
            return;
        }
        backend.matmul(x, w.weight(), true, w.bias(), pre, rows, w.out(), w.in());
        switch (act) {
            case GELU -> backend.gelu(pre, out, (long) rows * w.out());
            case NONE -> throw new AssertionError();
        }
    }

    /**
     * Query, key and value of {@code x}: {@code qkv} is a linear whose output is the three side by side, fused from
     * three ({@link Linear#fused}) or one weight of {@code 3·width} rows. Inference: one product; training: three.
     */
    public void projectQkv(Tensor x, Linear qkv, Qkv out, int rows) {
        if (!training()) {
            backend.linear(x, qkv.packed(), qkv.bias(), Activation.NONE, out.fused(), rows);
            return;
        }
        List<Linear> p = thirds(qkv);
        Tensor[] o = {out.q(), out.k(), out.v()};
        for (int i = 0; i < 3; i++)
            backend.matmul(x, p.get(i).weight(), true, p.get(i).bias(), o[i], rows, p.get(i).out(), p.get(i).in());
    }

    /** Scaled dot-product attention over query, key and value; training keeps the probabilities in {@code probs}. */
    public void attention(Qkv qkv, Tensor mask, Tensor out, Tensor probs, int batch, int seq, int heads, int headDim) {
        if (training())
            trainer.attentionForwardTrain(qkv.q(), qkv.k(), qkv.v(), mask, out, probs, batch, seq, heads, headDim);
        else
            backend.attention(qkv.fused(), mask, out, batch, seq, heads, headDim);
    }

    // ---------------------------------------------------------------- backward (training only)

    /** Backward of {@link #embeddings}: accumulates into the tables' gradients ({@code dPosition} null with no table). */
    public void embeddingsBackward(Batch batch, Tensor dOut, Tensor dWord, Tensor dPosition, Tensor dTokenType, int hidden) {
        trainer().embeddingsBackward(batch.ids(), batch.typeIds(), dOut, dWord, dPosition, dTokenType, batch.size(),
                batch.seqLen(), hidden);
    }

    /**
     * Backward of {@link #layerNorm}: {@code dY} (may alias {@code dOut}) gets the gradient of its input
     * {@code x + residual}, {@code g} accumulates the gradients of its parameters.
     */
    public void layerNormBackward(Tensor dOut, NormSaved saved, Norm n, Norm g, Tensor dY, int rows, int dim) {
        trainer().layerNormBackward(dOut, saved.xhat(), saved.rstd(), n.weight(), dY, g.weight(), g.bias(), rows, dim);
    }

    /**
     * Backward of {@link #linear} without activation: {@code g} accumulates {@code dOutᵀ · x} and the bias gradient;
     * the input gradient {@code dOut · W} is written to {@code dX}, or added to it when {@code accumulate} (a
     * residual branch's gradient, summed without a separate add), or skipped when {@code dX} is null.
     */
    public void linearBackward(Tensor dOut, Tensor x, Linear w, Linear g, Tensor dX, boolean accumulate, int rows) {
        TrainingBackend t = trainer();
        t.matmulBackward(dOut, x, w.weight(), accumulate ? null : dX, g.weight(), g.bias(), rows, w.out(), w.in());
        if (accumulate && dX != null) t.gemm(dOut, false, w.weight(), false, null, true, dX, rows, w.in(), w.out());
    }

    /** Backward of an activation that {@link #linear} applied: {@code dX = dOut · act'(pre)} ({@code dX} may alias {@code dOut}). */
    public void activationBackward(Activation act, Tensor pre, Tensor dOut, Tensor dX, long n) {
        switch (act) {
            case GELU -> trainer().geluBackward(pre, dOut, dX, n);
            case NONE -> {
                if (dX != dOut) throw new IllegalArgumentException("no activation: dX must be dOut");
            }
        }
    }

    /** Backward of {@link #attention}: the gradients of query, key and value from that of its output. */
    public void attentionBackward(Qkv qkv, Tensor mask, Tensor probs, Tensor dOut, Qkv dQkv, int batch, int seq,
                                  int heads, int headDim) {
        trainer().attentionBackward(qkv.q(), qkv.k(), qkv.v(), mask, probs, dOut, dQkv.q(), dQkv.k(), dQkv.v(), batch,
                seq, heads, headDim);
    }

    /**
     * Backward of {@link #projectQkv}: {@code g} accumulates the three products' weight and bias gradients, and
     * their input gradients are added to {@code dX}.
     */
    public void projectQkvBackward(Qkv dQkv, Tensor x, Linear qkv, Linear g, Tensor dX, int rows) {
        TrainingBackend t = trainer();
        List<Linear> w = thirds(qkv), gw = thirds(g);
        Tensor[] d = {dQkv.q(), dQkv.k(), dQkv.v()};
        for (int i = 0; i < 3; i++)
            t.matmulBackward(d[i], x, w.get(i).weight(), null, gw.get(i).weight(), gw.get(i).bias(), rows, w.get(i).out(), w.get(i).in());
        for (int i = 0; i < 3; i++)
            t.gemm(d[i], false, w.get(i).weight(), false, null, true, dX, rows, w.get(i).in(), w.get(i).out());
    }

    /** Query, key and value parts of a QKV linear: its three parts, or its weight's (and bias's) row thirds. */
    private static List<Linear> thirds(Linear qkv) {
        if (qkv.isFused()) {
            if (qkv.parts().size() != 3) throw new IllegalArgumentException("a QKV linear has 3 parts, got " + qkv.parts().size());
            return qkv.parts();
        }
        int n = qkv.weight().dim(0) / 3;
        List<Linear> p = new ArrayList<>();
        for (int i = 0; i < 3; i++)
            p.add(Linear.of(qkv.weight().rows(i * n, n), qkv.bias() == null ? null : qkv.bias().rows(i * n, n)));
        return p;
    }

    // ---------------------------------------------------------------- binding

    /**
     * Weights bound for one mode ({@link Ops#bind}). At inference it owns the packed matrices and device copies it
     * made; close it (after {@link Backend#synchronize}) to free them.
     */
    public static final class Binding implements Binder, AutoCloseable {
        private final Weights weights;
        private final Backend packer;
        private final Arena arena;
        private final List<PackedMatrix> packed = new ArrayList<>();

        private Binding(Weights weights, Backend packer) {
            this.weights = weights;
            this.packer = packer;
            this.arena = packer == null ? null : Arena.ofShared(); // shared: the backend's threads read these
        }

        @Override
        public Tensor tensor(Param p) {
            Tensor t = weights.get(p.name());
            if (packer == null) return t;
            // Dense weights and biases are read from the host when their linear is packed (prepare).
            return switch (p.kind()) {
                case MATRIX, BIAS -> t;
                case EMBEDDING, NORM_WEIGHT, NORM_BIAS -> packer.resident(arena, t);
            };
        }

        @Override
        public Linear prepare(Linear raw) {
            if (packer == null) return raw;
            int n = raw.out(), k = raw.in();
            Tensor bias;
            PackedMatrix m;
            if (!raw.isFused()) {
                m = packer.pack(raw.weight(), true, n, k);
                packed.add(m);
                bias = raw.bias() == null ? null : packer.resident(arena, raw.bias());
            } else {
                // The parts' weights one above the other: one [Σ out, in] matrix, so the product is one.
                boolean hasBias = raw.part(0).bias() != null;
                Tensor b = hasBias ? Tensor.allocate(arena, n) : null;
                try (Arena tmp = Arena.ofShared()) { // shared: the backend may pack on its worker threads
                    Tensor w = Tensor.allocate(tmp, n, k);
                    long row = 0;
                    for (Linear part : raw.parts()) {
                        long bytes = part.weight().size() * Float.BYTES;
                        MemorySegment.copy(part.weight().data(), 0, w.data(), row * k * Float.BYTES, bytes);
                        if (hasBias)
                            MemorySegment.copy(part.bias().data(), 0, b.data(), row * Float.BYTES, (long) part.out() * Float.BYTES);
                        row += part.out();
                    }
                    m = packer.pack(w, true, n, k);
                    packed.add(m);
                }
                bias = hasBias ? packer.resident(arena, b) : null;
            }
            return new Linear(raw.weight(), bias, m, raw.parts());
        }

        @Override
        public void close() {
            packed.forEach(PackedMatrix::close);
            packed.clear();
            if (arena != null) arena.close();
        }
    }
}
