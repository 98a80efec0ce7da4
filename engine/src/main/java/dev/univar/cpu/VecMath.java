package dev.univar.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vectorised float erf and GELU. Relative error about 3e-7 (a few float ulps) against {@link Erf}.
 *
 * <p>Two regions of {@code z = |s|}, both computed for all lanes and blended:
 * <ul>
 *   <li>z &lt; 1: {@code erf(z) = z * P(z^2)}, P of degree 6;</li>
 *   <li>z &gt;= 1: {@code erfc(z) = exp(-z^2) * Q(t)}, {@code t = 1/(1 + z/2)}, Q of degree 8 (Q approximates the
 *       scaled erfc, which is smooth and slowly varying, unlike erfc itself).</li>
 * </ul>
 * The coefficients were fitted for this project (weighted least squares iterated towards minimax relative error
 * on those intervals, in double: 1.3e-9 and 6e-9); the float evaluation error dominates. Working with erfc in the
 * second region keeps {@code 1 + erf(s)} accurate in relative terms for negative s, so GELU's negative tail is
 * right too, not just absolutely small.
 */
final class VecMath {

    private VecMath() {
    }

    // erf(z)/z as a polynomial in z^2 on [0, 1].
    private static final float P0 = 1.1283791655807538f, P1 = -0.3761262525907375f, P2 = 0.11283580034725035f,
            P3 = -0.026853624950430505f, P4 = 0.005188003661721716f, P5 = -0.0008007533704711689f,
            P6 = 7.845527173287736e-05f;
    // erfc(z) * exp(z^2) as a polynomial in t = 1/(1 + z/2) on z in [1, 10].
    private static final float Q0 = -4.246528559260124e-06f, Q1 = 0.2822029807411791f, Q2 = 0.2809530715470034f,
            Q3 = 0.2531867785607623f, Q4 = 0.15727033701752505f, Q5 = 0.1070199025359092f,
            Q6 = 0.02285121023363698f, Q7 = -0.1834271218712188f, Q8 = 0.08038981517989091f;
    /** Beyond this erfc(z) is below float's smallest normal times a little; clamping keeps exp finite. */
    private static final float Z_MAX = 10f;
    /**
     * GELU works on x clamped to [-GELU_CLAMP, GELU_CLAMP] and returns 0 below: there |GELU(x)| < 5e-35, and the
     * exact path would go through subnormal floats (exp(-x^2/2) < 2^-126 from |x| = 13.2), which are slow (on AMD
     * about 2x for the whole kernel on products with large activations).
     */
    private static final float GELU_CLAMP = 12.5f;
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** A constant species: {@code v.species()} is not a compile-time constant to C2, and broadcasts over it box. */
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final VectorSpecies<Integer> IS = S.withLanes(int.class);

    // exp: x = n ln2 + r, |r| <= ln2/2 (ln2 split in two so that n * LN2_HI is exact), e^r by its Taylor
    // polynomial of degree 7 (truncation error below 6e-9 relative), then scaled by 2^n.
    // Package-private: Attention's softmax writes the same e^x out in its own loop.
    static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    static final float ROUNDER = 12582912f; // 1.5 * 2^23: adding it rounds to an integer, kept in the low bits
    private static final int ROUNDER_BITS = 0x4B400000;
    private static final float EXP_MIN = -104f, EXP_MAX = 88.7f;
    static final float E2 = 1f / 2, E3 = 1f / 6, E4 = 1f / 24, E5 = 1f / 120, E6 = 1f / 720, E7 = 1f / 5040;

