package dev.univar.values;

import java.util.stream.IntStream;

/**
 * How well a low-dimensional layout keeps local neighbourhoods, as scikit-learn's {@code trustworthiness}: each
 * point's {@code k} nearest neighbours in the layout that are not among its {@code k} nearest in the input are
 * penalised by how far down the input ranking they are. 1 is perfect; random layouts score about 0.5.
 */
public final class Trustworthiness {
    private Trustworthiness() {
    }

    public static double of(float[][] input, double[][] layout, int k) {
        int n = input.length;
        if (k >= n / 2.0) throw new IllegalArgumentException("trustworthiness needs k < n/2, got k=" + k + ", n=" + n);
        Neighbours.Graph embedded = Neighbours.of(Neighbours.toFloat(layout), k);
        double[] norms = Neighbours.sqNorms(input);
        long penalty = IntStream.range(0, n).parallel().mapToLong(i -> {
            double[] row = new double[n];
            Neighbours.distancesFrom(input, norms, i, row);
            long sum = 0;
            for (int j : embedded.index()[i]) {
                // Rank of j among i's input neighbours (1 = nearest), ties in index order as a stable argsort.
                int rank = 1;
                for (int m = 0; m < n; m++) {
                    if (m == i || m == j) continue;
                    if (row[m] < row[j] || (row[m] == row[j] && m < j)) rank++;
                }
                if (rank > k) sum += rank - k;
            }
            return sum;
        }).sum();
        return 1 - penalty * (2.0 / (n * (double) k * (2.0 * n - 3.0 * k - 1.0)));
    }
}
