package dev.univar.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The PTX committed under {@code src/main/resources/dev/univar/cuda/} is what {@code native/cuda/build-ptx.sh} makes
 * of {@code univar_kernels.cu} now (comment lines aside: they carry the compiler's version banner), and it assembles
 * for its architecture. Skipped where there is no nvcc: machines without the CUDA toolkit run the committed files.
 */
class PtxUpToDateTest {

    private static final String[] ARCHES = {"sm_80", "sm_90"};
    private static final Path RESOURCES = Path.of("src/main/resources/dev/univar/cuda");
    private static final Path SCRIPT = Path.of("../native/cuda/build-ptx.sh");

    @Test
    void committedPtxMatchesTheKernelSource(@TempDir Path tmp) throws Exception {
        String log = run(List.of("bash", SCRIPT.toString(), tmp.toString()), "build-ptx.sh");
        Assumptions.assumeTrue(Files.exists(tmp.resolve("univar_kernels.sm_80.ptx")), () -> "no nvcc: skipped (" + log.strip() + ")");
        for (String arch : ARCHES) {
            String file = "univar_kernels." + arch + ".ptx";
            List<String> committed = Files.readAllLines(RESOURCES.resolve(file), StandardCharsets.UTF_8);
            List<String> fresh = Files.readAllLines(tmp.resolve(file), StandardCharsets.UTF_8);
            String was = release(committed), now = release(fresh);
            Assumptions.assumeTrue(was.equals(now), () -> file + " was made by nvcc " + was + ", this machine has " + now
                    + ": PTX of different compilers differs, so not compared (regenerate with native/cuda/build-ptx.sh)");
            List<String> was0 = code(committed), now0 = code(fresh);
            for (int i = 0; i < Math.max(was0.size(), now0.size()); i++) {
                String c = i < was0.size() ? was0.get(i) : "(end)", f = i < now0.size() ? now0.get(i) : "(end)";
                if (!c.equals(f))
                    fail(file + " is stale (first difference at code line " + (i + 1) + ": committed '" + c.strip()
                            + "', compiled now '" + f.strip() + "'): run native/cuda/build-ptx.sh and commit the result");
            }
        }
    }

    @Test
    void committedPtxAssembles() throws Exception {
        Path ptxas = findPtxas();
        Assumptions.assumeTrue(ptxas != null, "no ptxas (CUDA toolkit): skipped");
        for (String arch : ARCHES) {
            Path file = RESOURCES.resolve("univar_kernels." + arch + ".ptx");
            assertTrue(Files.isRegularFile(file), file + " is missing");
            run(List.of(ptxas.toString(), "-arch=" + arch, "-o", "/dev/null", file.toString()), "ptxas " + file);
        }
    }

    @Test
    void everyKernelTheBackendLoadsIsInThePtx() throws IOException {
        String backend = Files.readString(Path.of("src/main/java/dev/univar/cuda/CudaBackend.java"), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("module\\.function\\(\"(\\w+)\"\\)").matcher(backend);
        List<String> names = new ArrayList<>();
        while (m.find()) names.add(m.group(1));
        assertTrue(names.size() >= 20, "kernels found in CudaBackend.java: " + names);
        for (String arch : ARCHES) {
            String ptx = Files.readString(RESOURCES.resolve("univar_kernels." + arch + ".ptx"), StandardCharsets.UTF_8);
            for (String name : names)
                assertTrue(ptx.contains(".visible .entry " + name + "("), name + " is not a kernel of the " + arch + " PTX");
        }
    }

    /** The lines that are not {@code //} comments (nvcc's banner names its build, which changes between installs). */
    private static List<String> code(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String l : lines) if (!l.strip().startsWith("//")) out.add(l);
        return out;
    }

    /** "release 13.0" from the banner, or "unknown". */
    private static String release(List<String> lines) {
        for (String l : lines) {
            int i = l.indexOf("release ");
            if (l.startsWith("//") && i >= 0) return l.substring(i).split(",")[0].strip();
        }
        return "unknown";
    }

    private static Path findPtxas() {
        List<Path> candidates = new ArrayList<>();
        String nvcc = System.getenv("NVCC");
        if (nvcc != null && !nvcc.isBlank()) candidates.add(Path.of(nvcc).resolveSibling("ptxas"));
        String path = System.getenv("PATH");
        if (path != null) for (String dir : path.split(":")) if (!dir.isEmpty()) candidates.add(Path.of(dir, "ptxas"));
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) candidates.add(Path.of(cudaHome, "bin", "ptxas"));
        candidates.add(Path.of("/usr/local/cuda/bin/ptxas"));
        for (Path p : candidates) if (Files.isExecutable(p)) return p;
        return null;
    }

    /** Runs a command, failing the test with its output when it exits non-zero; returns the output. */
    private static String run(List<String> command, String what) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(what + " did not finish in 120 s");
        }
        if (p.exitValue() != 0) fail(what + " failed (exit " + p.exitValue() + "):\n" + out);
        return out;
    }
}
