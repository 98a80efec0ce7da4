package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The gate of a SwiGLU MLP as NomicBERT computes it: {@code y = a ⊙ SiLU(g)} with {@code a = fc11(x)} (the linear
 * half) and {@code g = fc12(x)} (the gate, the half that gets the SiLU), {@code SiLU(g) = g σ(g)}. Backward, with
 * {@code dY}: {@code dA = dY ⊙ SiLU(g)} and {@code dG = dY ⊙ a ⊙ σ(g) (1 + g (1 − σ(g)))}.
 *
 * <p>Two layouts: a and g as separate {@code [rows, width]} tensors, or fused side by side in one
 * {@code [rows, 2 * width]} tensor, a in columns {@code [0, width)} and g in {@code [width, 2 * width)}, which is what
 * one product with the weights of fc11 and fc12 stacked ({@code [2 * width, hidden]}, fc11's rows first) gives.
 *
 * <p>σ(g) is {@code 1 / (1 + e^-g)} with {@link VecMath#exp} (clamped, so very negative g gives a tiny σ, never NaN).
 * Element-wise, each element read before it is written: outputs may alias inputs as the methods say.
 */
final class SwiGlu {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final long PARALLEL_MIN_ELEMENTS = 1 << 15;

    private final ThreadPool pool;

    SwiGlu(ThreadPool pool) {
        this.pool = pool;
    }

    /** {@code y = a ⊙ SiLU(g)}, all {@code [rows, width]}; {@code y} may alias {@code a} or {@code g}. */
    void forward(Tensor a, Tensor g, Tensor y, int rows, int width) {
        NomicChecks.swiglu(a, g, y, rows, width);
        long n = (long) rows * width;
        // Contiguous operands: one long row.
        split(n, 1, (from, to) -> forwardRange(a.data(), from * Float.BYTES, g.data(), from * Float.BYTES,
                y.data(), from * Float.BYTES, (int) (to - from)));
    }

    /**
     * {@code y[rows, width] = a ⊙ SiLU(g)} with a and g side by side in {@code ag[rows, 2 * width]} (a first);
     * {@code y} may not alias {@code ag}.
     */
    void forward(Tensor ag, Tensor y, int rows, int width) {
        NomicChecks.swigluFused(ag, y, rows, width);
        long in = 2L * width * Float.BYTES, out = (long) width * Float.BYTES;
        split(rows, width, (from, to) -> {
            for (long r = from; r < to; r++)
                forwardRange(ag.data(), r * in, ag.data(), r * in + out, y.data(), r * out, width);
        });
    }

    /**
     * {@code dA = dY ⊙ SiLU(g)}, {@code dG = dY ⊙ a ⊙ SiLU'(g)}, all {@code [rows, width]}; {@code dA} or {@code dG}
     * may alias {@code dY} (not both).
     */
    void backward(Tensor a, Tensor g, Tensor dY, Tensor dA, Tensor dG, int rows, int width) {
        NomicChecks.swigluBackward(a, g, dY, dA, dG, rows, width);
        long n = (long) rows * width;
        split(n, 1, (from, to) -> {
            long o = from * Float.BYTES;
            backwardRange(a.data(), o, g.data(), o, dY.data(), o, dA.data(), o, dG.data(), o, (int) (to - from));
        });
    }

    /**
     * Backward of the fused {@link #forward(Tensor, Tensor, int, int)}: from {@code dY[rows, width]} into
     * {@code dAG[rows, 2 * width]} (dA first, then dG, the gradient of a fused fc11/fc12 product's output);
     * {@code dAG} may not alias the inputs.
     */
    void backward(Tensor ag, Tensor dY, Tensor dAG, int rows, int width) {
        NomicChecks.swigluFusedBackward(ag, dY, dAG, rows, width);
        long in = 2L * width * Float.BYTES, out = (long) width * Float.BYTES;
        split(rows, width, (from, to) -> {
            for (long r = from; r < to; r++)
                backwardRange(ag.data(), r * in, ag.data(), r * in + out, dY.data(), r * out, dAG.data(), r * in,
                        dAG.data(), r * in + out, width);
        });
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(long from, long to);
    }

    /** {@code body} over {@code [0, count)} in contiguous ranges, one per thread once there is enough work. */
    private void split(long count, long elementsPerItem, RangeBody body) {
        if (count == 0) return;
        int parts = count * elementsPerItem < PARALLEL_MIN_ELEMENTS ? 1 : (int) Math.min(pool.threads(), count);
        pool.run(parts, p -> body.run(count * p / parts, count * (p + 1) / parts));
    }

    /** {@code n} outputs from the given byte offsets: whole vectors, then scalars. */
    private static void forwardRange(MemorySegment a, long aOff, MemorySegment g, long gOff, MemorySegment y, long yOff,
                                     int n) {
        int whole = n / VL * VL;
        for (int i = 0; i < whole; i += VL) {
            long o = (long) i * Float.BYTES;
            FloatVector gv = FloatVector.fromMemorySegment(S, g, gOff + o, ORDER);
            FloatVector av = FloatVector.fromMemorySegment(S, a, aOff + o, ORDER);
            FloatVector sig = FloatVector.broadcast(S, 1f).div(VecMath.exp(gv.neg()).add(1f));
            av.mul(gv.mul(sig)).intoMemorySegment(y, yOff + o, ORDER);
        }
        for (int i = whole; i < n; i++) {
            long o = (long) i * Float.BYTES;
            float gs = g.get(ValueLayout.JAVA_FLOAT, gOff + o), as = a.get(ValueLayout.JAVA_FLOAT, aOff + o);
            y.set(ValueLayout.JAVA_FLOAT, yOff + o, as * (gs * sigmoid(gs)));
        }
    }

    private static void backwardRange(MemorySegment a, long aOff, MemorySegment g, long gOff, MemorySegment dY, long dyOff,
                                      MemorySegment dA, long daOff, MemorySegment dG, long dgOff, int n) {
        int whole = n / VL * VL;
        for (int i = 0; i < whole; i += VL) {
            long o = (long) i * Float.BYTES;
            FloatVector gv = FloatVector.fromMemorySegment(S, g, gOff + o, ORDER);
            FloatVector av = FloatVector.fromMemorySegment(S, a, aOff + o, ORDER);
            FloatVector dy = FloatVector.fromMemorySegment(S, dY, dyOff + o, ORDER);
            FloatVector sig = FloatVector.broadcast(S, 1f).div(VecMath.exp(gv.neg()).add(1f));
            // SiLU'(g) = σ + g σ (1 − σ) = σ (1 + g (1 − σ))
            FloatVector slope = sig.mul(gv.mul(sig.neg().add(1f)).add(1f));
            FloatVector da = dy.mul(gv.mul(sig)), dg = dy.mul(av).mul(slope);
            da.intoMemorySegment(dA, daOff + o, ORDER);
            dg.intoMemorySegment(dG, dgOff + o, ORDER);
        }
        for (int i = whole; i < n; i++) {
            long o = (long) i * Float.BYTES;
            float gs = g.get(ValueLayout.JAVA_FLOAT, gOff + o), as = a.get(ValueLayout.JAVA_FLOAT, aOff + o);
            float dy = dY.get(ValueLayout.JAVA_FLOAT, dyOff + o), sig = sigmoid(gs);
            dA.set(ValueLayout.JAVA_FLOAT, daOff + o, dy * (gs * sig));
            dG.set(ValueLayout.JAVA_FLOAT, dgOff + o, dy * as * (sig * (1 + gs * (1 - sig))));
        }
    }

    private static float sigmoid(float g) {
        return (float) (1 / (1 + Math.exp(-g)));
    }
}
