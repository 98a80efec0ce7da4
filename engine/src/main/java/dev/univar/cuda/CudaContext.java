package dev.univar.cuda;

import dev.univar.bindings.NativeLibraries;
import dev.univar.bindings.cuda.CUmemLocation_st;
import dev.univar.bindings.cuda.CudaLibraries;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

import static dev.univar.bindings.cuda.cuda_h.*;
import static dev.univar.cuda.CudaException.check;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One CUDA device, its primary context and one non-blocking stream, on which everything of this layer runs in issue
 * order: copies, memsets, kernels ({@link CudaKernel}) and cuBLAS calls ({@link Cublas}).
 *
 * <p>A CUDA context is current per thread; every public method makes this one current on the calling thread first
 * (a thread-local check, so it is cheap when already current), so worker threads can use a context opened
 * elsewhere. Device memory is addressed by {@code long} pointers; host memory by {@link MemorySegment}s, which must be
 * native. The synchronous copies ({@link #copyHtoD}, {@link #copyDtoH}) are issued on the stream and then wait for
 * it, so they see the results of all earlier work (the driver's plain {@code cuMemcpy*} would run on the legacy
 * default stream, which a non-blocking stream does not wait for).
 *
 * <p>Managed memory ({@link #allocManaged}) is host-accessible at the same address the device uses; the context
 * remembers those ranges, so {@link #isDeviceAccessible} tells the backend whether a tensor's segment can be handed to
 * a kernel as it is or must be uploaded first.
 *
 * <p>Needs a driver for CUDA {@value #MIN_DRIVER_VERSION_TEXT} or later: the bindings use that driver API's symbols
 * ({@code cuEventElapsedTime_v2}, the {@code cuMemPrefetchAsync_v2} that takes a location) and the PTX that the CUDA
 * 13 compiler writes needs it to be JIT-compiled.
 */
public final class CudaContext implements AutoCloseable {
    /** The oldest driver API version accepted, as {@code cuDriverGetVersion} reports it (major·1000 + minor·10). */
    public static final int MIN_DRIVER_VERSION = 13000;
    static final String MIN_DRIVER_VERSION_TEXT = "13.0";

    private static final ThreadLocal<CudaContext> CURRENT = new ThreadLocal<>();
    private static int driverVersion;
    private static volatile Boolean available;

    private final Device device;
    private final int handle;
    private final MemorySegment context;
    private final MemorySegment stream;
    /** Managed allocations: start address to end address (exclusive). */
    private final NavigableMap<Long, Long> managed = new ConcurrentSkipListMap<>();
    private volatile boolean closed;
    private String description;

    /**
     * What {@link #open} found out about the device.
     *
     * @param totalMemory                  bytes of device memory
     * @param maxSharedMemoryPerBlockOptin the most dynamic shared memory a kernel can opt into per block
     *                                     ({@link CudaKernel#setMaxDynamicShared})
     * @param concurrentManagedAccess      whether host and device may touch managed memory concurrently (and
     *                                     prefetching applies)
     * @param driverVersion                e.g. 13000 for CUDA 13.0
     */
    public record Device(int ordinal, String name, int computeMajor, int computeMinor, int multiprocessors,
                         long totalMemory, int maxSharedMemoryPerBlockOptin, boolean concurrentManagedAccess,
                         int driverVersion) {
        /** E.g. 90 for compute capability 9.0. */
        public int computeCapability() {
            return computeMajor * 10 + computeMinor;
        }

        /** E.g. {@code NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.6 GiB, driver 13.0}. */
        public String describe() {
            return String.format(Locale.ROOT, "%s, sm_%d, %d SMs, %.1f GiB, driver %s", name, computeCapability(),
                    multiprocessors, totalMemory / (double) (1L << 30), versionText(driverVersion));
        }
    }

    private CudaContext(Device device, int handle, MemorySegment context, MemorySegment stream) {
        this.device = device;
        this.handle = handle;
        this.context = context;
        this.stream = stream;
    }

    /** Whether {@link #open open(0)} can work here: a driver loads, initialises, is recent enough and sees a device. */
    public static boolean available() {
        Boolean known = available;
        if (known == null) {
            try {
                known = initDriver() > 0;
            } catch (RuntimeException | LinkageError e) {
                known = false;
            }
            available = known;
        }
        return known;
    }

    /**
     * Opens device {@code ordinal}: loads the driver, {@code cuInit}, retains the device's primary context (the one
     * the CUDA runtime and so cuBLAS use), makes it current and creates a non-blocking stream.
     *
     * @throws CudaUnavailableException no driver, no such device, or a driver too old
     */
    public static CudaContext open(int ordinal) {
        int count = initDriver();
        if (ordinal < 0 || ordinal >= count)
            throw new CudaUnavailableException(count == 0 ? "no CUDA device found (the driver sees none)"
                    : "no CUDA device " + ordinal + " (this machine has " + count + ", numbered from 0)");
        int dev = Out.int32("cuDeviceGet", out -> cuDeviceGet(out, ordinal));
        String name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(256);
            check(cuDeviceGetName(buffer, 256, dev), "cuDeviceGetName");
            name = buffer.getString(0);
        }
        Device device = new Device(ordinal, name, attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR()),
                attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR()),
                attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT()),
                Out.int64("cuDeviceTotalMem_v2", out -> cuDeviceTotalMem_v2(out, dev)),
                attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN()),
                attribute(dev, CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS()) != 0, driverVersion);
        MemorySegment context = Out.pointer("cuDevicePrimaryCtxRetain", out -> cuDevicePrimaryCtxRetain(out, dev));
        try {
            check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            MemorySegment stream = Out.pointer("cuStreamCreate",
                    out -> cuStreamCreate(out, CU_STREAM_NON_BLOCKING()));
            CudaContext opened = new CudaContext(device, dev, context, stream);
            CURRENT.set(opened);
            return opened;
        } catch (RuntimeException e) {
            cuDevicePrimaryCtxRelease_v2(dev);
            throw e;
        }
    }

    /** Loads and initialises the driver once per JVM; returns the number of devices. */
    private static synchronized int initDriver() {
        if (driverVersion == 0) {
            try {
                CudaLibraries.loadDriver();
            } catch (NativeLibraries.UnavailableException e) {
                throw new CudaUnavailableException(e.getMessage(), e);
            }
            int init = cuInit(0);
            if (init != CUDA_SUCCESS())
                throw new CudaUnavailableException("no CUDA device usable: cuInit failed with "
                        + CudaException.describe(init) + " (driver " + CudaLibraries.loadedDriver().orElseThrow() + ")");
            int version = Out.int32("cuDriverGetVersion", out -> cuDriverGetVersion(out));
            if (version < MIN_DRIVER_VERSION)
                throw new CudaUnavailableException("the CUDA driver supports CUDA " + versionText(version)
                        + " only; univar's CUDA backend needs a driver for CUDA " + MIN_DRIVER_VERSION_TEXT
                        + " or later (NVIDIA driver 580 or later)");
            driverVersion = version;
        }
        return Out.int32("cuDeviceGetCount", out -> cuDeviceGetCount(out));
    }

    private static int attribute(int dev, int attribute) {
        return Out.int32("cuDeviceGetAttribute(" + attribute + ")", out -> cuDeviceGetAttribute(out, attribute, dev));
    }

    /** 13000 → "13.0". */
    static String versionText(int version) {
        return version / 1000 + "." + version % 1000 / 10;
    }

    /** The device this context runs on. */
    public Device device() {
        return device;
    }

    /**
     * One line for logs and {@code --help}: {@code NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.6 GiB, driver 13.0,
     * cuBLAS 13.0.2} (or {@code ..., no cuBLAS} when it cannot be loaded). Creates a cuBLAS handle once to ask.
     */
    public synchronized String describe() {
        if (description == null) {
            String cublas;
            try (Cublas blas = Cublas.create(this)) {
                cublas = "cuBLAS " + blas.versionText();
            } catch (CudaUnavailableException e) {
                cublas = "no cuBLAS";
            }
            description = device.describe() + ", " + cublas;
        }
        return description;
    }

    /** Makes this context current on the calling thread (cheap when it already is). */
    public void makeCurrent() {
        if (CURRENT.get() == this) return;
        if (closed) throw new IllegalStateException("CUDA context of " + device.name() + " is closed");
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        CURRENT.set(this);
    }

    /** The stream's {@code CUstream} handle, as a number (e.g. for {@code cublasSetStream} elsewhere). */
    public long stream() {
        return stream.address();
    }

    MemorySegment streamHandle() {
        return stream;
    }

    /** Waits until all work issued on the stream is done. */
    public void synchronize() {
        makeCurrent();
        check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** Free and total device memory, in bytes. */
    public record MemoryInfo(long free, long total) {
    }

    /** Free and total memory of the device now. */
    public MemoryInfo memoryInfo() {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG), total = arena.allocate(JAVA_LONG);
            check(cuMemGetInfo_v2(free, total), "cuMemGetInfo_v2");
            return new MemoryInfo(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0));
        }
    }

    // ---- memory ----

    /** Allocates {@code bytes} of device memory (uninitialised); 0 bytes gives the null pointer 0. */
    public long malloc(long bytes) {
        requireNonNegative(bytes);
        if (bytes == 0) return 0;
        makeCurrent();
        return Out.int64("cuMemAlloc_v2(" + bytes + " bytes)", out -> cuMemAlloc_v2(out, bytes));
    }

    /** Frees what {@link #malloc} returned; 0 is ignored. Waits for work that may still use it. */
    public void free(long ptr) {
        if (ptr == 0) return;
        makeCurrent();
        check(cuMemFree_v2(ptr), "cuMemFree_v2");
    }

    /**
     * Allocates {@code bytes} of managed memory, attached globally, zeroed on the device (so its pages are first
     * touched there), and returns it as a host segment of that size. Closing {@code arena} frees it (unless this
     * context was closed first, which releases it with the context). Waits for the stream, so the zeros are there
     * when this returns.
     */
    public MemorySegment allocManaged(long bytes, Arena arena) {
        requireNonNegative(bytes);
        if (bytes == 0) return MemorySegment.NULL.reinterpret(0, arena, null);
        makeCurrent();
        long ptr = Out.int64("cuMemAllocManaged(" + bytes + " bytes)",
                out -> cuMemAllocManaged(out, bytes, CU_MEM_ATTACH_GLOBAL()));
        try {
            check(cuMemsetD8Async(ptr, (byte) 0, bytes, stream), "cuMemsetD8Async");
            synchronize();
            MemorySegment segment = MemorySegment.ofAddress(ptr).reinterpret(bytes, arena, _ -> releaseManaged(ptr));
            managed.put(ptr, ptr + bytes);
            return segment;
        } catch (RuntimeException e) {
            cuMemFree_v2(ptr);
            throw e;
        }
    }

    private void releaseManaged(long ptr) {
        managed.remove(ptr);
        if (closed) return;
        makeCurrent();
        cuMemFree_v2(ptr); // an arena's cleanup cannot report failure usefully; the memory goes with the context
    }

    /**
     * Allocates {@code bytes} of page-locked host memory (fast and truly asynchronous copies), returned as a segment
     * that closing {@code arena} frees. The device could read it over the bus, but {@link #isDeviceAccessible} says no:
     * kernels should not.
     */
    public MemorySegment allocPinned(long bytes, Arena arena) {
        requireNonNegative(bytes);
        if (bytes == 0) return MemorySegment.NULL.reinterpret(0, arena, null);
        makeCurrent();
        MemorySegment host = Out.pointer("cuMemAllocHost_v2(" + bytes + " bytes)", out -> cuMemAllocHost_v2(out, bytes));
        return host.reinterpret(bytes, arena, _ -> {
            if (closed) return;
            makeCurrent();
            cuMemFreeHost(host);
        });
    }

    /** Whether {@code segment} lies wholly inside one managed allocation of this context. */
    public boolean isDeviceAccessible(MemorySegment segment) {
        if (!segment.isNative() || segment.address() == 0) return false;
        Map.Entry<Long, Long> range = managed.floorEntry(segment.address());
        return range != null && segment.address() + segment.byteSize() <= range.getValue();
    }

    /** Starts moving a managed segment's pages to the device (a no-op where the device lacks concurrent access). */
    public void prefetchToDevice(MemorySegment managedSegment) {
        prefetch(managedSegment, CU_MEM_LOCATION_TYPE_DEVICE(), handle);
    }

    /** Starts moving a managed segment's pages to host memory (a no-op where the device lacks concurrent access). */
    public void prefetchToHost(MemorySegment managedSegment) {
        prefetch(managedSegment, CU_MEM_LOCATION_TYPE_HOST(), 0);
    }

    private void prefetch(MemorySegment segment, int locationType, int id) {
        if (!isDeviceAccessible(segment))
            throw new IllegalArgumentException("not inside a managed allocation of this context: " + segment);
        if (!device.concurrentManagedAccess() || segment.byteSize() == 0) return;
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment location = CUmemLocation_st.allocate(arena);
            CUmemLocation_st.type(location, locationType);
            CUmemLocation_st.id(location, id);
            check(cuMemPrefetchAsync_v2(segment.address(), segment.byteSize(), location, 0, stream),
                    "cuMemPrefetchAsync_v2");
        }
    }

    // ---- copies ----

    /** Copies {@code bytes} from host {@code src} to device {@code dst}; returns when done (src may then change). */
    public void copyHtoD(long dst, MemorySegment src, long bytes) {
        copyHtoDAsync(dst, src, bytes);
        synchronize();
    }

    /** Copies {@code bytes} from device {@code src} to host {@code dst} after all earlier work; returns when done. */
    public void copyDtoH(MemorySegment dst, long src, long bytes) {
        copyDtoHAsync(dst, src, bytes);
        synchronize();
    }

    /**
     * Issues a host-to-device copy on the stream. {@code src} must stay alive and unchanged until the stream gets
     * there ({@link #synchronize}); only pinned memory makes the copy truly asynchronous.
     */
    public void copyHtoDAsync(long dst, MemorySegment src, long bytes) {
        if (requireHost(src, bytes) == 0) return;
        makeCurrent();
        check(cuMemcpyHtoDAsync_v2(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2(" + bytes + " bytes)");
    }

    /** Issues a device-to-host copy on the stream; {@code dst} holds the data after {@link #synchronize}. */
    public void copyDtoHAsync(MemorySegment dst, long src, long bytes) {
        if (requireHost(dst, bytes) == 0) return;
        makeCurrent();
        check(cuMemcpyDtoHAsync_v2(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2(" + bytes + " bytes)");
    }

    /** Issues a device-to-device copy on the stream (ordered with all other work; no wait). */
    public void copyDtoD(long dst, long src, long bytes) {
        requireNonNegative(bytes);
        if (bytes == 0) return;
        makeCurrent();
        check(cuMemcpyDtoDAsync_v2(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2(" + bytes + " bytes)");
    }

    /** Issues zeroing {@code bytes} of device (or managed) memory on the stream. */
    public void memset0(long ptr, long bytes) {
        requireNonNegative(bytes);
        if (bytes == 0) return;
        makeCurrent();
        check(cuMemsetD8Async(ptr, (byte) 0, bytes, stream), "cuMemsetD8Async(" + bytes + " bytes)");
    }

    // ---- timing ----

    /**
     * Runs {@code work} (which should issue work on this context's stream) between two events and returns the
     * device time between them in milliseconds; waits for the work to finish.
     */
    public float elapsedMs(Runnable work) {
        makeCurrent();
        MemorySegment start = Out.pointer("cuEventCreate", out -> cuEventCreate(out, CU_EVENT_DEFAULT()));
        MemorySegment end = null;
        try {
            end = Out.pointer("cuEventCreate", out -> cuEventCreate(out, CU_EVENT_DEFAULT()));
            check(cuEventRecord(start, stream), "cuEventRecord");
            work.run();
            makeCurrent();
            check(cuEventRecord(end, stream), "cuEventRecord");
            check(cuEventSynchronize(end), "cuEventSynchronize");
            MemorySegment from = start, to = end;
            return Out.float32("cuEventElapsedTime_v2", out -> cuEventElapsedTime_v2(out, from, to));
        } finally {
            cuEventDestroy_v2(start);
            if (end != null) cuEventDestroy_v2(end);
        }
    }

    /**
     * Waits for the stream, destroys it and releases the primary context. Managed and pinned segments whose arenas
     * are still open are released with the context; their arenas' later close does nothing. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        try {
            makeCurrent();
            check(cuStreamSynchronize(stream), "cuStreamSynchronize");
            check(cuStreamDestroy_v2(stream), "cuStreamDestroy_v2");
        } finally {
            closed = true;
            managed.clear();
            if (CURRENT.get() == this) CURRENT.remove();
            cuDevicePrimaryCtxRelease_v2(handle);
        }
    }

    private static void requireNonNegative(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative byte count: " + bytes);
    }

    private static long requireHost(MemorySegment host, long bytes) {
        requireNonNegative(bytes);
        if (!host.isNative()) throw new IllegalArgumentException("host memory must be a native segment: " + host);
        if (bytes > host.byteSize())
            throw new IllegalArgumentException(bytes + " bytes do not fit the segment of " + host.byteSize());
        return bytes;
    }
}
