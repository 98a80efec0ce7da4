package dev.univar.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads the native libraries that the build put into this jar as resources
 * ({@code native/<os>-<arch>/lib<name>.so}), so that the jextract-shaped header classes, which look their
 * symbols up in their class loader's libraries, find them without any JVM flag.
 *
 * <p>A library is copied once to {@code $UNIVAR_HOME/native/<sha-256 of its bytes>/} (the JVM can only
 * {@code dlopen} a file) and loaded from there; the content-hash folder means a rebuilt library never
 * collides with an older copy another process still has mapped. The system property
 * {@code univar.native.<name>} (e.g. {@code -Dunivar.native.univar_spm=/path/libunivar_spm.so}) loads a
 * given file instead.
 */
public final class NativeLibraries {
    private static final Map<String, Path> LOADED = new ConcurrentHashMap<>();

    private NativeLibraries() {
    }

    /** Thrown when a library is not in this build or cannot be loaded; the message says what to install. */
    public static final class UnavailableException extends RuntimeException {
        public UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The resource folder of this platform, e.g. {@code native/linux-x86_64}. */
    public static String platformFolder() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) os = "linux";
        else if (os.startsWith("mac")) os = "macos";
        else if (os.startsWith("windows")) os = "windows";
        if (arch.equals("amd64") || arch.equals("x86_64")) arch = "x86_64";
        else if (arch.equals("arm64") || arch.equals("aarch64")) arch = "aarch64";
        return "native/" + os + "-" + arch;
    }

    /**
     * Loads {@code lib<name>.so} once per JVM and returns the file loaded.
     *
     * @param missingHint what to tell the user when the library is absent or its dependencies are, e.g.
     *                    which package to install before rebuilding
     */
    public static synchronized Path load(String name, String missingHint) {
        Path done = LOADED.get(name);
        if (done != null) return done;
        Path file = locate(name, missingHint);
        try {
            System.load(file.toString());
        } catch (UnsatisfiedLinkError e) {
            // Typically a dependency (e.g. libsentencepiece.so.0) missing on this machine.
            throw new UnavailableException("cannot load " + file + ": " + e.getMessage() + "; " + missingHint, e);
        }
        LOADED.put(name, file);
        return file;
    }

    private static Path locate(String name, String missingHint) {
        String configured = System.getProperty("univar.native." + name);
        if (configured != null) {
            Path p = Path.of(configured);
            if (!Files.isRegularFile(p))
                throw new UnavailableException("univar.native." + name + " names " + p + ", which is not a file", null);
            return p;
        }
        String fileName = System.mapLibraryName(name);
        String resource = platformFolder() + "/" + fileName;
        byte[] bytes;
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null)
                throw new UnavailableException(fileName + " is not part of this build (no resource " + resource
                        + "): " + missingHint, null);
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UnavailableException("cannot read resource " + resource + ": " + e.getMessage(), e);
        }
        Path dir = home().resolve("native").resolve(sha256(bytes).substring(0, 16));
        Path target = dir.resolve(fileName);
        try {
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return target;
            Files.createDirectories(dir);
            // Write beside, then rename: a concurrent process either sees no file or the whole one.
            Path tmp = Files.createTempFile(dir, "." + fileName, ".partial");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new UnavailableException("cannot extract " + fileName + " to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** As the engine's model store: property {@code univar.home}, else {@code $UNIVAR_HOME}, else ~/.cache/univar. */
    private static Path home() {
        String property = System.getProperty("univar.home");
        if (property != null && !property.isBlank()) return Path.of(property);
        String env = System.getenv("UNIVAR_HOME");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "univar");
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is required of every JDK", e);
        }
    }
}
