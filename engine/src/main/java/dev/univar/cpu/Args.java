package dev.univar.cpu;

import dev.univar.tensor.Tensor;

/** Argument checks shared by the CPU backends: a kernel must never read or write past a tensor. */
final class Args {

    private Args() {
    }

    static void nonNegative(long... dims) {
        for (long d : dims) if (d < 0) throw new IllegalArgumentException("negative dimension " + d);
    }

    /** {@code t} holds at least {@code elements} floats. */
    static void fits(String name, Tensor t, long elements) {
        if (t == null) throw new NullPointerException(name);
        if (t.size() < elements)
            throw new IllegalArgumentException(name + " " + t + " has " + t.size() + " elements, needs " + elements);
    }

    static void ids(String name, int[] ids, long count, int rows) {
        if (ids.length < count) throw new IllegalArgumentException(name + " has " + ids.length + " entries, needs " + count);
        for (int i = 0; i < count; i++)
            if (ids[i] < 0 || ids[i] >= rows)
                throw new IndexOutOfBoundsException(name + "[" + i + "] = " + ids[i] + " outside [0, " + rows + ")");
    }
}
