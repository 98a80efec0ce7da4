package dev.univar.cpu;

import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;

/**
 * The reference implementation of {@link TrainingBackend}: plain loops over the tensors, one thread, every sum
 * in double. Meant to be obviously correct, not fast; the vectorised backend is tested against it and it is
 * tested against finite differences.
 */
public class ScalarTrainingBackend extends ScalarBackend implements TrainingBackend {

    @Override
    public String name() {
        return "scalar-train";
    }

    @Override
    public void matmulBackward(Tensor dOut, Tensor x, Tensor w, Tensor dX, Tensor dW, Tensor dBias, int m, int n, int k) {
        TrainingChecks.matmulBackward(dOut, x, w, dX, dW, dBias, m, n, k);
        if (dX != null) {
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += (double) dOut.get((long) i * n + j) * w.get((long) j * k + p);
                    dX.set((long) i * k + p, (float) s);
                }
        }
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++) {
                double s = dW.get((long) j * k + p);
                for (int i = 0; i < m; i++) s += (double) dOut.get((long) i * n + j) * x.get((long) i * k + p);
                dW.set((long) j * k + p, (float) s);
            }
        if (dBias != null) {
            for (int j = 0; j < n; j++) {
                double s = dBias.get(j);
                for (int i = 0; i < m; i++) s += dOut.get((long) i * n + j);
                dBias.set(j, (float) s);
            }
        }
    }

    @Override
    public void layerNormTrain(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                               Tensor xhat, Tensor rstd, int rows, int dim) {
        TrainingChecks.layerNormTrain(x, residual, out, xhat, rstd, rows, dim);
        // The output comes from the forward kernel itself, so a training forward equals an inference forward.
        layerNorm(x, residual, gamma, beta, eps, out, rows, dim);
        double[] y = new double[dim];
        for (int r = 0; r < rows; r++) {
            long base = (long) r * dim;
            rstd.set(r, (float) normalizeRow(x, residual, base, dim, eps, y));
            for (int i = 0; i < dim; i++) xhat.set(base + i, (float) y[i]);
        }
    }

    @Override
    public void layerNormBackward(Tensor dOut, Tensor xhat, Tensor rstd, Tensor gamma, Tensor dY, Tensor dGamma,
                                  Tensor dBeta, int rows, int dim) {
        TrainingChecks.layerNormBackward(dOut, xhat, rstd, gamma, dY, dGamma, dBeta, rows, dim);
        double[] sg = new double[dim], sb = new double[dim], g = new double[dim];
        for (int r = 0; r < rows; r++) {
            long base = (long) r * dim;
            // With g = dOut * gamma: dY = rstd * (g - mean(g) - xhat * mean(g * xhat)).
            double meanG = 0, meanGX = 0;
            for (int i = 0; i < dim; i++) {
                double d = dOut.get(base + i), xh = xhat.get(base + i);
                sg[i] += d * xh;
                sb[i] += d;
                g[i] = d * gamma.get(i);
                meanG += g[i];
                meanGX += g[i] * xh;
            }
            meanG /= dim;
            meanGX /= dim;
            double inv = rstd.get(r);
            for (int i = 0; i < dim; i++) dY.set(base + i, (float) (inv * (g[i] - meanG - xhat.get(base + i) * meanGX)));
        }
        for (int i = 0; i < dim; i++) {
            dGamma.set(i, (float) (dGamma.get(i) + sg[i]));
            dBeta.set(i, (float) (dBeta.get(i) + sb[i]));
        }
    }

    @Override
    public void geluBackward(Tensor x, Tensor dOut, Tensor dX, long n) {
        TrainingChecks.geluBackward(x, dOut, dX, n);
        for (long i = 0; i < n; i++) dX.set(i, (float) (dOut.get(i) * geluDerivative(x.get(i))));
    }

    /** {@code d/dx [x Φ(x)] = Φ(x) + x φ(x)}. */
    public static double geluDerivative(double x) {
        double cdf = 0.5 * Erf.erfc(-x / Math.sqrt(2));
        double pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
        return cdf + x * pdf;
    }

    @Override
    public void attentionForwardTrain(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor probs,
                                      int batch, int seq, int heads, int headDim) {
        TrainingChecks.attentionForwardTrain(q, k, v, mask, out, probs, batch, seq, heads, headDim);
        int width = heads * headDim;
        double scale = 1 / Math.sqrt(headDim);
        double[] p = new double[seq];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    long qBase = ((long) b * seq + i) * width + (long) h * headDim;
                    for (int j = 0; j < seq; j++) {
                        long kBase = ((long) b * seq + j) * width + (long) h * headDim;
                        double s = 0;
                        for (int d = 0; d < headDim; d++) s += (double) q.get(qBase + d) * k.get(kBase + d);
                        p[j] = s * scale;
                    }
                    softmaxInPlace(p, mask, (long) b * seq, seq);
                    long pBase = (((long) b * heads + h) * seq + i) * seq;
                    for (int j = 0; j < seq; j++) probs.set(pBase + j, (float) p[j]);
                    for (int d = 0; d < headDim; d++) {
                        double s = 0;
                        for (int j = 0; j < seq; j++) s += p[j] * v.get(((long) b * seq + j) * width + (long) h * headDim + d);
                        out.set(qBase + d, (float) s);
                    }
                }
            }
        }
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor probs, Tensor dOut, Tensor dQ,
                                  Tensor dK, Tensor dV, int batch, int seq, int heads, int headDim) {
        TrainingChecks.attentionBackward(q, k, v, mask, probs, dOut, dQ, dK, dV, batch, seq, heads, headDim);
        int width = heads * headDim;
        double scale = 1 / Math.sqrt(headDim);
        double[] dp = new double[seq];
        double[][] dk = new double[seq][headDim], dv = new double[seq][headDim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (double[] row : dk) java.util.Arrays.fill(row, 0);
                for (double[] row : dv) java.util.Arrays.fill(row, 0);
                long col = (long) h * headDim;
                for (int i = 0; i < seq; i++) {
                    long pBase = (((long) b * heads + h) * seq + i) * seq;
                    long oBase = ((long) b * seq + i) * width + col;
                    // dP[j] = dOut_i · v_j, and dV_j += P[i,j] dOut_i.
                    double dot = 0;
                    for (int j = 0; j < seq; j++) {
                        long vBase = ((long) b * seq + j) * width + col;
                        double pij = probs.get(pBase + j), s = 0;
                        for (int d = 0; d < headDim; d++) {
                            s += (double) dOut.get(oBase + d) * v.get(vBase + d);
                            dv[j][d] += pij * dOut.get(oBase + d);
                        }
                        dp[j] = s;
                        dot += pij * s;
                    }
                    // Softmax backward: dS[j] = P[j] (dP[j] - sum P dP), times the score scale.
                    double[] dq = new double[headDim];
                    for (int j = 0; j < seq; j++) {
                        double ds = probs.get(pBase + j) * (dp[j] - dot) * scale;
                        if (ds == 0) continue;
                        long kBase = ((long) b * seq + j) * width + col;
                        for (int d = 0; d < headDim; d++) {
                            dq[d] += ds * k.get(kBase + d);
                            dk[j][d] += ds * q.get(oBase + d);
                        }
                    }
                    for (int d = 0; d < headDim; d++) dQ.set(oBase + d, (float) dq[d]);
                }
                for (int j = 0; j < seq; j++) {
                    long base = ((long) b * seq + j) * width + col;
                    for (int d = 0; d < headDim; d++) {
                        dK.set(base + d, (float) dk[j][d]);
                        dV.set(base + d, (float) dv[j][d]);
                    }
                }
            }
        }
    }

    @Override
    public void embeddingsBackward(int[] ids, int[] typeIds, Tensor dOut, Tensor dWord, Tensor dPosition,
                                   Tensor dTokenType, int batch, int seq, int hidden) {
        TrainingChecks.embeddingsBackward(ids, typeIds, dOut, dWord, dPosition, dTokenType, batch, seq, hidden);
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++) {
                int tok = b * seq + t;
                int type = typeIds == null ? 0 : typeIds[tok];
                for (int i = 0; i < hidden; i++) {
                    float g = dOut.get((long) tok * hidden + i);
                    addAt(dWord, (long) ids[tok] * hidden + i, g);
                    if (dPosition != null) addAt(dPosition, (long) t * hidden + i, g);
                    addAt(dTokenType, (long) type * hidden + i, g);
                }
            }
    }

    private static void addAt(Tensor t, long i, float g) {
        t.set(i, t.get(i) + g);
    }

    @Override
    public void meanPoolBackward(Tensor dOut, Tensor mask, Tensor dX, int batch, int seq, int dim) {
        TrainingChecks.meanPoolBackward(dOut, mask, dX, batch, seq, dim);
        for (int b = 0; b < batch; b++) {
            double count = 0;
            for (int t = 0; t < seq; t++) count += mask.get((long) b * seq + t);
            double denominator = Math.max(count, 1e-9);
            for (int t = 0; t < seq; t++) {
                double w = mask.get((long) b * seq + t) / denominator;
                for (int i = 0; i < dim; i++)
                    dX.set(((long) b * seq + t) * dim + i, (float) (w * dOut.get((long) b * dim + i)));
            }
        }
    }

    @Override
    public void l2NormalizeBackward(Tensor x, Tensor dOut, Tensor dX, int rows, int dim) {
        TrainingChecks.l2NormalizeBackward(x, dOut, dX, rows, dim);
        for (int r = 0; r < rows; r++) {
            long base = (long) r * dim;
            double s = 0;
            for (int i = 0; i < dim; i++) s += (double) x.get(base + i) * x.get(base + i);
            double norm = Math.sqrt(s);
            if (norm <= 1e-12) { // clamped: y = x / 1e-12 is linear in x
                for (int i = 0; i < dim; i++) dX.set(base + i, (float) (dOut.get(base + i) / 1e-12));
                continue;
            }
            double dot = 0;
            for (int i = 0; i < dim; i++) dot += x.get(base + i) / norm * dOut.get(base + i);
            for (int i = 0; i < dim; i++)
                dX.set(base + i, (float) ((dOut.get(base + i) - x.get(base + i) / norm * dot) / norm));
        }
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, long n, double lr, double beta1, double beta2,
                          double eps, double weightDecay, long step) {
        TrainingChecks.adamwStep(param, grad, m, v, n, step);
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        double stepSize = lr / bc1, sqrtBc2 = Math.sqrt(bc2);
        for (long i = 0; i < n; i++) {
            double p = param.get(i) * (1 - lr * weightDecay);
            double g = grad.get(i);
            double mi = beta1 * m.get(i) + (1 - beta1) * g;
            double vi = beta2 * v.get(i) + (1 - beta2) * g * g;
            m.set(i, (float) mi);
            v.set(i, (float) vi);
            param.set(i, (float) (p - stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + eps)));
        }
    }

    @Override
    public double sumOfSquares(Tensor t, long n) {
        TrainingChecks.elements(t, n);
        double s = 0;
        for (long i = 0; i < n; i++) s += (double) t.get(i) * t.get(i);
        return s;
    }

    @Override
    public void scale(Tensor t, float factor, long n) {
        TrainingChecks.elements(t, n);
        for (long i = 0; i < n; i++) t.set(i, t.get(i) * factor);
    }

    @Override
    public void zero(Tensor t, long n) {
        TrainingChecks.elements(t, n);
        t.data().asSlice(0, n * Float.BYTES).fill((byte) 0);
    }
}
