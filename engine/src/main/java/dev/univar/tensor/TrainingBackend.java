package dev.univar.tensor;

/**
 * A {@link Backend} that can also train: the backward pass of each forward operation the encoder uses, the
 * forward variants that save what a backward needs, and the element-wise operations of an optimizer.
 *
 * <p>Conventions: a gradient with respect to an <em>activation</em> ({@code dX}, {@code dQ}, ...) is overwritten;
 * a gradient with respect to a <em>parameter</em> ({@code dW}, {@code dBias}, {@code dGamma}, {@code dWord}, ...)
 * is accumulated into, so the gradients of several micro-batches add up until {@link #zero} clears them.
 * Unless a method says otherwise, outputs may not alias inputs.
 */
public interface TrainingBackend extends Backend {

    /**
     * Backward of {@code out[m,n] = x[m,k] · w[n,k]ᵀ + bias[n]} ({@link #matmul} with {@code transB}, a PyTorch
     * {@code Linear}): {@code dX[m,k] = dOut · w} (skipped when {@code dX} is null),
     * {@code dW[n,k] += dOutᵀ · x}, {@code dBias[n] += sum_rows dOut} (skipped when {@code dBias} is null).
     */
    void matmulBackward(Tensor dOut, Tensor x, Tensor w, Tensor dX, Tensor dW, Tensor dBias, int m, int n, int k);

    /**
     * {@link #layerNorm} that also saves, per row, {@code xhat = (y - mean) * rstd} into {@code xhat[rows, dim]}
     * and {@code rstd = 1/sqrt(var + eps)} into {@code rstd[rows]}, for {@link #layerNormBackward}. {@code out}
     * is exactly what {@link #layerNorm} writes; here it may not alias {@code x} or {@code residual}.
     */
    void layerNormTrain(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                        Tensor xhat, Tensor rstd, int rows, int dim);

    /**
     * Backward of {@link #layerNormTrain}: {@code dY[rows, dim]} is the gradient with respect to its input
     * {@code y = x + residual} (so both x and residual receive it), {@code dGamma[dim] += sum_rows dOut * xhat},
     * {@code dBeta[dim] += sum_rows dOut}. {@code dY} may alias {@code dOut}.
     */
    void layerNormBackward(Tensor dOut, Tensor xhat, Tensor rstd, Tensor gamma, Tensor dY, Tensor dGamma,
                           Tensor dBeta, int rows, int dim);

    /** {@code dX[i] = dOut[i] * gelu'(x[i])} for the first {@code n} elements; {@code dX} may alias {@code dOut}. */
    void geluBackward(Tensor x, Tensor dOut, Tensor dX, long n);

    /**
     * {@link #attention} that also saves the attention probabilities into {@code probs[batch, heads, seq, seq]}
     * (query row, then key column; padded keys have probability 0, a sequence without any real token all 0).
     */
    void attentionForwardTrain(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor probs,
                               int batch, int seq, int heads, int headDim);

    /**
     * Backward of {@link #attentionForwardTrain} (same {@code mask}, the {@code probs} it saved): from the
     * gradient {@code dOut} of its output, writes the
     * gradients {@code dQ}, {@code dK}, {@code dV} (all {@code [batch * seq, heads * headDim]}). Padded keys get
     * zero gradient; nothing divides, so padded query rows cannot produce NaN.
     */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor probs, Tensor dOut, Tensor dQ, Tensor dK,
                           Tensor dV, int batch, int seq, int heads, int headDim);

    /**
     * Backward of {@link #embeddings}: scatter-adds {@code dOut[b*seq+t]} into {@code dWord[ids]},
     * {@code dPosition[t]} and {@code dTokenType[typeIds]} ({@code typeIds} null: all type 0; {@code dPosition} null:
     * no position table). Accumulates.
     */
    void embeddingsBackward(int[] ids, int[] typeIds, Tensor dOut, Tensor dWord, Tensor dPosition, Tensor dTokenType,
                            int batch, int seq, int hidden);

    /** Backward of {@link #meanPool}: {@code dX[b*seq+t,:] = mask[b,t] * dOut[b,:] / max(sum_t mask[b,t], 1e-9)}. */
    void meanPoolBackward(Tensor dOut, Tensor mask, Tensor dX, int batch, int seq, int dim);

    /**
     * Backward of {@link #l2Normalize} given its input {@code x} (before normalisation): with
     * {@code n = max(||x||, 1e-12)} and {@code y = x / n}, {@code dX = (dOut - y (y · dOut)) / n} (just
     * {@code dOut / n} where the norm was clamped). {@code dX} may alias {@code dOut}.
     */
    void l2NormalizeBackward(Tensor x, Tensor dOut, Tensor dX, int rows, int dim);

    /**
     * One AdamW update of the first {@code n} elements, as {@code torch.optim.AdamW}: {@code p -= lr * wd * p}
     * (decoupled decay), {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2) g²}, then
     * {@code p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps)}. {@code step} counts from 1.
     */
    void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, long n, double lr, double beta1, double beta2,
                   double eps, double weightDecay, long step);

    /** Sum of the squares of the first {@code n} elements, accumulated in double (for global-norm clipping). */
    double sumOfSquares(Tensor t, long n);

    /** In place: the first {@code n} elements times {@code factor}. */
    void scale(Tensor t, float factor, long n);

    /** In place: the first {@code n} elements set to 0. */
    void zero(Tensor t, long n);
}
