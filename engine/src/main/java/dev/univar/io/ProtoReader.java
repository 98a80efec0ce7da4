package dev.univar.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A minimal reader of the protobuf wire format over a {@link MemorySegment}.
 *
 * <p>Just enough to walk an ONNX {@code ModelProto} without a protobuf dependency: a message is a sequence of
 * (tag, value) pairs and this reader hands them out one at a time. Length-delimited values are returned as slices
 * of the underlying segment, so a 90 MB memory-mapped model is never copied to the heap.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment;
    private long pos;
    private int tag;

    ProtoReader(MemorySegment segment) {
        this.segment = segment;
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (pos >= segment.byteSize()) return false;
        long key = readVarint();
        if ((key >>> 3) == 0) throw error("field number 0");
        if (key >>> 32 != 0) throw error("tag " + key + " out of range");
        tag = (int) key;
        return true;
    }

    int field() {
        return tag >>> 3;
    }

    int wireType() {
        return tag & 7;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= segment.byteSize()) throw error("truncated varint");
            byte b = segment.get(ValueLayout.JAVA_BYTE, pos++);
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) return result;
        }
        throw error("varint longer than 10 bytes");
    }

    int readFixed32() {
        need(4);
        int v = segment.get(INT_LE, pos);
        pos += 4;
        return v;
    }

    long readFixed64() {
        need(8);
        long v = segment.get(LONG_LE, pos);
        pos += 8;
        return v;
    }

    float readFloat() {
        expect(FIXED32);
        return Float.intBitsToFloat(readFixed32());
    }

    /** The payload of a length-delimited field, as a slice of the underlying segment. */
    MemorySegment readBytes() {
        expect(LEN);
        long len = readVarint();
        if (len < 0) throw error("negative length");
        need(len);
        MemorySegment slice = segment.asSlice(pos, len);
        pos += len;
        return slice;
    }

    String readString() {
        MemorySegment bytes = readBytes();
        return new String(bytes.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    ProtoReader readMessage() {
        return new ProtoReader(readBytes());
    }

    /**
     * Reads a repeated int64 field element, or all of them when the field is packed: proto3 writers pack
     * repeated scalars, proto2 writers (and old ONNX exporters) do not, and a reader must accept both.
     */
    void readInt64s(LongList into) {
        if (wireType() == LEN) {
            ProtoReader packed = readMessage();
            while (packed.pos < packed.segment.byteSize()) into.add(packed.readVarint());
        } else {
            expect(VARINT);
            into.add(readVarint());
        }
    }

    /** Same as {@link #readInt64s} for repeated float (fixed32) fields. */
    void readFloats(FloatList into) {
        if (wireType() == LEN) {
            MemorySegment packed = readBytes();
            if (packed.byteSize() % 4 != 0) throw error("packed floats of " + packed.byteSize() + " bytes");
            for (long p = 0; p < packed.byteSize(); p += 4) into.add(Float.intBitsToFloat(packed.get(INT_LE, p)));
        } else {
            into.add(readFloat());
        }
    }

    /** Skips the value of the current field, whatever it is. */
    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> readFixed64();
            case LEN -> readBytes();
            case FIXED32 -> readFixed32();
            default -> throw error("unsupported wire type " + wireType() + " (field " + field() + ")");
        }
    }

    private void expect(int wireType) {
        if (wireType() != wireType)
            throw error("field " + field() + " has wire type " + wireType() + ", expected " + wireType);
    }

    private void need(long bytes) {
        if (pos + bytes > segment.byteSize())
            throw error("value of " + bytes + " bytes runs past the end of the enclosing message");
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("malformed protobuf at byte " + pos + " of a " + segment.byteSize()
                + "-byte message: " + what);
    }

    /** A growable long array, to avoid boxing dims and int64 data. */
    static final class LongList {
        private long[] values = new long[8];
        private int size;

        void add(long v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }

    /** A growable float array. */
    static final class FloatList {
        private float[] values = new float[8];
        private int size;

        void add(float v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
