package dev.univar.cpu;

import dev.univar.TestTensors;
import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static dev.univar.cpu.GradCheck.numeric;
import static dev.univar.cpu.GradCheck.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link SwiGlu} against {@link ScalarNomicOps} (both layouts, ragged widths), and its backward against finite differences. */
class SwiGluTest {

    private static final float SENTINEL = 12345.678f;
    private final Arena arena = Arena.ofShared();
    private final Random random = new Random(5);

    @AfterEach
    void close() {
        arena.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void kernelMatchesReference(int threads) {
        try (ThreadPool pool = new ThreadPool(threads)) {
            SwiGlu swiglu = new SwiGlu(pool);
            for (int rows : new int[]{1, 3, 17, 100}) {
                for (int width : new int[]{1, 7, 16, 33, 256, 1000}) {
                    int n = rows * width;
                    String what = "rows=%d width=%d".formatted(rows, width);
                    // Gates over the whole range SiLU meets, including the clamped tails of e^-g.
                    Tensor a = random(n, 3), g = random(n, 12), dY = random(n, 1);
                    g.set(0, -120f);
                    if (n > 1) g.set(1, 95f);
                    Tensor expected = withSentinel(n), actual = withSentinel(n);
                    ScalarNomicOps.swiglu(a, g, expected, rows, width);
                    swiglu.forward(a, g, actual, rows, width);
                    assertClose(expected, actual, 2e-6, what + " forward", n + 1);

                    Tensor dA = withSentinel(n), dG = withSentinel(n), eA = withSentinel(n), eG = withSentinel(n);
                    ScalarNomicOps.swigluBackward(a, g, dY, eA, eG, rows, width);
                    swiglu.backward(a, g, dY, dA, dG, rows, width);
                    assertClose(eA, dA, 2e-6, what + " dA", n + 1);
                    assertClose(eG, dG, 2e-6, what + " dG", n + 1);

                    // Fused: [rows, 2 * width], a then g.
                    Tensor ag = Tensor.allocate(arena, 2 * n);
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < width; c++) {
                            ag.set((long) r * 2 * width + c, a.get((long) r * width + c));
                            ag.set((long) r * 2 * width + width + c, g.get((long) r * width + c));
                        }
                    Tensor fusedRef = withSentinel(n), fused = withSentinel(n);
                    ScalarNomicOps.swiglu(ag, fusedRef, rows, width);
                    swiglu.forward(ag, fused, rows, width);
                    assertClose(expected, fusedRef, 0, what + " fused reference", n + 1);
                    assertClose(expected, fused, 2e-6, what + " fused", n + 1);
                    Tensor dAgRef = withSentinel(2 * n), dAg = withSentinel(2 * n);
                    ScalarNomicOps.swigluBackward(ag, dY, dAgRef, rows, width);
                    swiglu.backward(ag, dY, dAg, rows, width);
                    assertClose(dAgRef, dAg, 2e-6, what + " fused backward", 2 * n + 1);
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < width; c++) {
                            assertEquals(eA.get((long) r * width + c), dAgRef.get((long) r * 2 * width + c), 0f, what + " fused dA");
                            assertEquals(eG.get((long) r * width + c), dAgRef.get((long) r * 2 * width + width + c), 0f, what + " fused dG");
                        }

                    // In place: y over a, dA over dY.
                    Tensor aCopy = copy(a, n);
                    swiglu.forward(aCopy, g, aCopy, rows, width);
                    assertClose(expected, aCopy, 2e-6, what + " y aliasing a", n);
                    Tensor dYCopy = copy(dY, n), dG2 = withSentinel(n);
                    swiglu.backward(a, g, dYCopy, dYCopy, dG2, rows, width);
                    assertClose(eA, dYCopy, 2e-6, what + " dA aliasing dY", n);
                    assertClose(eG, dG2, 2e-6, what + " dG with dA aliasing dY", n);
                }
            }
        }
    }

    @Test
    void siluIsOnTheGateHalf() {
        // y = a * SiLU(g): with a = 2, g = 1 that is 2 * 1 * σ(1), not 1 * 2 * σ(2).
        Tensor ag = Tensor.of(arena, new float[]{2f, 1f}, 2), y = Tensor.allocate(arena, 1);
        try (ThreadPool pool = new ThreadPool(1)) {
            new SwiGlu(pool).forward(ag, y, 1, 1);
        }
        assertEquals(2 / (1 + Math.exp(-1)), y.get(0), 1e-6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void backwardMatchesFiniteDifferences(String name) {
        int rows = 3, width = 21, n = rows * width;
        float[] a = new float[n], g = new float[n], r = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * random.nextGaussian());
            g[i] = (float) (4 * random.nextGaussian());
            r[i] = (float) random.nextGaussian();
        }
        Tensor dA = Tensor.allocate(arena, n), dG = Tensor.allocate(arena, n);
        Tensor at = Tensor.of(arena, a, n), gt = Tensor.of(arena, g, n), rt = Tensor.of(arena, r, n);
        if (name.equals("scalar")) ScalarNomicOps.swigluBackward(at, gt, rt, dA, dG, rows, width);
        else try (ThreadPool pool = new ThreadPool(2)) {
            new SwiGlu(pool).backward(at, gt, rt, dA, dG, rows, width);
        }
        double[] ad = toDouble(a), gd = toDouble(g), rd = toDouble(r);
        GradCheck.assertClose(numeric(ad, x -> loss(rd, x, gd), 1e-4), toDouble(dA, n), 1e-4, name + " dA");
        GradCheck.assertClose(numeric(gd, x -> loss(rd, ad, x), 1e-4), toDouble(dG, n), 1e-4, name + " dG");
    }

    /** {@code sum R ∘ a ∘ g σ(g)} in double from the definition. */
    private static double loss(double[] r, double[] a, double[] g) {
        double s = 0;
        for (int i = 0; i < r.length; i++) s += r[i] * a[i] * g[i] / (1 + Math.exp(-g[i]));
        return s;
    }

    @Test
    void rejectsAliasingAndShortTensors() {
        Tensor ag = Tensor.allocate(arena, 8), y = Tensor.allocate(arena, 4);
        try (ThreadPool pool = new ThreadPool(1)) {
            SwiGlu swiglu = new SwiGlu(pool);
            assertThrows(IllegalArgumentException.class, () -> swiglu.forward(ag, ag, 2, 2));
            assertThrows(IllegalArgumentException.class, () -> swiglu.forward(ag, y, 3, 2));
            assertThrows(IllegalArgumentException.class, () -> swiglu.backward(ag, y, ag, 2, 2));
        }
    }

    private Tensor random(int n, float scale) {
        return TestTensors.uniform(Tensor.allocate(arena, n), n, scale, random);
    }

    private Tensor withSentinel(int n) {
        Tensor t = Tensor.allocate(arena, n + 1);
        t.set(n, SENTINEL);
        return t;
    }

    private Tensor copy(Tensor source, int n) {
        Tensor t = Tensor.allocate(arena, n);
        for (int i = 0; i < n; i++) t.set(i, source.get(i));
        return t;
    }

    /** {@code |a - e| <= tolerance * (1 + |e|)} for the first {@code n} elements, NaN never. */
    private static void assertClose(Tensor expected, Tensor actual, double tolerance, String what, long n) {
        for (long i = 0; i < n; i++) {
            float e = expected.get(i), a = actual.get(i);
            if (!(Math.abs(a - e) <= tolerance * (1 + Math.abs(e))))
                fail(what + ": element " + i + " expected " + e + " but was " + a);
        }
    }
}
