package dev.univar.io;

import dev.univar.model.BertConfig;
import dev.univar.model.BertWeights;
import dev.univar.model.Linear;
import dev.univar.tensor.Tensor;

/**
 * A deliberately naive BERT encoder (double precision, no batching, all-ones mask), used only to check that
 * imported weights mean what their names say. Dense weights are [out, in].
 */
final class ReferenceBert {
    private ReferenceBert() {
    }

    static float[][] forward(BertConfig c, BertWeights w, long[] ids) {
        int n = ids.length, hidden = c.hiddenSize();
        double eps = c.layerNormEps();
        double[][] x = new double[n][hidden];
        for (int s = 0; s < n; s++)
            for (int h = 0; h < hidden; h++)
                x[s][h] = w.embeddings().word().get(ids[s] * hidden + h)
                        + w.embeddings().position().get((long) s * hidden + h)
                        + w.embeddings().tokenType().get(h);
        x = layerNorm(x, w.embeddings().norm().weight(), w.embeddings().norm().bias(), eps);
        for (BertWeights.Layer l : w.layers()) {
            double[][] q = linear(x, l.qkv().part(0)), k = linear(x, l.qkv().part(1)), v = linear(x, l.qkv().part(2));
            double[][] ctx = new double[n][hidden];
            int heads = c.numAttentionHeads(), d = c.headDim();
            for (int head = 0; head < heads; head++) {
                for (int s = 0; s < n; s++) {
                    double[] p = new double[n];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int t = 0; t < n; t++) {
                        for (int j = 0; j < d; j++) p[t] += q[s][head * d + j] * k[t][head * d + j];
                        p[t] /= Math.sqrt(d);
                        max = Math.max(max, p[t]);
                    }
                    for (int t = 0; t < n; t++) sum += p[t] = Math.exp(p[t] - max);
                    for (int t = 0; t < n; t++)
                        for (int j = 0; j < d; j++) ctx[s][head * d + j] += p[t] / sum * v[t][head * d + j];
                }
            }
            double[][] x1 = layerNorm(add(linear(ctx, l.attnOut()), x), l.attnNorm().weight(), l.attnNorm().bias(), eps);
            double[][] f = linear(x1, l.ffnIn());
            for (double[] row : f)
                for (int j = 0; j < row.length; j++) row[j] = 0.5 * row[j] * (1 + erf(row[j] / Math.sqrt(2)));
            x = layerNorm(add(linear(f, l.ffnOut()), x1), l.outNorm().weight(), l.outNorm().bias(), eps);
        }
        float[][] out = new float[n][hidden];
        for (int s = 0; s < n; s++) for (int h = 0; h < hidden; h++) out[s][h] = (float) x[s][h];
        return out;
    }

    private static double[][] linear(double[][] x, Linear l) {
        Tensor w = l.weight(), b = l.bias();
        int out = w.dim(0), in = w.dim(1);
        double[][] y = new double[x.length][out];
        for (int s = 0; s < x.length; s++)
            for (int o = 0; o < out; o++) {
                double acc = b.get(o);
                for (int i = 0; i < in; i++) acc += x[s][i] * w.get((long) o * in + i);
                y[s][o] = acc;
            }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        for (int s = 0; s < a.length; s++) for (int h = 0; h < a[s].length; h++) a[s][h] += b[s][h];
        return a;
    }

    private static double[][] layerNorm(double[][] x, Tensor gamma, Tensor beta, double eps) {
        double[][] y = new double[x.length][];
        for (int s = 0; s < x.length; s++) {
            double mean = 0, var = 0;
            for (double v : x[s]) mean += v;
            mean /= x[s].length;
            for (double v : x[s]) var += (v - mean) * (v - mean);
            var /= x[s].length;
            y[s] = new double[x[s].length];
            for (int h = 0; h < x[s].length; h++)
                y[s][h] = (x[s][h] - mean) / Math.sqrt(var + eps) * gamma.get(h) + beta.get(h);
        }
        return y;
    }

    /** erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7), ample for a 1e-3 comparison. */
    private static double erf(double z) {
        double t = 1 / (1 + 0.3275911 * Math.abs(z));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1 - poly * Math.exp(-z * z);
        return z >= 0 ? r : -r;
    }
}
