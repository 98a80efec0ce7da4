package dev.univar;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code ../shared/data} for tests; tests that need it are skipped where it is absent (a user's clone). */
public final class SharedData {
    private SharedData() {
    }

    /** The shared data folder, or a skipped test when it is not there. */
    public static Path dir() {
        String configured = System.getProperty("univar.shared.data");
        Path p = configured != null ? Path.of(configured) : Path.of("..", "..", "shared", "data");
        Assumptions.assumeTrue(Files.isDirectory(p), "shared data not found at " + p.toAbsolutePath() + "; skipping");
        return p.toAbsolutePath().normalize();
    }
}
