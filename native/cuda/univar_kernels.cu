// The CUDA kernels of univar's CUDA backend (dev.univar.cuda.CudaBackend): everything the encoder and its
// training step do that is not a dense product (those are cuBLAS calls). Compiled to PTX by build-ptx.sh
// (nvcc -ptx, sm_80 and sm_90, no fast-math: results stay within 1e-4 of the CPU backend) and loaded through
// the driver API, so running needs only the driver.
//
// Conventions, shared by every kernel here:
// - float32 row-major tensors; "rows x dim" means dim contiguous floats per row.
// - Pointers are device (or managed) addresses; a pointer documented as "nullable" may be 0.
// - Element counts that may pass 2^31 are long long; offsets are computed in long long throughout.
// - The launch shape each kernel expects is written above it. "Warp per row" kernels take blockDim.x a
//   multiple of 32 (the backend uses 256: 8 rows per block) and gridDim.x = ceil(rows / (blockDim.x / 32));
//   each warp exits as a whole when its row is past the end, so the full-mask shuffles are always legal.
// - Accumulating outputs (parameter gradients) are added into; every other output is overwritten.
//   Where an output may alias an input (documented per kernel), each element is read and then written by the
//   same thread, after every read of the pass that needs the old values.

#include <cuda_bf16.h>

#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

__device__ __forceinline__ double warp_sum_double(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

// This thread's warp row (row index for warp-per-row kernels) and lane.
__device__ __forceinline__ long long warp_row() {
    return (long long) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
}

__device__ __forceinline__ int lane_id() {
    return threadIdx.x & 31;
}

// Grid-stride loop over [0, n).
#define FOR_EACH_ELEMENT(i, n) \
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long) gridDim.x * blockDim.x)

// Exact GELU, x * Phi(x), with 1 + erf(s) written as erfc(-s) so the far negative tail keeps its (tiny) value,
// as the CPU reference does.
__device__ __forceinline__ float gelu_exact(float x) {
    return 0.5f * x * erfcf(-x * 0.70710678118654752f);
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x).
__device__ __forceinline__ float gelu_derivative(float x) {
    float cdf = 0.5f * erfcf(-x * 0.70710678118654752f);
    float pdf = expf(-0.5f * x * x) * 0.39894228040143268f;
    return cdf + x * pdf;
}

extern "C" {

// ---------------------------------------------------------------------------------------------------------
// Embeddings
// ---------------------------------------------------------------------------------------------------------

// out[tok, :] = word[ids[tok], :] + position[tok % seq, :] + token_type[type_ids[tok], :] for tok < tokens.
// type_ids nullable (all type 0); position nullable (no position table: the term is absent). Ids are checked on
// the host before the launch.
// Launch: grid (tokens), block any (128); threads stride over hidden.
__global__ void embeddings_forward(const int* __restrict__ ids, const int* __restrict__ type_ids,
                                   const float* __restrict__ word, const float* __restrict__ position,
                                   const float* __restrict__ token_type, float* __restrict__ out,
                                   int seq, int hidden) {
    long long tok = blockIdx.x;
    int t = (int) (tok % seq);
    int type = type_ids ? type_ids[tok] : 0;
    const float* w = word + (long long) ids[tok] * hidden;
    const float* p = position ? position + (long long) t * hidden : nullptr;
    const float* ty = token_type + (long long) type * hidden;
    float* o = out + tok * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float s = p ? w[i] + p[i] : w[i];  // the CPU's order: (word + position) + type
        o[i] = s + ty[i];
    }
}

