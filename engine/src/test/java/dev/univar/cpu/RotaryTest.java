package dev.univar.cpu;

import dev.univar.NomicTinyFiles;
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

/**
 * {@link RotaryTable} against the official code's float32 tables, {@link Rotary} against {@link ScalarNomicOps} on
 * ragged shapes (fused and plain, partial rotary fractions), and the backward (rotation by −θ) against finite
 * differences.
 */
class RotaryTest {

    private final Arena arena = Arena.ofShared();
    private final Random random = new Random(11);

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void tablesMatchTheOfficialFloat32Tables() {
        NomicTinyFiles.Array cos = NomicTinyFiles.readNpy(NomicTinyFiles.golden("rotary_cos.npy"));
        NomicTinyFiles.Array sin = NomicTinyFiles.readNpy(NomicTinyFiles.golden("rotary_sin.npy"));
        int positions = cos.rows(), half = cos.cols();
        assertEquals(16, half);
        // nomic-bert-tiny: head dim 32, rotary_emb_fraction 1.0, rotary_emb_base 1000.
        RotaryTable table = RotaryTable.create(arena, RotaryTable.rotaryDim(32, 1.0), 1000, positions);
        double maxCos = 0, maxSin = 0;
        int differing = 0;
        for (int i = 0; i < positions * half; i++) {
            maxCos = Math.max(maxCos, Math.abs(table.cos().get(i) - cos.data()[i]));
            maxSin = Math.max(maxSin, Math.abs(table.sin().get(i) - sin.data()[i]));
            if (table.cos().get(i) != cos.data()[i] || table.sin().get(i) != sin.data()[i]) differing++;
        }
        System.out.printf("rotary tables vs golden: max |cos diff| %.3g, max |sin diff| %.3g, %d of %d entries differ%n",
                maxCos, maxSin, differing, 2 * positions * half);
        // float32 cos/sin of the same float θ: at most an ulp of a value <= 1 apart (torch's vectorised cos/sin are
        // not always correctly rounded). A table from a double θ differs by up to 1e-5 at these positions.
        assertEquals(0, maxCos, 1.2e-7, "cos");
        assertEquals(0, maxSin, 1.2e-7, "sin");
    }

    @Test
    void tablesInFloat32DifferFromDoubleAtLargePositions() {
        // The float32 θ rounding the official code does is visible: it is what the golden tables contain.
        RotaryTable table = RotaryTable.create(arena, 32, 1000, 700);
        double max = 0;
        for (int p = 0; p < 700; p++)
            for (int j = 0; j < 16; j++)
                max = Math.max(max, Math.abs(table.cos().get(p * 16L + j) - Math.cos(p * Math.pow(1000, -j / 16.0))));
        assertEquals(true, max > 1e-6, "float32 θ changes cos by more than float noise: " + max);
    }