    /**
     * e^x, lanewise, within about 2 float ulps for x in [-87, 88.7], subnormal results below (gradual, as the
     * scale is applied in two normal halves) and 0 below -104. The Vector API's {@code EXP} goes through a
     * library stub; this is a dozen inlined instructions. Small on purpose, so that C2 inlines it: see
     * {@link #gelu} on why a vector must not cross a call that is not inlined.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector t = x.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUNDER));
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(S, E7), FloatVector.broadcast(S, E6));
        p = p.fma(r, FloatVector.broadcast(S, E5));
        p = p.fma(r, FloatVector.broadcast(S, E4));
        p = p.fma(r, FloatVector.broadcast(S, E3));
        p = p.fma(r, FloatVector.broadcast(S, E2));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        IntVector ni = (IntVector) t.reinterpretAsInts();
        ni = ni.sub(ROUNDER_BITS);
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1), n2 = ni.sub(n1);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /** erf(z)/z for |z| < 1 (any z: the caller blends). */
    private static FloatVector small(FloatVector z2) {
        FloatVector p = z2.fma(P6, P5);
        p = mad(p, z2, P4);
        p = mad(p, z2, P3);
        p = mad(p, z2, P2);
        p = mad(p, z2, P1);
        return mad(p, z2, P0);
    }

