package dev.univar.tensor;

import java.lang.foreign.Arena;

/**
 * The operations the encoder is written against. The CPU backend does them with the Vector API, the
 * scalar backend is the plain reference every kernel is tested against, and a CUDA backend will do them
 * with cuBLAS and PTX kernels. Every 2-D operand is row-major and dense; "rows" flattens leading dimensions.
 *
 * <p>Unless a method says otherwise, {@code out} may not alias an input.
 *
 * <p>Memory: any tensor may be passed to any operation, but a device backend works in place only on the tensors it
 * made ({@link #allocate}, {@link #resident}); others it copies in and out on every call, which is correct but
 * slow. A device backend may also run operations asynchronously: call {@link #synchronize()} before the host reads
 * a tensor an operation wrote, or writes one an operation still reads. On the CPU all three are free.
 */
public interface Backend extends AutoCloseable {

    /** Short name for messages and benchmarks: "cpu", "scalar", "cuda". */
    String name();

    /**
     * {@code out[m,n] = a[m,k] · op(b) (+ bias[n])}, where {@code op(b)} is {@code b[k,n]}, or {@code b[n,k]}
     * transposed when {@code transB} (the layout of a PyTorch {@code Linear} weight). {@code bias} may be null.
     */
    void matmul(Tensor a, Tensor b, boolean transB, Tensor bias, Tensor out, int m, int n, int k);

    /**
     * General product {@code out[m,n] = (accumulate ? out : 0) + op(a) · op(b) (+ bias[n])}, where {@code op(a)} is
     * {@code a[m,k]}, or {@code a[k,m]} transposed when {@code transA}, and {@code op(b)} as in {@link #matmul}.
     * {@code bias} may be null. With {@code transA} and {@code accumulate} this is a weight gradient
     * ({@code dW += dYᵀ · X}).
     */
    void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean accumulate, Tensor out,
              int m, int n, int k);

    /**
     * Lays out {@code op(b)} ({@code b[k,n]}, or {@code b[n,k]} transposed when {@code transB}) for repeated
     * {@link #linear} calls. The result is a copy taken now: the caller declares {@code b} constant until it
     * packs again (after a training step, say). Close the result when done with it.
     */
    PackedMatrix pack(Tensor b, boolean transB, int n, int k);

    /**
     * {@code out[m,n] = act(a[m,k] · B + bias[n])} with B packed by this backend's {@link #pack}; {@code bias} may
     * be null. The same result as {@link #matmul} followed by the activation, in one pass over {@code out}.
     */
    void linear(Tensor a, PackedMatrix b, Tensor bias, Activation act, Tensor out, int m);

    /**
     * {@code out[r,:] = (y - mean(y)) / sqrt(var(y) + eps) * gamma + beta} with {@code y = x[r,:] + residual[r,:]}
     * ({@code residual} may be null; biased variance, as PyTorch). {@code out} may alias {@code x} or {@code residual}.
     */
    void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, int rows, int dim);

    /** Exact GELU, {@code x * 0.5 * (1 + erf(x / sqrt 2))}, over the first {@code n} elements; {@code out} may alias {@code x}. */
    void gelu(Tensor x, Tensor out, long n);

    /**
     * In-place softmax over the last dimension of {@code x[batch, rowsPerBatch, cols]}, where columns whose
     * {@code mask[b, col]} is 0 get probability 0 (a row whose mask is all 0 becomes all 0).
     */
    void maskedSoftmax(Tensor x, Tensor mask, int batch, int rowsPerBatch, int cols);

    /**
     * Multi-head scaled dot-product attention. {@code q}, {@code k}, {@code v} and {@code out} are
     * {@code [batch * seq, heads * headDim]}; head {@code h} is columns {@code [h*headDim, (h+1)*headDim)}.
     * {@code mask[batch, seq]} is 1 for real tokens and 0 for padding: padded keys get no weight.
     * Scores are scaled by {@code 1/sqrt(headDim)}.
     */
    void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim);

    /**
     * {@link #attention} with q, k and v side by side in one {@code [batch * seq, 3 * heads * headDim]} tensor
     * (columns: q, then k, then v), as a fused QKV projection produces them. {@code out} is
     * {@code [batch * seq, heads * headDim]}.
     */
    void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim);

    /**
     * Token embeddings: {@code out[b*seq + t, :] = word[ids[b*seq+t]] + position[t] + tokenType[typeIds[b*seq+t]]},
     * summed in that order. {@code typeIds} may be null (all zero); {@code position} may be null, for an
     * architecture without a position table (rotary models): then the position term is absent.
     */
    void embeddings(int[] ids, int[] typeIds, Tensor word, Tensor position, Tensor tokenType, Tensor out,
                    int batch, int seq, int hidden);

    /** {@code out[b,:] = sum_t mask[b,t] * x[b*seq+t,:] / max(sum_t mask[b,t], 1e-9)} (sentence-transformers' mean pooling). */
    void meanPool(Tensor x, Tensor mask, Tensor out, int batch, int seq, int dim);

    /** In place: each row divided by {@code max(||row||_2, 1e-12)} (PyTorch's {@code F.normalize}). */
    void l2Normalize(Tensor x, int rows, int dim);

    /** {@code out[i] = a[i] + b[i]} for the first {@code n} elements; {@code out} may alias either input. */
    void add(Tensor a, Tensor b, Tensor out, long n);

    /**
     * A zero-filled tensor in {@code arena} that this backend's operations use in place (activations, gradients,
     * optimizer state), still readable and writable by the host between {@link #synchronize()} calls. The CPU's is
     * {@link Tensor#allocate}.
     */
    default Tensor allocate(Arena arena, int... shape) {
        return Tensor.allocate(arena, shape);
    }

    /**
     * {@code t} as this backend's operations want to read it many times: constant data such as weights. The CPU
     * returns {@code t} itself; a device backend returns a device-accessible copy in {@code arena} (or {@code t},
     * when it already is), so later changes to {@code t} are not seen by the copy.
     */
    default Tensor resident(Arena arena, Tensor t) {
        return t;
    }

    /** Waits until every operation issued so far has finished, so the host may read what they wrote. */
    default void synchronize() {
    }

    @Override
    default void close() {
    }
}
