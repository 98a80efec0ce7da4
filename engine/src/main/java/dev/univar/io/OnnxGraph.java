package dev.univar.io;

import dev.univar.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX {@code GraphProto} the importer needs: nodes, initialisers and the graph's input and
 * output names. Field numbers follow onnx/onnx.proto (ModelProto.graph = 7; GraphProto node = 1,
 * initializer = 5, input = 11, output = 12; NodeProto input = 1, output = 2, name = 3, op_type = 4,
 * attribute = 5; AttributeProto name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, type = 20;
 * TensorProto dims = 1, data_type = 2, float_data = 4, int64_data = 7, name = 8, raw_data = 9,
 * external_data = 13, data_location = 14; ValueInfoProto name = 1).
 *
 * <p>Tensor payloads stay slices of the segment the model was read from: the caller keeps that alive.
 */
record OnnxGraph(List<Node> nodes, Map<String, OnnxTensor> initializers, List<String> inputs,
                 List<String> outputs) {

    /** TensorProto.DataType values this reader decodes. */
    static final int FLOAT = 1, INT32 = 6, INT64 = 7;

    record Node(String name, String opType, List<String> inputs, List<String> outputs,
                Map<String, Attribute> attributes) {
        String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        @Override
        public String toString() {
            return opType + " node '" + name + "'";
        }
    }

    /** An attribute; only the member matching its type is meaningful. */
    record Attribute(String name, int type, float f, long i, String s, OnnxTensor t, float[] floats, long[] ints) {
    }

    /**
     * A tensor as stored in the file. {@code raw} is little-endian raw_data (possibly unaligned), or null when
     * the values are in the typed fields {@code floatData} / {@code int64Data} instead.
     */
    record OnnxTensor(String name, int dataType, long[] dims, MemorySegment raw, float[] floatData,
                      long[] int64Data) {

        long elementCount() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        int[] shape() {
            int[] s = new int[dims.length];
            for (int k = 0; k < dims.length; k++) s[k] = Math.toIntExact(dims[k]);
            return s;
        }

        /** A float32 copy in {@code arena}; the copy also fixes alignment, as raw_data may start anywhere. */
        Tensor toFloatTensor(Arena arena) {
            if (dataType != FLOAT)
                throw new IllegalArgumentException("ONNX tensor '" + name + "' has data type " + dataType
                        + ", expected FLOAT (1)");
            Tensor t = Tensor.allocate(arena, shape());
            long n = elementCount();
            if (raw != null) {
                if (raw.byteSize() != n * Float.BYTES)
                    throw new IllegalArgumentException("ONNX tensor '" + name + "' has " + raw.byteSize()
                            + " bytes of raw_data for shape " + Arrays.toString(dims));
                MemorySegment.copy(raw, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0,
                        t.data(), ValueLayout.JAVA_FLOAT, 0, n);
            } else {
                if (floatData.length != n)
                    throw new IllegalArgumentException("ONNX tensor '" + name + "' has " + floatData.length
                            + " float_data values for shape " + Arrays.toString(dims));
                t.copyFrom(floatData);
            }
            return t;
        }

        /** Integer values (INT64 or INT32), e.g. of a shape constant. */
        long[] toLongs() {
            int n = Math.toIntExact(elementCount());
            if (raw != null) {
                long[] out = new long[n];
                for (int k = 0; k < n; k++) {
                    out[k] = switch (dataType) {
                        case INT64 -> raw.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                                k * 8L);
                        case INT32 -> raw.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                                k * 4L);
                        default -> throw new IllegalArgumentException("ONNX tensor '" + name + "' has data type "
                                + dataType + ", expected an integer type");
                    };
                }
                return out;
            }
            // int32 values live in int32_data (field 5), which this reader does not keep; int64 in int64_data
            if (dataType != INT64 || int64Data.length != n)
                throw new IllegalArgumentException("ONNX tensor '" + name + "': cannot read " + n
                        + " integer values of data type " + dataType);
            return int64Data.clone();
        }

        /** Float scalar value (FLOAT), e.g. an epsilon constant. */
        float scalarFloat() {
            if (dataType != FLOAT || elementCount() != 1)
                throw new IllegalArgumentException("ONNX tensor '" + name + "' is not a float scalar");
            return raw != null ? raw.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0)
                    : floatData[0];
        }
    }

    /** Parses a serialised ModelProto and returns its main graph. */
    static OnnxGraph parseModel(MemorySegment model) {
        ProtoReader r = new ProtoReader(model);
        OnnxGraph graph = null;
        while (r.next()) {
            if (r.field() == 7) graph = parseGraph(r.readMessage());
            else r.skip();
        }
        if (graph == null) throw new IllegalArgumentException("the ONNX model has no graph (ModelProto field 7)");
        return graph;
    }

    private static OnnxGraph parseGraph(ProtoReader r) {
        List<Node> nodes = new ArrayList<>();
        Map<String, OnnxTensor> inits = new LinkedHashMap<>();
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> nodes.add(parseNode(r.readMessage()));
                case 5 -> {
                    OnnxTensor t = parseTensor(r.readMessage());
                    if (inits.put(t.name(), t) != null)
                        throw new IllegalArgumentException("duplicate initializer '" + t.name() + "'");
                }
                case 11 -> inputs.add(valueInfoName(r.readMessage()));
                case 12 -> outputs.add(valueInfoName(r.readMessage()));
                default -> r.skip();
            }
        }
        return new OnnxGraph(List.copyOf(nodes), inits, List.copyOf(inputs), List.copyOf(outputs));
    }

    private static String valueInfoName(ProtoReader r) {
        String name = "";
        while (r.next()) {
            if (r.field() == 1) name = r.readString();
            else r.skip();
        }
        return name;
    }

    private static Node parseNode(ProtoReader r) {
        String name = "", op = "";
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        Map<String, Attribute> attrs = new HashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> in.add(r.readString());
                case 2 -> out.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> op = r.readString();
                case 5 -> {
                    Attribute a = parseAttribute(r.readMessage());
                    attrs.put(a.name(), a);
                }
                default -> r.skip();
            }
        }
        return new Node(name, op, List.copyOf(in), List.copyOf(out), Map.copyOf(attrs));
    }

    private static Attribute parseAttribute(ProtoReader r) {
        String name = "", s = null;
        int type = 0;
        float f = 0;
        long i = 0;
        OnnxTensor t = null;
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.readString();
                case 2 -> f = r.readFloat();
                case 3 -> i = r.readVarint();
                case 4 -> s = r.readString();
                case 5 -> t = parseTensor(r.readMessage());
                case 7 -> r.readFloats(floats);
                case 8 -> r.readInt64s(ints);
                case 20 -> type = (int) r.readVarint();
                default -> r.skip();
            }
        }
        return new Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray());
    }

    private static OnnxTensor parseTensor(ProtoReader r) {
        String name = "";
        int dataType = 0;
        ProtoReader.LongList dims = new ProtoReader.LongList(), int64 = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        MemorySegment raw = null;
        boolean external = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.readInt64s(dims);
                case 2 -> dataType = (int) r.readVarint();
                case 4 -> r.readFloats(floats);
                case 7 -> r.readInt64s(int64);
                case 8 -> name = r.readString();
                case 9 -> raw = r.readBytes();
                case 13 -> {
                    external = true;
                    r.skip();
                }
                case 14 -> external |= r.readVarint() == 1; // DataLocation.EXTERNAL
                default -> r.skip();
            }
        }
        if (external)
            throw new IllegalArgumentException("tensor '" + name + "' keeps its data in an external file, which is "
                    + "not supported: re-export the model with the weights inside the .onnx file");
        long[] d = dims.toArray();
        for (long x : d)
            if (x < 0 || x > Integer.MAX_VALUE)
                throw new IllegalArgumentException("tensor '" + name + "' has dimension " + x);
        return new OnnxTensor(name, dataType, d, raw, floats.toArray(), int64.toArray());
    }
}
