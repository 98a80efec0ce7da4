package dev.univar;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The nomic-bert-tiny golden folder: a tiny NomicBERT, its config, and reference outputs of the official code (see its
 * README). Tests that need it are skipped where it is absent (a user's clone).
 */
public final class NomicTinyFiles {
    private NomicTinyFiles() {
    }

    /**
     * The folder, or a skipped test when it is not there: {@code ../shared/models/nomic-bert-tiny} from the repository
     * root (the build passes it as {@code univar.root}; without it, the module folder's parent).
     */
    public static Path dir() {
        Path root = Path.of(System.getProperty("univar.root", ".."));
        Path p = root.resolve(Path.of("..", "shared", "models", "nomic-bert-tiny"));
        Assumptions.assumeTrue(Files.isRegularFile(p.resolve("model.safetensors")),
                "nomic-bert-tiny not found at " + p.toAbsolutePath() + "; skipping");
        return p.toAbsolutePath().normalize();
    }

    /** A file of {@code golden/}. */
    public static Path golden(String name) {
        return dir().resolve("golden").resolve(name);
    }

    /** A float32 array of any shape, row-major. */
    public record Array(float[] data, int[] shape) {
        public int rows() {
            return shape[0];
        }

        public int cols() {
            return shape.length < 2 ? 1 : data.length / Math.max(1, shape[0]);
        }

        @Override
        public String toString() {
            return "Array" + Arrays.toString(shape);
        }
    }

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /** A NumPy {@code .npy} file of little-endian float32 ({@code <f4}), C order, format version 1, 2 or 3. */
    public static Array readNpy(Path file) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[6];
            b.get(magic);
            if (!new String(magic, java.nio.charset.StandardCharsets.ISO_8859_1).equals("\u0093NUMPY"))
                throw new IllegalArgumentException(file + " is not a .npy file");
            int major = b.get() & 0xff;
            b.get();
            int headerLen = major == 1 ? b.getShort() & 0xffff : b.getInt();
            byte[] h = new byte[headerLen];
            b.get(h);
            String header = new String(h, java.nio.charset.StandardCharsets.ISO_8859_1);
            Matcher descr = DESCR.matcher(header), order = ORDER.matcher(header), shape = SHAPE.matcher(header);
            if (!descr.find() || !descr.group(1).equals("<f4"))
                throw new IllegalArgumentException(file + ": only <f4 is read, header " + header);
            if (!order.find() || order.group(1).equals("True"))
                throw new IllegalArgumentException(file + ": Fortran order is not read");
            if (!shape.find()) throw new IllegalArgumentException(file + ": no shape in " + header);
            int[] dims = Arrays.stream(shape.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
                    .mapToInt(Integer::parseInt).toArray();
            long n = 1;
            for (int d : dims) n *= d;
            float[] data = new float[Math.toIntExact(n)];
            b.asFloatBuffer().get(data);
            return new Array(data, dims);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
