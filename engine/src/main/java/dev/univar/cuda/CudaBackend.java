package dev.univar.cuda;

import dev.univar.bindings.cuda.cublas_h;
import dev.univar.cpu.BackendChecks;
import dev.univar.cpu.TrainingChecks;
import dev.univar.tensor.Activation;
import dev.univar.tensor.PackedMatrix;
import dev.univar.tensor.Precision;
import dev.univar.tensor.Tensor;
import dev.univar.tensor.TrainingBackend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CUDA backend: dense products with cuBLAS, everything else with the kernels of
 * {@code native/cuda/univar_kernels.cu} (loaded as PTX), all issued in order on one stream of one device.
 *
 * <p><b>Memory.</b> Tensors from {@link #allocate} and {@link #resident} are CUDA managed memory: kernels use them in
 * place and the host may still read and write them between {@link #synchronize()} calls (so nothing the host does
 * with them can crash the JVM). Any other tensor is correct too, copied in and out on each call through a reused
 * pinned buffer ({@link Operands}); token ids always go that way. Operations return as soon as their work is issued,
 * except those whose result the host needs at once ({@link #sumOfSquares}) or that wrote host tensors, and all of them
 * on a device without concurrent managed access (where the host touching managed memory during any kernel faults).
 *
 * <p><b>Row-major on a column-major library.</b> {@link RowMajorProducts} writes every row-major product (plain,
 * and attention's per-head strided batches) as cuBLAS's column-major GEMMs; the class comment there explains the
 * mapping, and {@code RowMajorProductsTest} checks it on the CPU.
 *
 * <p><b>Precision.</b> FP32: {@code cublasSgemm} in the default math mode, which never uses TF32 (the reference,
 * within 1e-4 of the CPU). TF32: {@code cublasGemmEx} with {@code CUBLAS_COMPUTE_32F_FAST_TF32}. BF16: packed weights
 * are stored as bfloat16, {@link #linear} converts its activation to bfloat16 (a kernel) and multiplies with bf16
 * inputs, fp32 accumulation and output; other products (attention, the backward) use
 * {@code CUBLAS_COMPUTE_32F_FAST_16BF} on fp32 data. Everything that is not a product stays fp32.
 *
 * <p>Operations are synchronized: threads may share a backend, one operation at a time.
 */
public final class CudaBackend implements TrainingBackend {
    private static final String MODULE = "univar_kernels";
    private static final int THREADS = 256, ROWS_PER_BLOCK = THREADS / 32, MAX_BLOCKS = 1 << 16, MAX_GRID_Y = 65535;
    private static final int ACT_NONE = 0, ACT_GELU = 1;

    private final CudaContext context;
    private final boolean ownsContext;
    private final Precision precision;
    private Cublas blas;
    private CudaModule module;
    /** Products on fp32 data in this backend's precision, and (BF16) those of bfloat16 operands. */
    private final RowMajorProducts products, bf16Products;
    private final Operands operands;
    private final Workspace scores, gradScores, bf16Activation, deviceResult;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment hostResult;
    private final int r32f, r16bf, compute32f, computeFast;
    private final CudaKernel embeddingsForward, embeddingsBackward, layerNormForward, layerNormBackward, columnSums,
            sumOfSquaresKernel, biasActivation, geluForward, geluBackwardKernel, addKernel, scaleKernel, zeroKernel,
            floatToBf16, adamw, maskedSoftmaxKernel, softmaxBackward, meanPoolForward, meanPoolBackwardKernel,
            l2NormalizeKernel, l2NormalizeBackwardKernel;
    private boolean closed;

    /** Opens device {@code ordinal} for a backend that owns its context and closes it with itself. */
    public static CudaBackend open(int ordinal, Precision precision) {
        CudaContext context = CudaContext.open(ordinal);
        try {
            return new CudaBackend(context, precision, true);
        } catch (RuntimeException | Error e) {
            context.close();
            throw e;
        }
    }

    /** A backend on an open context, which the caller keeps and closes after this backend. */
    public CudaBackend(CudaContext context, Precision precision) {
        this(context, precision, false);
    }

    private CudaBackend(CudaContext context, Precision requested, boolean ownsContext) {
        this.context = context;
        this.precision = requested == null ? Precision.FP32 : requested;
        this.ownsContext = ownsContext;
        // Without concurrent managed access the host may not touch managed memory while any kernel runs: then every
        // operation waits for its work, so that "between operations" stays safe (slower, but no crash).
        this.operands = new Operands(context, !context.device().concurrentManagedAccess());
        this.scores = new Workspace();
        this.gradScores = new Workspace();
        this.bf16Activation = new Workspace();
        this.deviceResult = new Workspace();
        try {
            blas = Cublas.create(context);
            blas.setMathMode(cublas_h.CUBLAS_DEFAULT_MATH());
            module = CudaModule.loadResource(context, MODULE);
            hostResult = context.allocPinned(Double.BYTES, arena);
        } catch (RuntimeException | Error e) {
            if (module != null) module.close();
            if (blas != null) blas.close();
            arena.close();
            throw e;
        }
        r32f = cublas_h.CUDA_R_32F();
        r16bf = cublas_h.CUDA_R_16BF();
        compute32f = cublas_h.CUBLAS_COMPUTE_32F();
        computeFast = switch (this.precision) {
            case FP32 -> compute32f;
            case TF32 -> cublas_h.CUBLAS_COMPUTE_32F_FAST_TF32();
            case BF16 -> cublas_h.CUBLAS_COMPUTE_32F_FAST_16BF();
        };
        products = new RowMajorProducts(new RowMajorProducts.ColumnMajorGemm() {
            @Override
            public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
                             int ldb, float beta, long c, int ldc) {
                if (precision == Precision.FP32) blas.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                else blas.gemmEx(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, r32f, r32f, r32f, computeFast);
            }

            @Override
            public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                                           int lda, long strideA, long b, int ldb, long strideB, float beta, long c,
                                           int ldc, long strideC, int count) {
                if (precision == Precision.FP32)
                    blas.sgemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta,
                            c, ldc, strideC, count);
                else
                    blas.gemmStridedBatchedEx(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta,
                            c, ldc, strideC, count, r32f, r32f, r32f, computeFast);
            }
        });
        bf16Products = new RowMajorProducts(new RowMajorProducts.ColumnMajorGemm() {
            @Override
            public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
                             int ldb, float beta, long c, int ldc) {
                blas.gemmEx(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, r16bf, r16bf, r32f, compute32f);
            }

            @Override
            public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                                           int lda, long strideA, long b, int ldb, long strideB, float beta, long c,
                                           int ldc, long strideC, int count) {
                throw new UnsupportedOperationException("batched products stay on fp32 data");
            }
        });
        embeddingsForward = module.function("embeddings_forward");
        embeddingsBackward = module.function("embeddings_backward");
        layerNormForward = module.function("layer_norm_forward");
        layerNormBackward = module.function("layer_norm_backward");
        columnSums = module.function("column_sums");
        sumOfSquaresKernel = module.function("sum_of_squares");
        biasActivation = module.function("bias_activation");
        geluForward = module.function("gelu_forward");
        geluBackwardKernel = module.function("gelu_backward");
        addKernel = module.function("add");
        scaleKernel = module.function("scale");
        zeroKernel = module.function("zero");
        floatToBf16 = module.function("float_to_bf16");
        adamw = module.function("adamw_step");
        maskedSoftmaxKernel = module.function("masked_softmax");
        softmaxBackward = module.function("softmax_backward");
        meanPoolForward = module.function("mean_pool_forward");
        meanPoolBackwardKernel = module.function("mean_pool_backward");
        l2NormalizeKernel = module.function("l2_normalize");
        l2NormalizeBackwardKernel = module.function("l2_normalize_backward");
    }

    @Override
    public String name() {
        return "cuda";
    }

    public Precision precision() {
        return precision;
    }

    public CudaContext context() {
        return context;
    }

    /** The device and cuBLAS, and the precision: {@code NVIDIA H100 80GB HBM3, sm_90, ..., cuBLAS 13.0.2, fp32}. */
    public String describe() {
        return context.describe() + ", " + precision.name().toLowerCase(java.util.Locale.ROOT);
    }

    // ---- memory ----

    @Override
    public Tensor allocate(Arena arena, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return new Tensor(context.allocManaged(Math.max(1, n) * Float.BYTES, arena), shape);
    }

    @Override
    public Tensor resident(Arena arena, Tensor t) {
        if (context.isDeviceAccessible(t.data())) return t;
        Tensor copy = allocate(arena, t.shape());
        context.copyHtoD(copy.data().address(), t.data(), t.size() * Float.BYTES);
        return copy;
    }

    @Override
    public void synchronize() {
        context.synchronize();
    }

    // ---- dense products ----

    @Override
    public synchronized void matmul(Tensor a, Tensor b, boolean transB, Tensor bias, Tensor out, int m, int n, int k) {
        gemm(a, false, b, transB, bias, false, out, m, n, k);
    }

    @Override
    public synchronized void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, boolean accumulate,
                                  Tensor out, int m, int n, int k) {
        BackendChecks.product(a, b, bias, out, m, n, k);
        if (m == 0 || n == 0) return;
        try (Operands o = operands.begin()) {
            long pa = o.in(a, (long) m * k), pb = o.in(b, (long) k * n), pBias = bias == null ? 0 : o.in(bias, n);
            long pOut = accumulate ? o.inOut(out, (long) m * n) : o.out(out, (long) m * n);
            gemmRowMajor(pa, transA, pb, transB, accumulate, pOut, m, n, k);
            if (bias != null) epilogue(pOut, pBias, m, n, ACT_NONE);
        }
    }

    /** {@link RowMajorProducts#gemm}, and the empty products it leaves to the caller. */
    private void gemmRowMajor(long a, boolean transA, long b, boolean transB, boolean accumulate, long out,
                              int m, int n, int k) {
        if (m == 0 || n == 0) return;
        if (k == 0) { // an empty sum; cuBLAS would also want leading dimensions >= 1
            if (!accumulate) zeroDevice(out, (long) m * n);
            return;
        }
        products.gemm(a, transA, b, transB, accumulate, out, m, n, k);
    }

    /** A device copy of {@code op(b)}'s source, fp32 or (BF16) bfloat16, in b's own layout; see {@link #linear}. */
    private final class Packed implements PackedMatrix {
        final long data;
        final boolean transB, bf16;
        final int n, k;
        private boolean released;

        Packed(long data, boolean transB, boolean bf16, int n, int k) {
            this.data = data;
            this.transB = transB;
            this.bf16 = bf16;
            this.n = n;
            this.k = k;
        }

        CudaBackend owner() {
            return CudaBackend.this;
        }

        @Override
        public int n() {
            return n;
        }

        @Override
        public int k() {
            return k;
        }

        @Override
        public void close() {
            synchronized (CudaBackend.this) {
                if (released || closed) return;
                released = true;
                context.synchronize(); // no product still reads it
                context.free(data);
            }
        }
    }

    @Override
    public synchronized PackedMatrix pack(Tensor b, boolean transB, int n, int k) {
        BackendChecks.pack(b, n, k);
        long elements = (long) k * n;
        boolean bf16 = precision == Precision.BF16;
        long data = context.malloc(Math.max(1, elements) * (bf16 ? 2 : Float.BYTES));
        try (Operands o = operands.begin()) {
            long src = o.in(b, elements);
            if (bf16) launchElementwise(floatToBf16, elements, src, data, elements);
            else context.copyDtoD(data, src, elements * Float.BYTES);
        } catch (RuntimeException | Error e) {
            context.free(data);
            throw e;
        }
        context.synchronize(); // a snapshot: the caller may change b as soon as this returns
        return new Packed(data, transB, bf16, n, k);
    }

    /**
     * {@code out = act(a · op(b) + bias)}: one product with the packed matrix as cuBLAS's first operand (PyTorch
     * {@code Linear} weights {@code [n,k]} are transposed, {@code ld = k}: the "TN" call PyTorch itself makes), then
     * one pass of the bias/activation epilogue kernel. BF16 makes the same call as {@link RowMajorProducts#gemm} with
     * bfloat16 operands.
     */
    @Override
    public synchronized void linear(Tensor a, PackedMatrix b, Tensor bias, Activation act, Tensor out, int m) {
        if (!(b instanceof Packed p) || p.owner() != this)
            throw new IllegalArgumentException("matrix was not packed by this backend");
        if (p.released) throw new IllegalStateException("packed matrix is closed");
        int n = p.n, k = p.k;
        BackendChecks.linear(a, bias, out, m, n, k);
        if (m == 0 || n == 0) return;
        int actCode = act == Activation.GELU ? ACT_GELU : ACT_NONE;
        try (Operands o = operands.begin()) {
            long pa = o.in(a, (long) m * k), pBias = bias == null ? 0 : o.in(bias, n), pOut = o.out(out, (long) m * n);
            if (k == 0) {
                zeroDevice(pOut, (long) m * n);
            } else if (p.bf16) {
                long elements = (long) m * k;
                long act16 = bf16Activation.get(elements * 2);
                launchElementwise(floatToBf16, elements, pa, act16, elements);
                bf16Products.gemm(act16, false, p.data, p.transB, false, pOut, m, n, k);
            } else {
                products.gemm(pa, false, p.data, p.transB, false, pOut, m, n, k);
            }
            if (bias != null || actCode != ACT_NONE) epilogue(pOut, pBias, m, n, actCode);
        }
    }

    private void epilogue(long out, long bias, int rows, int cols, int act) {
        biasActivation.launch(blocks((long) rows * cols), 1, 1, THREADS, 1, 1, 0, out, bias, rows, cols, act);
    }

    // ---- attention ----

    @Override
    public synchronized void attention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, int batch, int seq,
                                       int heads, int headDim) {
        BackendChecks.attention(q, k, v, mask, out, batch, seq, heads, headDim);
        long size = (long) batch * seq * heads * headDim;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            attentionForward(o.in(q, size), o.in(k, size), o.in(v, size), heads * headDim, o.in(mask, (long) batch * seq),
                    o.out(out, size), 0, batch, seq, heads, headDim);
        }
    }

    @Override
    public synchronized void attention(Tensor qkv, Tensor mask, Tensor out, int batch, int seq, int heads, int headDim) {
        BackendChecks.attention(qkv, mask, out, batch, seq, heads, headDim);
        long tokens = (long) batch * seq, width = (long) heads * headDim;
        if (tokens * width == 0) return;
        try (Operands o = operands.begin()) {
            long p = o.in(qkv, tokens * 3 * width);
            attentionForward(p, p + width * Float.BYTES, p + 2 * width * Float.BYTES, (int) (3 * width),
                    o.in(mask, tokens), o.out(out, tokens * width), 0, batch, seq, heads, headDim);
        }
    }

    @Override
    public synchronized void attentionForwardTrain(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor probs,
                                                   int batch, int seq, int heads, int headDim) {
        TrainingChecks.attentionForwardTrain(q, k, v, mask, out, probs, batch, seq, heads, headDim);
        long size = (long) batch * seq * heads * headDim;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            attentionForward(o.in(q, size), o.in(k, size), o.in(v, size), heads * headDim, o.in(mask, (long) batch * seq),
                    o.out(out, size), o.out(probs, (long) batch * heads * seq * seq), batch, seq, heads, headDim);
        }
    }

    /**
     * Attention on device addresses: q, k, v rows {@code ld} floats apart (the width, or 3× for a fused QKV tensor),
     * out rows {@code heads * headDim}. Scores into {@code probs} (a workspace when 0), the masked softmax in place,
     * then the context ({@link RowMajorProducts#attentionScores}, {@link RowMajorProducts#attentionContext}).
     */
    private void attentionForward(long q, long k, long v, int ld, long mask, long out, long probs, int batch, int seq,
                                  int heads, int headDim) {
        long p = probs != 0 ? probs : scores.get((long) batch * heads * seq * seq * Float.BYTES);
        products.attentionScores(q, k, ld, p, batch, seq, heads, headDim, (float) (1 / Math.sqrt(headDim)));
        maskedSoftmaxDevice(p, mask, batch, heads * seq, seq);
        products.attentionContext(p, v, ld, out, batch, seq, heads, headDim);
    }

    /**
     * {@link RowMajorProducts#attentionBackwardValues} ({@code dV}, and {@code dP} into a workspace), the softmax
     * backward kernel ({@code dS = P ∘ (dP - rowsum(P ∘ dP)) · scale}, in place), then
     * {@link RowMajorProducts#attentionBackwardQueriesKeys} ({@code dQ}, {@code dK}).
     */
    @Override
    public synchronized void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor probs, Tensor dOut,
                                               Tensor dQ, Tensor dK, Tensor dV, int batch, int seq, int heads,
                                               int headDim) {
        TrainingChecks.attentionBackward(q, k, v, mask, probs, dOut, dQ, dK, dV, batch, seq, heads, headDim);
        long size = (long) batch * seq * heads * headDim;
        if (size == 0) return;
        long scoreElements = (long) batch * heads * seq * seq;
        try (Operands o = operands.begin()) {
            long pq = o.in(q, size), pk = o.in(k, size), pv = o.in(v, size);
            long pp = o.in(probs, scoreElements), pdo = o.in(dOut, size);
            long pdq = o.out(dQ, size), pdk = o.out(dK, size), pdv = o.out(dV, size);
            long ds = gradScores.get(scoreElements * Float.BYTES);
            products.attentionBackwardValues(pp, pdo, pv, pdv, ds, batch, seq, heads, headDim);
            int rows = Math.toIntExact((long) batch * heads * seq);
            softmaxBackward.launch(rowBlocks(rows), 1, 1, THREADS, 1, 1, 0, pp, ds, (float) (1 / Math.sqrt(headDim)),
                    rows, seq);
            products.attentionBackwardQueriesKeys(ds, pq, pk, pdq, pdk, batch, seq, heads, headDim);
        }
    }

    @Override
    public synchronized void maskedSoftmax(Tensor x, Tensor mask, int batch, int rowsPerBatch, int cols) {
        BackendChecks.maskedSoftmax(x, mask, batch, rowsPerBatch, cols);
        long size = (long) batch * rowsPerBatch * cols;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            maskedSoftmaxDevice(o.inOut(x, size), o.in(mask, (long) batch * cols), batch, rowsPerBatch, cols);
        }
    }

    private void maskedSoftmaxDevice(long x, long mask, int batch, int rowsPerBatch, int cols) {
        int rows = Math.toIntExact((long) batch * rowsPerBatch);
        maskedSoftmaxKernel.launch(rowBlocks(rows), 1, 1, THREADS, 1, 1, 0, x, mask, rows, rowsPerBatch, cols);
    }

    // ---- layer norm ----

    @Override
    public synchronized void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                                       int rows, int dim) {
        BackendChecks.layerNorm(x, residual, gamma, beta, out, rows, dim);
        layerNorm(x, residual, gamma, beta, eps, out, null, null, rows, dim);
    }

    @Override
    public synchronized void layerNormTrain(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                                            Tensor xhat, Tensor rstd, int rows, int dim) {
        BackendChecks.layerNorm(x, residual, gamma, beta, out, rows, dim);
        TrainingChecks.layerNormTrain(x, residual, out, xhat, rstd, rows, dim);
        layerNorm(x, residual, gamma, beta, eps, out, xhat, rstd, rows, dim);
    }

    private void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor xhat,
                           Tensor rstd, int rows, int dim) {
        long size = (long) rows * dim;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            long px = o.in(x, size), pr = residual == null ? 0 : o.in(residual, size);
            long pg = o.in(gamma, dim), pb = o.in(beta, dim), pOut = o.out(out, size);
            long pXhat = xhat == null ? 0 : o.out(xhat, size), pRstd = rstd == null ? 0 : o.out(rstd, rows);
            layerNormForward.launch(rowBlocks(rows), 1, 1, THREADS, 1, 1, 0, px, pr, pg, pb, eps, pOut, pXhat, pRstd,
                    rows, dim);
        }
    }

    @Override
    public synchronized void layerNormBackward(Tensor dOut, Tensor xhat, Tensor rstd, Tensor gamma, Tensor dY,
                                               Tensor dGamma, Tensor dBeta, int rows, int dim) {
        TrainingChecks.layerNormBackward(dOut, xhat, rstd, gamma, dY, dGamma, dBeta, rows, dim);
        long size = (long) rows * dim;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            long pd = o.in(dOut, size), ph = o.in(xhat, size), pr = o.in(rstd, rows), pg = o.in(gamma, dim);
            long pdg = o.inOut(dGamma, dim), pdb = o.inOut(dBeta, dim), py = o.out(dY, size);
            // The parameter gradients first: dY may alias dOut and is written last.
            columnSumsDevice(pd, ph, pdg, rows, dim);
            columnSumsDevice(pd, 0, pdb, rows, dim);
            layerNormBackward.launch(rowBlocks(rows), 1, 1, THREADS, 1, 1, 0, pd, ph, pr, pg, py, rows, dim);
        }
    }

    /** {@code out[c] += sum_r a[r, c] * (b == 0 ? 1 : b[r, c])}. */
    private void columnSumsDevice(long a, long b, long out, int rows, int cols) {
        if ((long) rows * cols == 0) return;
        // In long: rows + 65534 would overflow an int near 2^31 rows (grid y must stay <= 65535).
        int rowsPerChunk = (int) Math.max(128, (rows + (long) MAX_GRID_Y - 1) / MAX_GRID_Y);
        int chunks = (int) ((rows + (long) rowsPerChunk - 1) / rowsPerChunk);
        columnSums.launch((int) ((cols + 31L) / 32), chunks, 1, 32, 8, 1, 0, a, b, out, rows, cols, rowsPerChunk);
    }

    // ---- element-wise ----

    @Override
    public synchronized void gelu(Tensor x, Tensor out, long n) {
        BackendChecks.gelu(x, out, n);
        if (n == 0) return;
        try (Operands o = operands.begin()) {
            launchElementwise(geluForward, n, o.in(x, n), o.out(out, n), n);
        }
    }

    @Override
    public synchronized void geluBackward(Tensor x, Tensor dOut, Tensor dX, long n) {
        TrainingChecks.geluBackward(x, dOut, dX, n);
        if (n == 0) return;
        try (Operands o = operands.begin()) {
            launchElementwise(geluBackwardKernel, n, o.in(x, n), o.in(dOut, n), o.out(dX, n), n);
        }
    }

    @Override
    public synchronized void add(Tensor a, Tensor b, Tensor out, long n) {
        BackendChecks.add(a, b, out, n);
        if (n == 0) return;
        try (Operands o = operands.begin()) {
            launchElementwise(addKernel, n, o.in(a, n), o.in(b, n), o.out(out, n), n);
        }
    }

    @Override
    public synchronized void scale(Tensor t, float factor, long n) {
        TrainingChecks.elements(t, n);
        if (n == 0) return;
        try (Operands o = operands.begin()) {
            launchElementwise(scaleKernel, n, o.inOut(t, n), factor, n);
        }
    }

    @Override
    public synchronized void zero(Tensor t, long n) {
        TrainingChecks.elements(t, n);
        if (n == 0) return;
        try (Operands o = operands.begin()) {
            zeroDevice(o.out(t, n), n);
        }
    }

    private void zeroDevice(long p, long n) {
        if (n > 0) launchElementwise(zeroKernel, n, p, n);
    }

    @Override
    public synchronized void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, long n, double lr, double beta1,
                                       double beta2, double eps, double weightDecay, long step) {
        TrainingChecks.adamwStep(param, grad, m, v, n, step);
        if (n == 0) return;
        // The CPU backend's float arithmetic, with the same constants computed in double here.
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float decay = (float) (1 - lr * weightDecay), stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        try (Operands o = operands.begin()) {
            launchElementwise(adamw, n, o.inOut(param, n), o.in(grad, n), o.inOut(m, n), o.inOut(v, n), n, decay,
                    stepSize, invSqrtBc2, (float) eps, (float) beta1, (float) beta2, (float) (1 - beta1),
                    (float) (1 - beta2));
        }
    }

    @Override
    public synchronized double sumOfSquares(Tensor t, long n) {
        TrainingChecks.elements(t, n);
        if (n == 0) return 0;
        long result = deviceResult.get(Double.BYTES);
        try (Operands o = operands.begin()) {
            long p = o.in(t, n);
            context.memset0(result, Double.BYTES);
            sumOfSquaresKernel.launch((int) Math.min((n + THREADS - 1) / THREADS, 1024), 1, 1, THREADS, 1, 1, 0,
                    p, n, result);
        }
        context.copyDtoH(hostResult, result, Double.BYTES);
        return hostResult.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    // ---- embeddings, pooling, normalisation ----

    @Override
    public synchronized void embeddings(int[] ids, int[] typeIds, Tensor word, Tensor position, Tensor tokenType,
                                        Tensor out, int batch, int seq, int hidden) {
        BackendChecks.embeddings(ids, typeIds, word, position, tokenType, out, batch, seq, hidden);
        int tokens = Math.multiplyExact(batch, seq);
        if ((long) tokens * hidden == 0) return;
        try (Operands o = operands.begin()) {
            long pIds = o.ints(ids, tokens), pTypes = typeIds == null ? 0 : o.ints(typeIds, tokens);
            long pw = o.in(word, word.size()), pp = position == null ? 0 : o.in(position, (long) seq * hidden);
            long pt = o.in(tokenType, typeIds == null ? hidden : tokenType.size());
            long pOut = o.out(out, (long) tokens * hidden);
            embeddingsForward.launch(tokens, 1, 1, 128, 1, 1, 0, pIds, pTypes, pw, pp, pt, pOut, seq, hidden);
        }
    }

    @Override
    public synchronized void embeddingsBackward(int[] ids, int[] typeIds, Tensor dOut, Tensor dWord, Tensor dPosition,
                                                Tensor dTokenType, int batch, int seq, int hidden) {
        TrainingChecks.embeddingsBackward(ids, typeIds, dOut, dWord, dPosition, dTokenType, batch, seq, hidden);
        int tokens = Math.multiplyExact(batch, seq);
        if ((long) tokens * hidden == 0) return;
        try (Operands o = operands.begin()) {
            long pIds = o.ints(ids, tokens), pTypes = typeIds == null ? 0 : o.ints(typeIds, tokens);
            long pd = o.in(dOut, (long) tokens * hidden);
            long pw = o.inOut(dWord, dWord.size()), pp = dPosition == null ? 0 : o.inOut(dPosition, (long) seq * hidden);
            long pt = o.inOut(dTokenType, typeIds == null ? hidden : dTokenType.size());
            embeddingsBackward.launch(tokens, 1, 1, 128, 1, 1, 0, pIds, pTypes, pd, pw, pp, pt, seq, hidden);
        }
    }

    @Override
    public synchronized void meanPool(Tensor x, Tensor mask, Tensor out, int batch, int seq, int dim) {
        BackendChecks.meanPool(x, mask, out, batch, seq, dim);
        if ((long) batch * dim == 0) return;
        try (Operands o = operands.begin()) {
            long px = o.in(x, (long) batch * seq * dim), pm = o.in(mask, (long) batch * seq);
            long pOut = o.out(out, (long) batch * dim);
            for (int b0 = 0; b0 < batch; b0 += MAX_GRID_Y) { // grid y is the batch, at most 65535 per launch
                int nb = Math.min(MAX_GRID_Y, batch - b0);
                meanPoolForward.launch((int) ((dim + 127L) / 128), nb, 1, 128, 1, 1, 0,
                        px + (long) b0 * seq * dim * Float.BYTES, pm + (long) b0 * seq * Float.BYTES,
                        pOut + (long) b0 * dim * Float.BYTES, seq, dim);
            }
        }
    }

    @Override
    public synchronized void meanPoolBackward(Tensor dOut, Tensor mask, Tensor dX, int batch, int seq, int dim) {
        TrainingChecks.meanPoolBackward(dOut, mask, dX, batch, seq, dim);
        if ((long) batch * seq * dim == 0) return;
        try (Operands o = operands.begin()) {
            long pd = o.in(dOut, (long) batch * dim), pm = o.in(mask, (long) batch * seq);
            long pdx = o.out(dX, (long) batch * seq * dim);
            for (int b0 = 0; b0 < batch; b0 += MAX_GRID_Y) { // grid y is the batch, as in meanPool
                int nb = Math.min(MAX_GRID_Y, batch - b0);
                meanPoolBackwardKernel.launch(seq, nb, 1, 128, 1, 1, 0, pd + (long) b0 * dim * Float.BYTES,
                        pm + (long) b0 * seq * Float.BYTES, pdx + (long) b0 * seq * dim * Float.BYTES, seq, dim);
            }
        }
    }

    @Override
    public synchronized void l2Normalize(Tensor x, int rows, int dim) {
        BackendChecks.l2Normalize(x, rows, dim);
        long size = (long) rows * dim;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            l2NormalizeKernel.launch(rowBlocks(rows), 1, 1, THREADS, 1, 1, 0, o.inOut(x, size), rows, dim);
        }
    }

    @Override
    public synchronized void l2NormalizeBackward(Tensor x, Tensor dOut, Tensor dX, int rows, int dim) {
        TrainingChecks.l2NormalizeBackward(x, dOut, dX, rows, dim);
        long size = (long) rows * dim;
        if (size == 0) return;
        try (Operands o = operands.begin()) {
            l2NormalizeBackwardKernel.launch(rowBlocks(rows), 1, 1, THREADS, 1, 1, 0, o.in(x, size), o.in(dOut, size),
                    o.out(dX, size), rows, dim);
        }
    }

    @Override
    public synchronized void matmulBackward(Tensor dOut, Tensor x, Tensor w, Tensor dX, Tensor dW, Tensor dBias,
                                            int m, int n, int k) {
        TrainingChecks.matmulBackward(dOut, x, w, dX, dW, dBias, m, n, k);
        try (Operands o = operands.begin()) {
            long pd = o.in(dOut, (long) m * n), px = o.in(x, (long) m * k), pw = o.in(w, (long) n * k);
            long pdw = o.inOut(dW, (long) n * k), pdx = dX == null ? 0 : o.out(dX, (long) m * k);
            if (m > 0 && n > 0 && k > 0) products.linearBackward(pd, px, pw, pdx, pdw, m, n, k);
            else if (pdx != 0 && n == 0) zeroDevice(pdx, (long) m * k); // an empty sum; dW gets nothing
            if (dBias != null) columnSumsDevice(pd, 0, o.inOut(dBias, n), m, n);
        }
    }

    // ---- launching ----

    /** A grid-stride kernel over {@code n} elements: enough blocks of 256 threads, at most 65536. */
    private static void launchElementwise(CudaKernel kernel, long n, Object... args) {
        kernel.launch(blocks(n), 1, 1, THREADS, 1, 1, 0, args);
    }

    private static int blocks(long n) {
        return (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, MAX_BLOCKS));
    }

    /** Blocks for a warp-per-row kernel: 8 rows per block of 256 threads. */
    private static int rowBlocks(long rows) {
        return Math.toIntExact((rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK);
    }

    /** A device buffer that grows to the largest request and is then reused. */
    private final class Workspace {
        private long data, capacity;

        long get(long bytes) {
            if (bytes > capacity) {
                context.synchronize(); // work issued earlier may still use the old buffer
                context.free(data);
                data = 0;
                capacity = 0;
                long size = Math.max(1 << 16, Long.highestOneBit(bytes - 1) << 1);
                data = context.malloc(size);
                capacity = size;
            }
            return data;
        }

        void release() {
            context.free(data);
            data = 0;
            capacity = 0;
        }
    }

    /** Waits for the stream, frees every device buffer, the kernels, cuBLAS, and the context when this backend opened it. */
    @Override
    public synchronized void close() {
        if (closed) return;
        try {
            context.synchronize();
            operands.release();
            for (Workspace w : new Workspace[]{scores, gradScores, bf16Activation, deviceResult}) w.release();
            blas.close();
            module.close();
        } finally {
            closed = true;
            arena.close();
            if (ownsContext) context.close();
        }
    }
}
