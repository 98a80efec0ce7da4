package dev.univar.cuda;

import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The device addresses of one operation's tensors. A tensor the backend made ({@link CudaContext#allocManaged}
 * memory) is used in place; any other is copied through a reused pinned buffer into a reused device buffer before
 * the operation's kernels run (inputs) and back once they ran (outputs), so an operation on plain host tensors is
 * correct, only slower. The two buffers grow to the largest operation seen and are then kept: no allocation per
 * call in the steady state.
 *
 * <p>Use: {@link #begin()}, then {@link #in}, {@link #out}, {@link #inOut}, {@link #ints} for each operand, issue
 * the work, {@link #close()}. Within one operation every host operand gets a region of its own, so an output that
 * aliases an input on the host (layer norm in place, say) is still computed from the old values.
 *
 * <p>Not thread-safe: the backend runs one operation at a time.
 */
final class Operands implements AutoCloseable {
    private static final long ALIGN = 256, MIN_CAPACITY = 1 << 20;

    private record Block(long device, MemorySegment pinned, Arena arena, long capacity) {
    }

    private record Download(Tensor target, long device, MemorySegment pinned, long bytes) {
    }

    private final CudaContext context;
    /**
     * Wait for every operation's work before it returns. Needed where the device lacks concurrent managed access
     * (no HMM/ATS, some virtualised GPUs): there the host touching any managed page while any kernel runs is a
     * segmentation fault, i.e. a JVM crash, and the backend lets the host use its tensors between operations.
     */
    private final boolean synchronous;
    private Block main;
    /** Blocks made for one call that did not fit {@link #main}; freed when it ends, and {@link #main} grown. */
    private final List<Block> overflow = new ArrayList<>();
    private final List<Download> downloads = new ArrayList<>();
    private long used, wanted;
    /** Copies out of a pinned buffer were issued and the stream may not have done them yet. */
    private boolean uploadsInFlight;
    /** {@link #uploadsInFlight} of earlier operations, as this one began: their pinned regions may be reused now. */
    private boolean earlierUploadsInFlight;

    Operands(CudaContext context, boolean synchronous) {
        this.context = context;
        this.synchronous = synchronous;
    }

    /** Starts an operation: every region of the last one may be reused. */
    Operands begin() {
        used = 0;
        wanted = 0;
        downloads.clear();
        earlierUploadsInFlight = uploadsInFlight;
        return this;
    }

    /** The address of the first {@code elements} floats of input {@code t} on the device. */
    long in(Tensor t, long elements) {
        if (onDevice(t)) return t.data().address();
        return upload(t, elements);
    }

    /** The address where the operation writes the first {@code elements} floats of output {@code t}. */
    long out(Tensor t, long elements) {
        if (onDevice(t)) return t.data().address();
        long bytes = elements * Float.BYTES;
        if (bytes == 0) return 0;
        Region r = region(bytes);
        downloads.add(new Download(t, r.device, r.pinned, bytes));
        return r.device;
    }

    /** {@link #in} and {@link #out} at once: an accumulator, or a tensor updated in place. */
    long inOut(Tensor t, long elements) {
        if (onDevice(t)) return t.data().address();
        long device = upload(t, elements);
        if (device != 0) {
            long bytes = elements * Float.BYTES;
            downloads.add(new Download(t, device, pinnedFor(device), bytes));
        }
        return device;
    }

    /** The first {@code count} ints of {@code values} (token ids) on the device; 0 for none. */
    long ints(int[] values, int count) {
        long bytes = (long) count * Integer.BYTES;
        if (bytes == 0) return 0;
        Region r = region(bytes);
        MemorySegment.copy(values, 0, r.pinned, ValueLayout.JAVA_INT, 0, count);
        context.copyHtoDAsync(r.device, r.pinned, bytes);
        uploadsInFlight = true;
        return r.device;
    }

    private boolean onDevice(Tensor t) {
        return context.isDeviceAccessible(t.data());
    }

    private long upload(Tensor t, long elements) {
        long bytes = elements * Float.BYTES;
        if (bytes == 0) return 0;
        Region r = region(bytes);
        MemorySegment.copy(t.data(), 0, r.pinned, 0, bytes);
        context.copyHtoDAsync(r.device, r.pinned, bytes);
        uploadsInFlight = true;
        return r.device;
    }

    private record Region(long device, MemorySegment pinned) {
    }

    /** A fresh device region and its pinned twin, both at least {@code bytes} long. */
    private Region region(long bytes) {
        // The host is about to write a pinned region an earlier operation may still be copying from. (Regions of this
        // operation are all distinct, so its own uploads need no wait.)
        if (earlierUploadsInFlight) {
            context.synchronize();
            earlierUploadsInFlight = false;
        }
        long size = (bytes + ALIGN - 1) / ALIGN * ALIGN;
        wanted += size;
        if (main != null && used + size <= main.capacity) {
            long offset = used;
            used += size;
            return new Region(main.device + offset, main.pinned.asSlice(offset, bytes));
        }
        Block b = allocate(size);
        overflow.add(b);
        return new Region(b.device, b.pinned.asSlice(0, bytes));
    }

    /** The pinned twin of a device address handed out by this operation. */
    private MemorySegment pinnedFor(long device) {
        if (main != null && device >= main.device && device < main.device + main.capacity)
            return main.pinned.asSlice(device - main.device);
        for (Block b : overflow)
            if (device >= b.device && device < b.device + b.capacity) return b.pinned.asSlice(device - b.device);
        throw new IllegalStateException("not a staging address: " + device);
    }

    private Block allocate(long capacity) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment pinned = context.allocPinned(capacity, arena);
            long device = context.malloc(capacity);
            return new Block(device, pinned, arena, capacity);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private void free(Block b) {
        context.free(b.device);
        b.arena.close();
    }

    /** Ends the operation: copies its outputs back to their host tensors (waiting for it), grows the buffers if needed. */
    @Override
    public void close() {
        if (downloads.isEmpty() && overflow.isEmpty()) { // nothing to wait for: the work stays queued
            if (synchronous) {
                context.synchronize();
                uploadsInFlight = false;
            }
            return;
        }
        for (Download d : downloads) context.copyDtoHAsync(d.pinned, d.device, d.bytes);
        context.synchronize();
        uploadsInFlight = false;
        for (Download d : downloads) MemorySegment.copy(d.pinned, 0, d.target.data(), 0, d.bytes);
        downloads.clear();
        if (!overflow.isEmpty()) {
            overflow.forEach(this::free);
            overflow.clear();
            if (main != null) free(main);
            main = null;
            main = allocate(Math.max(MIN_CAPACITY, Long.highestOneBit(wanted - 1) << 1));
        }
    }

    /** Frees both buffers (after the stream is done with them). */
    void release() {
        context.synchronize();
        overflow.forEach(this::free);
        overflow.clear();
        if (main != null) free(main);
        main = null;
    }
}
