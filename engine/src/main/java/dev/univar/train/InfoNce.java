package dev.univar.train;

import dev.univar.tensor.Tensor;

/**
 * Symmetric InfoNCE (the CLIP loss) over B positive pairs {@code (a_i, b_i)} of L2-normalised embeddings:
 * {@code logits = a · bᵀ / temperature}, loss {@code = (CE(logits, diag) + CE(logitsᵀ, diag)) / 2}, every other
 * row of the batch serving as a negative. Computed in double: the B × B logits are tiny next to the encoder.
 */
public final class InfoNce {

    /** 0.02, a logit scale of 50. */
    public static final double DEFAULT_TEMPERATURE = 0.02;

    private InfoNce() {
    }

    /**
     * The loss over {@code pairs} rows of {@code a} and {@code b} ({@code [pairs, dim]} each), writing its gradient
     * with respect to them into {@code dA} and {@code dB} (overwritten; either may be null to skip it).
     */
    public static double lossAndGradients(Tensor a, Tensor b, int pairs, int dim, double temperature, Tensor dA, Tensor dB) {
        float[] av = a.rows(0, pairs).reshape(pairs * dim).toArray(), bv = b.rows(0, pairs).reshape(pairs * dim).toArray();
        float[] ga = new float[pairs * dim], gb = new float[pairs * dim];
        double loss = compute(av, bv, pairs, dim, temperature, ga, gb);
        if (dA != null) dA.copyFrom(ga);
        if (dB != null) dB.copyFrom(gb);
        return loss;
    }

    /** The same over arrays: {@code a[i]} and {@code b[i]} are a positive pair; gradients go to {@code dA}, {@code dB}. */
    public static double lossAndGradients(float[][] a, float[][] b, double temperature, float[][] dA, float[][] dB) {
        int pairs = a.length;
        if (b.length != pairs) throw new IllegalArgumentException(pairs + " anchors but " + b.length + " positives");
        int dim = pairs == 0 ? 0 : a[0].length;
        float[] av = new float[pairs * dim], bv = new float[pairs * dim];
        for (int i = 0; i < pairs; i++) {
            if (a[i].length != dim || b[i].length != dim) throw new IllegalArgumentException("rows of different lengths");
            System.arraycopy(a[i], 0, av, i * dim, dim);
            System.arraycopy(b[i], 0, bv, i * dim, dim);
        }
        float[] ga = new float[pairs * dim], gb = new float[pairs * dim];
        double loss = compute(av, bv, pairs, dim, temperature, ga, gb);
        for (int i = 0; i < pairs; i++) {
            if (dA != null) System.arraycopy(ga, i * dim, dA[i], 0, dim);
            if (dB != null) System.arraycopy(gb, i * dim, dB[i], 0, dim);
        }
        return loss;
    }

    private static double compute(float[] a, float[] b, int n, int dim, double temperature, float[] dA, float[] dB) {
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (n == 0) return 0;
        double[][] logits = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int d = 0; d < dim; d++) s += (double) a[i * dim + d] * b[j * dim + d];
                logits[i][j] = s / temperature;
            }
        // dL/dlogits[i][j] = (rowSoftmax[i][j] - δij + colSoftmax[i][j] - δij) / (2n).
        double[][] g = new double[n][n];
        double loss = 0;
        for (int i = 0; i < n; i++) { // rows: a_i against every b_j
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, logits[i][j]);
            double sum = 0;
            for (int j = 0; j < n; j++) sum += Math.exp(logits[i][j] - max);
            loss += max + Math.log(sum) - logits[i][i];
            for (int j = 0; j < n; j++) g[i][j] += (Math.exp(logits[i][j] - max) / sum - (i == j ? 1 : 0)) / (2.0 * n);
        }
        for (int j = 0; j < n; j++) { // columns: b_j against every a_i
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) max = Math.max(max, logits[i][j]);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += Math.exp(logits[i][j] - max);
            loss += max + Math.log(sum) - logits[j][j];
            for (int i = 0; i < n; i++) g[i][j] += (Math.exp(logits[i][j] - max) / sum - (i == j ? 1 : 0)) / (2.0 * n);
        }
        // logits = a bᵀ / T: dA = g b / T, dB = gᵀ a / T.
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dim; d++) {
                double sa = 0, sb = 0;
                for (int j = 0; j < n; j++) {
                    sa += g[i][j] * b[j * dim + d];
                    sb += g[j][i] * a[j * dim + d];
                }
                dA[i * dim + d] = (float) (sa / temperature);
                dB[i * dim + d] = (float) (sb / temperature);
            }
        return loss / (2.0 * n);
    }
}
