package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Rotary position embedding, non-interleaved (GPT-NeoX layout, as NomicBERT): in each head, the first
 * {@code rotaryDim / 2} columns are rotated against the next {@code rotaryDim / 2}; columns from {@code rotaryDim}
 * to {@code headDim} are left as they are. With {@code c = cos[p, j]}, {@code s = sin[p, j]} ({@link RotaryTable})
 * and {@code half = rotaryDim / 2}, for {@code j < half}:
 * <pre>
 *   x'[j]        = x[j] c − x[j + half] s
 *   x'[j + half] = x[j + half] c + x[j] s
 * </pre>
 * The position of row {@code r} of a {@code [batch * seq, ...]} tensor is {@code r mod seq}: positions run along the
 * padded axis, so sequences must be padded on the right to start at position 0.
 *
 * <p>The rotation is orthogonal, so its backward is the rotation by −θ ({@code inverse}: s negated) applied to the
 * gradient; both run in place. Row ranges are split over the threads once there is enough work.
 */
final class Rotary {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Elements below which one thread does the whole call. */
    private static final long PARALLEL_MIN_ELEMENTS = 1 << 15;

    private final ThreadPool pool;

    Rotary(ThreadPool pool) {
        this.pool = pool;
    }

    /**
     * In place on {@code x[batch * seq, heads * headDim]}: every head of every row rotated by its position's angles
     * (by their negatives when {@code inverse}, the backward). {@code cos} and {@code sin} are
     * {@code [>= seq, rotaryDim / 2]}.
     */
    void rotate(Tensor x, Tensor cos, Tensor sin, int batch, int seq, int heads, int headDim, int rotaryDim,
                boolean inverse) {
        NomicChecks.rotary(x, 1, cos, sin, batch, seq, heads, headDim, rotaryDim);
        run(x.data(), heads * headDim, 1, cos, sin, batch, seq, heads, headDim, rotaryDim, inverse);
    }

    /**
     * In place on the q and k column blocks of a fused {@code qkv[batch * seq, 3 * heads * headDim]} (columns q, then
     * k, then v, as {@link dev.univar.tensor.Backend#attention(Tensor, Tensor, Tensor, int, int, int, int)} reads
     * them); v is not touched. The backward ({@code inverse}) applies to the fused gradient the same way.
     */
    void rotateQkv(Tensor qkv, Tensor cos, Tensor sin, int batch, int seq, int heads, int headDim, int rotaryDim,
                   boolean inverse) {
        NomicChecks.rotary(qkv, 3, cos, sin, batch, seq, heads, headDim, rotaryDim);
        run(qkv.data(), 3 * heads * headDim, 2, cos, sin, batch, seq, heads, headDim, rotaryDim, inverse);
    }

    /** The first {@code blocks} blocks of {@code heads * headDim} columns of rows {@code ld} floats apart. */
    private void run(MemorySegment x, int ld, int blocks, Tensor cos, Tensor sin, int batch, int seq, int heads,
                     int headDim, int rotaryDim, boolean inverse) {
        long rows = (long) batch * seq;
        int half = rotaryDim / 2;
        if (rows == 0 || half == 0 || heads == 0) return;
        MemorySegment cs = cos.data(), ss = sin.data();
        float sign = inverse ? -1f : 1f;
        int parts = rows * blocks * heads * rotaryDim < PARALLEL_MIN_ELEMENTS ? 1 : (int) Math.min(pool.threads(), rows);
        pool.run(parts, part -> {
            for (long r = rows * part / parts, end = rows * (part + 1) / parts; r < end; r++) {
                long table = (r % seq) * half * Float.BYTES;
                for (int h = 0; h < blocks * heads; h++)
                    rotateHead(x, (r * ld + (long) h * headDim) * Float.BYTES, cs, ss, table, half, sign);
            }
        });
    }

    /**
     * One head from byte offset {@code at}: whole vectors, then the ragged end as scalars (no masked vector steps: in
     * CpuBackend's layer norm they made C1's compile run out of registers). {@code sign} -1 rotates by −θ.
     */
    private static void rotateHead(MemorySegment x, long at, MemorySegment cos, MemorySegment sin, long table, int half,
                                   float sign) {
        long second = at + (long) half * Float.BYTES;
        int whole = half / VL * VL;
        for (int j = 0; j < whole; j += VL) {
            long o = (long) j * Float.BYTES;
            FloatVector a = FloatVector.fromMemorySegment(S, x, at + o, ORDER);
            FloatVector b = FloatVector.fromMemorySegment(S, x, second + o, ORDER);
            FloatVector c = FloatVector.fromMemorySegment(S, cos, table + o, ORDER);
            FloatVector s = FloatVector.fromMemorySegment(S, sin, table + o, ORDER).mul(sign);
            a.fma(c, b.mul(s).neg()).intoMemorySegment(x, at + o, ORDER);
            b.fma(c, a.mul(s)).intoMemorySegment(x, second + o, ORDER);
        }
        for (int j = whole; j < half; j++) {
            long o = (long) j * Float.BYTES;
            float a = x.get(ValueLayout.JAVA_FLOAT, at + o), b = x.get(ValueLayout.JAVA_FLOAT, second + o);
            float c = cos.get(ValueLayout.JAVA_FLOAT, table + o), s = sign * sin.get(ValueLayout.JAVA_FLOAT, table + o);
            x.set(ValueLayout.JAVA_FLOAT, at + o, Math.fma(a, c, -(b * s)));
            x.set(ValueLayout.JAVA_FLOAT, second + o, Math.fma(b, c, a * s));
        }
    }
}
