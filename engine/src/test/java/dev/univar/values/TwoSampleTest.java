package dev.univar.values;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TwoSampleTest {
    static float[][] gaussian(Random r, int n, int dim, double shift) {
        float[][] x = new float[n][dim];
        for (float[] p : x) for (int d = 0; d < dim; d++) p[d] = (float) (r.nextGaussian() + (d == 0 ? shift : 0));
        return x;
    }

    @Test
    void shiftedSamplesAreSignificantEqualOnesAreNot() {
        Random r = new Random(7);
        TwoSample.Result shifted = TwoSample.test(gaussian(r, 60, 5, 1.5), gaussian(r, 60, 5, 0), 200, 1);
        assertTrue(shifted.mmdP() < 0.01, "shift: " + shifted);
        assertTrue(shifted.energyP() < 0.01, "shift: " + shifted);
        assertTrue(shifted.mmd2() > 0 && shifted.energy() > 0);
        // Under the null, p-values are roughly uniform: few of 20 tests fall below 0.05, most are not tiny.
        int small = 0;
        double meanP = 0;
        for (int t = 0; t < 20; t++) {
            TwoSample.Result same = TwoSample.test(gaussian(r, 40, 5, 0), gaussian(r, 40, 5, 0), 100, t);
            if (same.mmdP() < 0.05) small++;
            meanP += same.mmdP() / 20;
            assertTrue(Math.abs(same.mmd2()) < shifted.mmd2());
        }
        assertTrue(small <= 4, small + " of 20 null tests below 0.05");
        assertTrue(meanP > 0.3 && meanP < 0.7, "mean null p " + meanP);
    }

    @Test
    void energyDistanceOfPointMassesIsTwiceTheGap() {
        float[][] a = {{0f}, {0f}}, b = {{3f}, {3f}};
        TwoSample.Result res = TwoSample.test(a, b, 10, 0);
        assertEquals(6.0, res.energy(), 1e-9); // 2·3 - 0 - 0
    }

    @Test
    void averageLinkageGroupsNearKeys() {
        // Keys 0 and 2 are close, 1 and 3 are close, the groups far apart.
        double[][] d = {{0, 9, 1, 8}, {9, 0, 9, 2}, {1, 9, 0, 9}, {8, 2, 9, 0}};
        AverageLinkage.Result r = AverageLinkage.cluster(d);
        assertEquals(List.of(0, 2, 1, 3), r.order());
        assertEquals(1.0, r.merges().get(0).distance());
        assertEquals(2.0, r.merges().get(1).distance());
        assertEquals((9 + 8 + 9 + 9) / 4.0, r.merges().get(2).distance());
    }
}