// Backward of embeddings_forward, accumulating: d_word[ids[tok]] += d_out[tok], d_position[tok % seq] += d_out[tok],
// d_token_type[type_ids[tok]] += d_out[tok] (atomicAdd: several tokens share a row); d_position nullable.
// Launch: grid (tokens), block any (128).
__global__ void embeddings_backward(const int* __restrict__ ids, const int* __restrict__ type_ids,
                                    const float* __restrict__ d_out, float* d_word, float* d_position,
                                    float* d_token_type, int seq, int hidden) {
    long long tok = blockIdx.x;
    int t = (int) (tok % seq);
    int type = type_ids ? type_ids[tok] : 0;
    float* w = d_word + (long long) ids[tok] * hidden;
    float* p = d_position ? d_position + (long long) t * hidden : nullptr;
    float* ty = d_token_type + (long long) type * hidden;
    const float* g = d_out + tok * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float v = g[i];
        atomicAdd(w + i, v);
        if (p) atomicAdd(p + i, v);
        atomicAdd(ty + i, v);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Layer norm
// ---------------------------------------------------------------------------------------------------------

// out[r, :] = (y - mean(y)) * rstd * gamma + beta with y = x[r, :] + residual[r, :] (residual nullable) and
// rstd = 1 / sqrt(var(y) + eps), biased variance (two passes: the mean first, then squared deviations).
// When xhat / rstd_out are non-null the training forward also saves xhat = (y - mean) * rstd and rstd.
// out may alias x or residual (inference; each element is rewritten by the lane that read it, in the last pass).
// Launch: warp per row.
__global__ void layer_norm_forward(const float* x, const float* residual, const float* __restrict__ gamma,
                                   const float* __restrict__ beta, float eps, float* out, float* xhat,
                                   float* rstd_out, int rows, int dim) {
    long long row = warp_row();
    if (row >= rows) return;
    int lane = lane_id();
    long long base = row * dim;
    float sum = 0.f;
    for (int i = lane; i < dim; i += 32) sum += x[base + i] + (residual ? residual[base + i] : 0.f);
    float mean = warp_sum(sum) / dim;
    float sq = 0.f;
    for (int i = lane; i < dim; i += 32) {
        float d = x[base + i] + (residual ? residual[base + i] : 0.f) - mean;
        sq += d * d;
    }
    float rstd = 1.0f / sqrtf(warp_sum(sq) / dim + eps);
    for (int i = lane; i < dim; i += 32) {
        float h = (x[base + i] + (residual ? residual[base + i] : 0.f) - mean) * rstd;
        if (xhat) xhat[base + i] = h;
        out[base + i] = h * gamma[i] + beta[i];
    }
    if (rstd_out && lane == 0) rstd_out[row] = rstd;
}

// Backward of layer_norm_forward with respect to y: with g = d_out * gamma,
// d_y = rstd * (g - mean(g) - xhat * mean(g * xhat)). d_y may alias d_out. The parameter gradients
// (d_gamma += sum_rows d_out * xhat, d_beta += sum_rows d_out) are column_sums launched before this kernel
// (it may overwrite d_out).
// Launch: warp per row.
__global__ void layer_norm_backward(const float* d_out, const float* __restrict__ xhat,
                                    const float* __restrict__ rstd, const float* __restrict__ gamma, float* d_y,
                                    int rows, int dim) {
    long long row = warp_row();
    if (row >= rows) return;
    int lane = lane_id();
    long long base = row * dim;
    float sg = 0.f, sgx = 0.f;
    for (int i = lane; i < dim; i += 32) {
        float g = d_out[base + i] * gamma[i];
        sg += g;
        sgx += g * xhat[base + i];
    }
    float mean_g = warp_sum(sg) / dim, mean_gx = warp_sum(sgx) / dim;
    float inv = rstd[row];
    for (int i = lane; i < dim; i += 32) {
        float g = d_out[base + i] * gamma[i];
        d_y[base + i] = inv * (g - mean_g - xhat[base + i] * mean_gx);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reductions over rows
// ---------------------------------------------------------------------------------------------------------

// out[c] += sum over rows r of a[r, c] * (b ? b[r, c] : 1): bias gradients (b null), LayerNorm's d_beta (b null)
// and d_gamma (b = xhat). Each block sums rows_per_chunk rows of 32 columns and adds its partial sum atomically.
// Launch: block (32, 8), grid (ceil(cols / 32), ceil(rows / rows_per_chunk)).
__global__ void column_sums(const float* __restrict__ a, const float* __restrict__ b, float* out,
                            int rows, int cols, int rows_per_chunk) {
    __shared__ float part[8][33];
    int col = blockIdx.x * 32 + threadIdx.x;
    long long r0 = (long long) blockIdx.y * rows_per_chunk;
    long long r1 = min((long long) rows, r0 + rows_per_chunk);
    float s = 0.f;
    if (col < cols) {
        for (long long r = r0 + threadIdx.y; r < r1; r += 8) {
            long long i = r * cols + col;
            s += b ? a[i] * b[i] : a[i];
        }
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && col < cols) {
        float t = 0.f;
        for (int k = 0; k < 8; k++) t += part[k][threadIdx.x];
        atomicAdd(out + col, t);
    }
}

// *result += sum of x[i]^2 for i < n, accumulated in double (result is zeroed by the host first).
// Launch: grid-stride, blockDim.x a multiple of 32 and at most 1024.
__global__ void sum_of_squares(const float* __restrict__ x, long long n, double* result) {
    __shared__ double warps[32];
    double s = 0.0;
    FOR_EACH_ELEMENT(i, n) {
        double v = x[i];
        s += v * v;
    }
    s = warp_sum_double(s);
    int warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (lane_id() == 0) warps[warp] = s;
    __syncthreads();
    if (warp == 0) {
        double t = lane_id() < nwarps ? warps[lane_id()] : 0.0;
        t = warp_sum_double(t);
        if (lane_id() == 0) atomicAdd(result, t);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Element-wise
// ---------------------------------------------------------------------------------------------------------

// The epilogue of a dense product: out[r, c] = act(out[r, c] + bias[c]) over rows x cols (bias nullable;
// act 0 = none, 1 = exact GELU). Launch: grid-stride.
__global__ void bias_activation(float* out, const float* __restrict__ bias, int rows, int cols, int act) {
    long long n = (long long) rows * cols;
    bool narrow = n <= 0xffffffffLL;  // the column by 32-bit division where it fits (64-bit division is slow)
    FOR_EACH_ELEMENT(i, n) {
        float v = out[i];
        if (bias) v += bias[narrow ? (unsigned) i % (unsigned) cols : i % cols];
        out[i] = act == 1 ? gelu_exact(v) : v;
    }
}

// out[i] = gelu(x[i]); out may alias x. Launch: grid-stride.
__global__ void gelu_forward(const float* x, float* out, long long n) {
    FOR_EACH_ELEMENT(i, n) out[i] = gelu_exact(x[i]);
}

// d_x[i] = d_out[i] * gelu'(x[i]); d_x may alias d_out. Launch: grid-stride.
__global__ void gelu_backward(const float* __restrict__ x, const float* d_out, float* d_x, long long n) {
    FOR_EACH_ELEMENT(i, n) d_x[i] = d_out[i] * gelu_derivative(x[i]);
}

// out[i] = a[i] + b[i]; out may alias a or b. Launch: grid-stride.
__global__ void add(const float* a, const float* b, float* out, long long n) {
    FOR_EACH_ELEMENT(i, n) out[i] = a[i] + b[i];
}

// x[i] *= factor. Launch: grid-stride.
__global__ void scale(float* x, float factor, long long n) {
    FOR_EACH_ELEMENT(i, n) x[i] *= factor;
}

// x[i] = 0 (n floats). Launch: grid-stride.
__global__ void zero(float* x, long long n) {
    FOR_EACH_ELEMENT(i, n) x[i] = 0.f;
}

// out[i] = bfloat16(x[i]), round to nearest even: the activation operand of a BF16 product. Launch: grid-stride.
__global__ void float_to_bf16(const float* __restrict__ x, __nv_bfloat16* __restrict__ out, long long n) {
    FOR_EACH_ELEMENT(i, n) out[i] = __float2bfloat16_rn(x[i]);
}

// out[i] = float(x[i]) (exact). Launch: grid-stride.
__global__ void bf16_to_float(const __nv_bfloat16* __restrict__ x, float* __restrict__ out, long long n) {
    FOR_EACH_ELEMENT(i, n) out[i] = __bfloat162float(x[i]);
}

// One AdamW step in the CPU backend's float arithmetic (TrainingBackend.adamwStep); the host passes
// decay = 1 - lr * wd, step_size = lr / (1 - beta1^step), inv_sqrt_bc2 = 1 / sqrt(1 - beta2^step),
// c1 = 1 - beta1, c2 = 1 - beta2. Launch: grid-stride.
__global__ void adamw_step(float* param, const float* __restrict__ grad, float* m, float* v, long long n,
                           float decay, float step_size, float inv_sqrt_bc2, float eps,
                           float beta1, float beta2, float c1, float c2) {
    FOR_EACH_ELEMENT(i, n) {
        float g = grad[i];
        float mi = m[i] * beta1 + g * c1;
        float vi = v[i] * beta2 + g * g * c2;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) * inv_sqrt_bc2 + eps;
        param[i] = param[i] * decay - mi * step_size / denom;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Softmax (attention)
// ---------------------------------------------------------------------------------------------------------

// In place over x[rows, cols]: softmax of each row where columns whose mask[row / rows_per_batch, col] is 0 get
// probability 0; a row whose mask is all 0 becomes all 0. Launch: warp per row.
__global__ void masked_softmax(float* x, const float* __restrict__ mask, int rows, int rows_per_batch, int cols) {
    long long row = warp_row();
    if (row >= rows) return;
    int lane = lane_id();
    float* p = x + row * cols;
    const float* mk = mask + (row / rows_per_batch) * cols;
    float mx = -INFINITY;
    for (int c = lane; c < cols; c += 32)
        if (mk[c] != 0.f) mx = fmaxf(mx, p[c]);
    mx = warp_max(mx);
    float sum = 0.f;
    for (int c = lane; c < cols; c += 32) {
        float e = mk[c] != 0.f ? expf(p[c] - mx) : 0.f;
        p[c] = e;
        sum += e;
    }
    sum = warp_sum(sum);
    float inv = sum > 0.f ? 1.0f / sum : 0.f;
    for (int c = lane; c < cols; c += 32) p[c] *= inv;
}

// Softmax backward, in place: with P = probs[row] and dP = d[row] on entry, d[row] becomes
// dS = P * (dP - sum_j P_j dP_j) * scale (the score scale of attention). Masked columns (P = 0) get 0, and
// nothing divides. Launch: warp per row.
__global__ void softmax_backward(const float* __restrict__ probs, float* d, float scale, int rows, int cols) {
    long long row = warp_row();
    if (row >= rows) return;
    int lane = lane_id();
    const float* p = probs + row * cols;
    float* g = d + row * cols;
    float dot = 0.f;
    for (int c = lane; c < cols; c += 32) dot += p[c] * g[c];
    dot = warp_sum(dot);
    for (int c = lane; c < cols; c += 32) g[c] = p[c] * (g[c] - dot) * scale;
}

// ---------------------------------------------------------------------------------------------------------
// Pooling and normalisation
// ---------------------------------------------------------------------------------------------------------

// out[b, i] = sum_t mask[b, t] * x[b * seq + t, i] / max(sum_t mask[b, t], 1e-9).
// Launch: grid (ceil(dim / blockDim.x), batch), block any (128).
__global__ void mean_pool_forward(const float* __restrict__ x, const float* __restrict__ mask,
                                  float* __restrict__ out, int seq, int dim) {
    int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= dim) return;
    const float* mk = mask + (long long) b * seq;
    float count = 0.f, s = 0.f;
    for (int t = 0; t < seq; t++) {
        float w = mk[t];
        count += w;
        s += w * x[((long long) b * seq + t) * dim + i];
    }
    out[(long long) b * dim + i] = s / fmaxf(count, 1e-9f);
}

// d_x[b * seq + t, i] = mask[b, t] * d_out[b, i] / max(sum_t mask[b, t], 1e-9).
// Launch: grid (seq, batch), block any (128).
__global__ void mean_pool_backward(const float* __restrict__ d_out, const float* __restrict__ mask,
                                   float* __restrict__ d_x, int seq, int dim) {
    int b = blockIdx.y, t = blockIdx.x;
    const float* mk = mask + (long long) b * seq;
    float count = 0.f;
    for (int u = 0; u < seq; u++) count += mk[u];
    float w = mk[t] / fmaxf(count, 1e-9f);
    float* dx = d_x + ((long long) b * seq + t) * dim;
    const float* g = d_out + (long long) b * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dx[i] = w * g[i];
}

// In place: each row of x[rows, dim] divided by max(||row||_2, 1e-12). Launch: warp per row.
__global__ void l2_normalize(float* x, int rows, int dim) {
    long long row = warp_row();
    if (row >= rows) return;
    int lane = lane_id();
    float* p = x + row * dim;
    float s = 0.f;
    for (int i = lane; i < dim; i += 32) s += p[i] * p[i];
    float norm = fmaxf(sqrtf(warp_sum(s)), 1e-12f);
    for (int i = lane; i < dim; i += 32) p[i] = p[i] / norm;
}

// Backward of l2_normalize given its input x: with n = ||x|| and y = x / n, d_x = (d_out - y (y . d_out)) / n,
// or d_out / 1e-12 where the norm was clamped. d_x may alias d_out. Launch: warp per row.
__global__ void l2_normalize_backward(const float* __restrict__ x, const float* d_out, float* d_x, int rows, int dim) {
    long long row = warp_row();
    if (row >= rows) return;
    int lane = lane_id();
    const float* px = x + row * dim;
    const float* g = d_out + row * dim;
    float* dx = d_x + row * dim;
    float s = 0.f;
    for (int i = lane; i < dim; i += 32) s += px[i] * px[i];
    float norm = sqrtf(warp_sum(s));
    if (norm <= 1e-12f) {
        for (int i = lane; i < dim; i += 32) dx[i] = g[i] / 1e-12f;
        return;
    }
    float dot = 0.f;
    for (int i = lane; i < dim; i += 32) dot += px[i] / norm * g[i];
    dot = warp_sum(dot);
    for (int i = lane; i < dim; i += 32) dx[i] = (g[i] - px[i] / norm * dot) / norm;
}

}  // extern "C"