    @Test
    void rotaryDimFromFraction() {
        assertEquals(64, RotaryTable.rotaryDim(64, 1.0));
        assertEquals(32, RotaryTable.rotaryDim(64, 0.5));
        assertEquals(0, RotaryTable.rotaryDim(64, 0));
        assertThrows(IllegalArgumentException.class, () -> RotaryTable.rotaryDim(20, 0.25)); // 5: odd
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void kernelMatchesReference(int threads) {
        try (ThreadPool pool = new ThreadPool(threads)) {
            Rotary rotary = new Rotary(pool);
            // {heads, headDim, rotaryDim}: whole vectors, ragged halves, partial fractions, and large enough to split.
            int[][] shapes = {{1, 8, 8}, {2, 32, 32}, {3, 20, 10}, {12, 64, 64}, {2, 64, 32}, {1, 6, 2}, {4, 34, 34},
                    {2, 64, 0}};
            for (int seq : new int[]{1, 7, 33, 130}) {
                for (int[] sh : shapes) {
                    int heads = sh[0], headDim = sh[1], rotaryDim = sh[2], batch = 3, rows = batch * seq;
                    RotaryTable table = RotaryTable.create(arena, rotaryDim, 10000, seq + 5);
                    for (boolean fused : new boolean[]{false, true}) {
                        for (boolean inverse : new boolean[]{false, true}) {
                            int width = (fused ? 3 : 1) * heads * headDim;
                            Tensor x = TestTensors.uniform(Tensor.allocate(arena, rows * width + 1), rows * width, 2, random);
                            x.set((long) rows * width, 12345f); // must survive
                            Tensor expected = copy(x), actual = copy(x);
                            if (fused) {
                                ScalarNomicOps.rotateQkv(expected, table.cos(), table.sin(), batch, seq, heads, headDim, rotaryDim, inverse);
                                rotary.rotateQkv(actual, table.cos(), table.sin(), batch, seq, heads, headDim, rotaryDim, inverse);
                            } else {
                                ScalarNomicOps.rotate(expected, table.cos(), table.sin(), batch, seq, heads, headDim, rotaryDim, inverse);
                                rotary.rotate(actual, table.cos(), table.sin(), batch, seq, heads, headDim, rotaryDim, inverse);
                            }
                            String what = "seq=%d heads=%d headDim=%d rotary=%d fused=%s inverse=%s"
                                    .formatted(seq, heads, headDim, rotaryDim, fused, inverse);
                            for (long i = 0; i <= (long) rows * width; i++)
                                if (Math.abs(expected.get(i) - actual.get(i)) > 1e-6 * (1 + Math.abs(expected.get(i))))
                                    fail(what + ": element " + i + " expected " + expected.get(i) + " but was " + actual.get(i));
                            if (fused) { // v untouched
                                int w = heads * headDim;
                                for (int r = 0; r < rows; r++)
                                    for (int c = 2 * w; c < 3 * w; c++)
                                        assertEquals(x.get((long) r * width + c), actual.get((long) r * width + c), 0f, what + " v");
                            }
                            for (int r = 0; r < rows && rotaryDim < headDim; r++) // columns past the rotary dim untouched
                                for (int c = rotaryDim; c < headDim; c++)
                                    assertEquals(x.get((long) r * width + c), actual.get((long) r * width + c), 0f, what + " pass-through");
                        }
                    }
                }
            }
        }
    }

    @Test
    void semanticsAtOnePosition() {
        // Non-interleaved: column j pairs with j + half; position = row mod seq (0 for row seq).
        int headDim = 4, seq = 3;
        RotaryTable table = RotaryTable.create(arena, 4, 10000, seq);
        float[] v = new float[2 * seq * headDim];
        for (int i = 0; i < v.length; i++) v[i] = i + 1;
        Tensor x = Tensor.of(arena, v, v.length);
        try (ThreadPool pool = new ThreadPool(1)) {
            new Rotary(pool).rotate(x, table.cos(), table.sin(), 2, seq, 1, headDim, 4, false);
        }
        for (int b = 0; b < 2; b++)
            for (int p = 0; p < seq; p++) {
                int base = (b * seq + p) * headDim;
                for (int j = 0; j < 2; j++) {
                    double theta = (float) p * RotaryTable.invFreq(j, 4, 10000);
                    double a = v[base + j], c = v[base + j + 2];
                    assertEquals(a * Math.cos(theta) - c * Math.sin(theta), x.get(base + j), 1e-5);
                    assertEquals(c * Math.cos(theta) + a * Math.sin(theta), x.get(base + j + 2), 1e-5);
                }
            }
    }

    @Test
    void inverseUndoesForward() {
        int batch = 2, seq = 50, heads = 3, headDim = 24, n = batch * seq * 3 * heads * headDim;
        RotaryTable table = RotaryTable.create(arena, 24, 1000, seq);
        Tensor x = TestTensors.uniform(Tensor.allocate(arena, n), n, 1, random), y = copy(x);
        try (ThreadPool pool = new ThreadPool(2)) {
            Rotary rotary = new Rotary(pool);
            rotary.rotateQkv(y, table.cos(), table.sin(), batch, seq, heads, headDim, 24, false);
            rotary.rotateQkv(y, table.cos(), table.sin(), batch, seq, heads, headDim, 24, true);
        }
        for (int i = 0; i < n; i++) assertEquals(x.get(i), y.get(i), 1e-6, "element " + i);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "cpu"})
    void backwardMatchesFiniteDifferences(String name) {
        int batch = 2, seq = 5, heads = 2, headDim = 10, rotaryDim = 6, width = heads * headDim, n = batch * seq * width;
        RotaryTable table = RotaryTable.create(arena, rotaryDim, 100, seq);
        float[] x = new float[n], r = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
            r[i] = (float) random.nextGaussian();
        }
        // loss = sum(R ∘ rotate(x)); its gradient is R rotated back.
        Tensor grad = Tensor.of(arena, r, n);
        if (name.equals("scalar")) ScalarNomicOps.rotate(grad, table.cos(), table.sin(), batch, seq, heads, headDim, rotaryDim, true);
        else try (ThreadPool pool = new ThreadPool(2)) {
            new Rotary(pool).rotate(grad, table.cos(), table.sin(), batch, seq, heads, headDim, rotaryDim, true);
        }
        double[] rd = toDouble(r);
        double[] expected = numeric(toDouble(x), xx -> {
            double[] y = rotateRef(xx, table, batch, seq, heads, headDim, rotaryDim);
            double s = 0;
            for (int i = 0; i < n; i++) s += rd[i] * y[i];
            return s;
        }, 1e-3);
        GradCheck.assertClose(expected, toDouble(grad, n), 1e-5, name + " rotary backward");
    }

    /** Rotary in double from the definition (non-interleaved halves, position = row mod seq). */
    static double[] rotateRef(double[] x, RotaryTable t, int batch, int seq, int heads, int headDim, int rotaryDim) {
        double[] y = x.clone();
        int half = rotaryDim / 2, width = heads * headDim;
        for (int row = 0; row < batch * seq; row++)
            for (int h = 0; h < heads; h++)
                for (int j = 0; j < half; j++) {
                    int p = row % seq, base = row * width + h * headDim;
                    double c = t.cos().get((long) p * half + j), s = t.sin().get((long) p * half + j);
                    y[base + j] = x[base + j] * c - x[base + j + half] * s;
                    y[base + j + half] = x[base + j + half] * c + x[base + j] * s;
                }
        return y;
    }

    @Test
    void rejectsBadShapes() {
        RotaryTable table = RotaryTable.create(arena, 8, 10000, 4);
        Tensor x = Tensor.allocate(arena, 2 * 4 * 8);
        try (ThreadPool pool = new ThreadPool(1)) {
            Rotary rotary = new Rotary(pool);
            assertThrows(IllegalArgumentException.class, () -> rotary.rotate(x, table.cos(), table.sin(), 2, 5, 1, 8, 8, false)); // x too small
            assertThrows(IllegalArgumentException.class, () -> rotary.rotate(x, table.cos(), table.sin(), 1, 8, 1, 8, 8, false)); // table too short
            assertThrows(IllegalArgumentException.class, () -> rotary.rotate(x, table.cos(), table.sin(), 2, 4, 1, 8, 10, false)); // rotary > head
        }
    }

    private Tensor copy(Tensor t) {
        Tensor c = Tensor.allocate(arena, (int) t.size());
        c.copyFrom(t.toArray());
        return c;
    }
}
