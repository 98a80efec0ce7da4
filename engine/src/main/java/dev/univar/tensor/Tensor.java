package dev.univar.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense, row-major float32 tensor over an off-heap {@link MemorySegment}.
 *
 * <p>The segment is shared as is with the Vector API ({@code FloatVector.fromMemorySegment}) and with
 * native code through FFM, so nothing is copied on the way to a kernel. A tensor does not own its memory:
 * the {@link Arena} it was allocated in (or the mapped file it views) does.
 */
public record Tensor(MemorySegment data, int[] shape) {

    /** Byte alignment of every tensor this class allocates: one 512-bit vector, one cache line. */
    public static final long ALIGNMENT = 64;

    public Tensor {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n *= d;
        }
        if (data.byteSize() < n * Float.BYTES)
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is too small for shape "
                    + Arrays.toString(shape));
        shape = shape.clone();
    }

    /** A zero-filled tensor of the given shape in {@code arena}. */
    public static Tensor allocate(Arena arena, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return new Tensor(HugePages.allocate(arena, Math.max(1, n) * Float.BYTES, ALIGNMENT), shape);
    }

    /** A tensor holding a copy of {@code values}, in {@code arena}. */
    public static Tensor of(Arena arena, float[] values, int... shape) {
        Tensor t = allocate(arena, shape);
        if (t.size() != values.length)
            throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        MemorySegment.copy(values, 0, t.data, ValueLayout.JAVA_FLOAT, 0, values.length);
        return t;
    }

    /** Number of elements. */
    public long size() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public float get(long index) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT, index);
    }

    public void set(long index, float value) {
        data.setAtIndex(ValueLayout.JAVA_FLOAT, index, value);
    }

    /** The same memory seen with another shape of the same or smaller size. */
    public Tensor reshape(int... newShape) {
        return new Tensor(data, newShape);
    }

    /** Rows {@code [from, from + count)} along the first dimension, sharing memory. */
    public Tensor rows(int from, int count) {
        long rowElems = size() / Math.max(1, shape[0]);
        int[] s = shape.clone();
        s[0] = count;
        return new Tensor(data.asSlice(from * rowElems * Float.BYTES, count * rowElems * Float.BYTES), s);
    }

    public float[] toArray() {
        return data.asSlice(0, size() * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }

    public void copyFrom(float[] values) {
        if (values.length > size()) throw new IllegalArgumentException(values.length + " values > " + size());
        MemorySegment.copy(values, 0, data, ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    public void fill(float value) {
        for (long i = 0, n = size(); i < n; i++) set(i, value);
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
