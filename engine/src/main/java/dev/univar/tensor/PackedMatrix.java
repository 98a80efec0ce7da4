package dev.univar.tensor;

/**
 * The right-hand operand of {@link Backend#linear}, laid out once by {@link Backend#pack} for many products: the
 * encoder's weight matrices. It is a snapshot: changing the source tensor afterwards (a training step) does not
 * change it; pack again. Only the backend that made it can use it.
 */
public interface PackedMatrix extends AutoCloseable {

    /** n: columns of {@code op(b)} (output features). */
    int n();

    /** k: rows of {@code op(b)} (input features). */
    int k();

    /** Frees what the packed copy holds outside the heap, if anything; the matrix may not be used afterwards. */
    @Override
    default void close() {
    }
}