    /** Q(t) ~ erfc(z) * exp(z^2) for z >= 1. */
    private static FloatVector scaledErfc(FloatVector z) {
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(0.5f, 1f));
        FloatVector q = t.fma(Q8, Q7);
        q = mad(q, t, Q6);
        q = mad(q, t, Q5);
        q = mad(q, t, Q4);
        q = mad(q, t, Q3);
        q = mad(q, t, Q2);
        q = mad(q, t, Q1);
        return mad(q, t, Q0);
    }

    /** erf, lanewise (for tests and future kernels; GELU has its own loop, see there). */
    static FloatVector erf(FloatVector s) {
        FloatVector z = s.abs();
        FloatVector z2 = z.mul(z);
        FloatVector nearZero = z.mul(small(z2));
        FloatVector zc = z.min(Z_MAX);
        // exp(-z^2) with z^2 = hi + lo split exactly, then erf = 1 - erfc.
        FloatVector hi = zc.mul(zc);
        FloatVector lo = zc.fma(zc, hi.neg());
        FloatVector erfc = exp(hi.neg()).mul(lo.neg().add(1f)).mul(scaledErfc(zc));
        FloatVector far = erfc.neg().add(1f);
        FloatVector r = far.blend(nearZero, z.lt(1f));
        return r.blend(r.neg(), s.lt(0f)); // erf is odd
    }

    /**
     * Exact GELU {@code x/2 * (1 + erf(x/sqrt 2))} of the floats {@code [from, to)} of {@code x} into {@code out}
     * (which may be {@code x}).
     *
     * <p>The whole loop lives in this one method on purpose: a FloatVector passed to or returned from a method
     * that C2 declines to inline (it declines large methods that already have compiled code of their own) is
     * boxed on the heap, which made this kernel several times slower depending on what ran before it. For the
     * same reason every step is written out here with constants broadcast from the static species: with the
     * polynomials in helpers (and broadcasts over {@code v.species()}) C2 boxed vectors, 75-189 MB allocated
     * per [4096, 1536] call.
     */
    static void gelu(MemorySegment x, MemorySegment out, long from, long to) {
        long full = from + (to - from) / VL * VL;
        if (full != to) {
            // The ragged tail goes through a vector-sized buffer, so that the loop below has no masks (masked
            // segment accesses made this kernel about twice as slow).
            float[] buf = new float[VL];
            int rest = (int) (to - full);
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, full * Float.BYTES, buf, 0, rest);
            MemorySegment b = MemorySegment.ofArray(buf);
            gelu(b, b, 0, VL);
            MemorySegment.copy(buf, 0, out, ValueLayout.JAVA_FLOAT, full * Float.BYTES, rest);
        }
        for (long i = from; i < full; i += VL) {
            long off = i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, x, off, ORDER);
            FloatVector u = v.max(FloatVector.broadcast(S, -GELU_CLAMP)).min(FloatVector.broadcast(S, GELU_CLAMP)); // 1 + erf(u / sqrt 2) is exactly 2 from 12.5 up
            FloatVector s = u.mul(INV_SQRT2);
            FloatVector z = s.abs();
            // Near zero: 1 + erf(s) = 1 + s * P(s^2).
            FloatVector s2 = s.mul(s);
            FloatVector p = s2.fma(FloatVector.broadcast(S, P6), FloatVector.broadcast(S, P5));
            p = p.fma(s2, FloatVector.broadcast(S, P4));
            p = p.fma(s2, FloatVector.broadcast(S, P3));
            p = p.fma(s2, FloatVector.broadcast(S, P2));
            p = p.fma(s2, FloatVector.broadcast(S, P1));
            p = p.fma(s2, FloatVector.broadcast(S, P0));
            FloatVector nearZero = s.fma(p, FloatVector.broadcast(S, 1f));
            // Far: erfc(z) = exp(-z^2) Q(t). z^2 = x^2/2 is taken from the exact split of x^2 (halving is exact),
            // so the rounding of x/sqrt 2 does not reach the exponent.
            FloatVector xc = u.abs();
            FloatVector hi = xc.mul(xc);
            FloatVector lo = xc.fma(xc, hi.neg());
            FloatVector zc = z.min(Z_MAX);
            FloatVector t = FloatVector.broadcast(S, 1f).div(zc.fma(FloatVector.broadcast(S, 0.5f), FloatVector.broadcast(S, 1f)));
            FloatVector q = t.fma(FloatVector.broadcast(S, Q8), FloatVector.broadcast(S, Q7));
            q = q.fma(t, FloatVector.broadcast(S, Q6));
            q = q.fma(t, FloatVector.broadcast(S, Q5));
            q = q.fma(t, FloatVector.broadcast(S, Q4));
            q = q.fma(t, FloatVector.broadcast(S, Q3));
            q = q.fma(t, FloatVector.broadcast(S, Q2));
            q = q.fma(t, FloatVector.broadcast(S, Q1));
            q = q.fma(t, FloatVector.broadcast(S, Q0));
            // exp(-hi/2) as in exp(), written out (see above on inlining); the argument is in [-78.2, 0], so 2^n
            // is one normal float and no clamping is needed.
            FloatVector ex = hi.mul(-0.5f);
            FloatVector et = ex.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUNDER));
            FloatVector en = et.sub(FloatVector.broadcast(S, ROUNDER));
            FloatVector er = en.fma(FloatVector.broadcast(S, -LN2_HI), ex);
            er = en.fma(FloatVector.broadcast(S, -LN2_LO), er);
            FloatVector ep = er.fma(FloatVector.broadcast(S, E7), FloatVector.broadcast(S, E6));
            ep = ep.fma(er, FloatVector.broadcast(S, E5));
            ep = ep.fma(er, FloatVector.broadcast(S, E4));
            ep = ep.fma(er, FloatVector.broadcast(S, E3));
            ep = ep.fma(er, FloatVector.broadcast(S, E2));
            ep = ep.fma(er, FloatVector.broadcast(S, 1f));
            ep = ep.fma(er, FloatVector.broadcast(S, 1f));
            FloatVector scale = ((IntVector) et.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23)
                    .add(IntVector.broadcast(IS, 127 << 23)).reinterpretAsFloats();
            FloatVector erfc = ep.mul(scale).mul(lo.mul(-0.5f).add(1f)).mul(q);
            // 1 + erf(s) is erfc(|s|) for negative s and 2 - erfc(s) for positive s.
            FloatVector far = erfc.neg().add(2f).blend(erfc, v.lt(0f));
            FloatVector onePlusErf = far.blend(nearZero, z.lt(1f));
            v.mul(0.5f).mul(onePlusErf).blend(FloatVector.zero(S), v.lt(FloatVector.broadcast(S, -GELU_CLAMP))).intoMemorySegment(out, off, ORDER);
        }
    }

    /** {@code a * b + c}. */
    private static FloatVector mad(FloatVector a, FloatVector b, float c) {
        return a.fma(b, FloatVector.broadcast(S, c));
    }
}
