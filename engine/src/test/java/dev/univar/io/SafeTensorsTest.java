package dev.univar.io;

import dev.univar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripF32() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("b", Tensor.of(arena, new float[]{1, -2, 3.5f, Float.MIN_VALUE, Float.NaN, 1e30f}, 2, 3));
            in.put("a.scalar", Tensor.of(arena, new float[]{42}));
            in.put("z", Tensor.of(arena, new float[]{7, 8, 9}, 3));
            SafeTensors.write(file, in, Map.of("format", "pt"));
        }
        byte[] bytes = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLen % 8, "header padded to a multiple of 8");
        assertTrue(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8).startsWith("{"));
        try (var dirList = Files.list(dir)) {
            assertEquals(List.of(file), dirList.toList(), "no temporary file left behind");
        }

        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(List.of("b", "a.scalar", "z"), List.copyOf(st.names()));
            assertEquals(Map.of("format", "pt"), st.metadata());
            Tensor b = st.tensor("b");
            assertArrayEquals(new int[]{2, 3}, b.shape());
            assertArrayEquals(new float[]{1, -2, 3.5f, Float.MIN_VALUE, Float.NaN, 1e30f}, b.toArray());
            assertEquals(0, b.data().address() % 4);
            Tensor s = st.tensor("a.scalar");
            assertEquals(0, s.rank());
            assertEquals(42f, s.get(0));
            assertArrayEquals(new float[]{7, 8, 9}, st.tensor("z").toArray());
            assertEquals(SafeTensors.DType.F32, st.entry("z").dtype());
        }
    }

    @Test
    void overwritesAtomically() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.write(file, Map.of("x", Tensor.of(arena, new float[]{1}, 1)), Map.of());
            SafeTensors.write(file, Map.of("y", Tensor.of(arena, new float[]{2, 3}, 2)), null);
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(List.of("y"), List.copyOf(st.names()));
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void readsF16AndBf16() throws IOException {
        // F16: 1.0, -2.0, 0.5, 65504 (max), +inf, smallest subnormal 2^-24
        short[] f16 = {0x3C00, (short) 0xC000, 0x3800, 0x7BFF, 0x7C00, 0x0001};
        float[] f16Values = {1f, -2f, 0.5f, 65504f, Float.POSITIVE_INFINITY, 0x1p-24f};
        // BF16: 1.0, -2.0, 3.140625, 1e-38-ish (0x006E), -0.0
        short[] bf16 = {0x3F80, (short) 0xC000, 0x4049, 0x006E, (short) 0x8000};
        float[] bf16Values = {1f, -2f, 3.140625f, Float.intBitsToFloat(0x006E0000), -0f};
        ByteBuffer data = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : f16) data.putShort(v);
        for (short v : bf16) data.putShort(v);
        Path file = rawFile("h.safetensors", """
                {"half":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},
                 "brain":{"dtype":"BF16","shape":[5],"data_offsets":[12,22]}}""", data.array());
        try (SafeTensors st = SafeTensors.open(file)) {
            Tensor h = st.tensor("half");
            assertArrayEquals(new int[]{2, 3}, h.shape());
            assertArrayEquals(f16Values, h.toArray());
            assertArrayEquals(bf16Values, st.tensor("brain").toArray());
        }
    }

    @Test
    void readsUnalignedF32ByCopying() throws IOException {
        // header of 3 bytes of padding less than a multiple of 4 puts the data at an odd offset
        String json = "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        while ((8 + json.length()) % 4 != 1) json += " ";
        ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-3f)
                .putFloat(1e-7f);
        try (SafeTensors st = SafeTensors.open(rawFile("u.safetensors", json, data.array()))) {
            Tensor t = st.tensor("t");
            assertEquals(0, t.data().address() % 4);
            assertArrayEquals(new float[]{1.5f, -3f, 1e-7f}, t.toArray());
        }
    }

    @Test
    void otherDtypesAreAnErrorNamingTensorAndDtype() throws IOException {
        Path file = rawFile("i.safetensors", "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
                new byte[16]);
        try (SafeTensors st = SafeTensors.open(file)) {
            var e = assertThrows(IllegalArgumentException.class, () -> st.tensor("ids"));
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("I64"), e.getMessage());
            var missing = assertThrows(IllegalArgumentException.class, () -> st.tensor("nope"));
            assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        }
    }

    @Test
    void truncatedFile() throws IOException {
        Path good = dir.resolve("good.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.write(good, Map.of("w", Tensor.of(arena, new float[]{1, 2, 3, 4}, 2, 2)), Map.of());
        }
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("cut.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertCorrupt(cut, "'w'", "outside the data section");
        Path tiny = Files.write(dir.resolve("tiny.safetensors"), new byte[]{1, 2, 3});
        assertCorrupt(tiny, "too short");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}      ".getBytes());
        assertCorrupt(Files.write(dir.resolve("long.safetensors"), b.array()), "header length 1000", "exceeds");
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5);
        assertCorrupt(Files.write(dir.resolve("neg.safetensors"), neg.array()), "header length -5");
    }

    @Test
    void offsetsOutOfRangeOverlappingOrInconsistent() throws IOException {
        assertCorrupt(rawFile("o1.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", new byte[8]),
                "'w'", "outside the data section");
        assertCorrupt(rawFile("o2.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", new byte[8]),
                "'w'", "outside");
        assertCorrupt(rawFile("o3.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
                "'w'", "needs 12");
        assertCorrupt(rawFile("o4.safetensors", """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                 "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]),
                "'a'", "'b'", "overlap");
        assertCorrupt(rawFile("o5.safetensors", "{\"w\":{\"dtype\":\"F33\",\"shape\":[],\"data_offsets\":[0,4]}}",
                new byte[4]), "unknown dtype");
        assertCorrupt(rawFile("o6.safetensors", "{\"w\": [1, 2", new byte[4]), "not valid JSON");
        assertCorrupt(rawFile("o7.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                new byte[4]), "bad dimension");
    }

    private void assertCorrupt(Path file, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> SafeTensors.open(file).close());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    private Path rawFile(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return Files.write(dir.resolve(name), b.array());
    }
}
