/**
 * The CUDA runtime layer the CUDA backend is written on: a device context with one stream
 * ({@link dev.univar.cuda.CudaContext}: memory, copies, managed and pinned segments, event timing), PTX modules and
 * kernel launches ({@link dev.univar.cuda.CudaModule}, {@link dev.univar.cuda.CudaKernel}), and cuBLAS GEMMs
 * ({@link dev.univar.cuda.Cublas}), over the FFM bindings in {@code dev.univar.bindings.cuda}.
 *
 * <p>Device pointers are {@code long}s; host memory is {@link java.lang.foreign.MemorySegment}s. All work goes to the
 * context's one non-blocking stream, so it runs in the order it was issued; the synchronous copies wait for that
 * stream. Every public method makes the context current on the calling thread first, so any thread may call it.
 * A machine without a usable driver, device or cuBLAS gives {@link dev.univar.cuda.CudaUnavailableException}, whose
 * message is meant for users as it is; a failing CUDA call gives {@link dev.univar.cuda.CudaException}.
 */
package dev.univar.cuda;
