package dev.univar.bindings.cuda;

import dev.univar.bindings.NativeLibraries.UnavailableException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds and loads the CUDA driver ({@code libcuda.so.1}) and cuBLAS ({@code libcublas.so.*}) with
 * {@code System.load}, so that {@link cuda_h} and {@link cublas_h}, which look their symbols up in their class
 * loader's libraries, find them. Neither library is part of univar: the driver comes with the NVIDIA driver,
 * cuBLAS with the CUDA toolkit or a Python wheel ({@code nvidia-cublas-cu12}, {@code nvidia-cublas} for CUDA 13).
 *
 * <p>Where the driver is looked for, in this order: the file named by {@code UNIVAR_CUDA_DRIVER} (only there, when
 * set), the system's dynamic loader by soname ({@code libcuda.so.1}, which honours {@code LD_LIBRARY_PATH} and
 * {@code ld.so.cache}), then {@link #DRIVER_FOLDERS}. cuBLAS: the file or folder named by {@code UNIVAR_CUBLAS}
 * (only there, when set), {@code $CUDA_HOME/lib64}, each {@code LD_LIBRARY_PATH} entry,
 * {@code /usr/local/cuda/lib64}, the system library folders, and the {@code nvidia/cublas/lib} (CUDA 12 wheels) and
 * {@code nvidia/cu13/lib} (CUDA 13 wheels) folders of Python installations ({@code site-packages} and
 * {@code dist-packages} under {@code /usr/lib/python3*}, {@code /usr/local/lib/python3*},
 * {@code ~/.local/lib/python3*}, {@code /opt/conda/lib/python3*}, {@code $VIRTUAL_ENV} and {@code $CONDA_PREFIX}).
 * In a folder the highest {@code libcublas.so.N} wins, and {@code libcublasLt.so.N} of the same folder is loaded
 * first, because libcublas needs it and that folder is usually not on the loader's path.
 *
 * <p>Failures throw {@link UnavailableException} whose message names every place tried; nothing here can crash the
 * JVM (a library is only loaded, never called).
 */
public final class CudaLibraries {
    /** The driver's soname. */
    public static final String DRIVER_SONAME = "libcuda.so.1";
    /** Folders searched for {@value #DRIVER_SONAME} after the dynamic loader. */
    public static final List<Path> DRIVER_FOLDERS = List.of(Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/usr/lib64"),
            Path.of("/usr/local/nvidia/lib64"), Path.of("/usr/lib/wsl/lib"));
    private static final List<Path> SYSTEM_LIBRARY_FOLDERS = List.of(Path.of("/usr/local/cuda/lib64"),
            Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/usr/lib64"));
    private static final Pattern CUBLAS_FILE = Pattern.compile("libcublas\\.so((?:\\.\\d+)*)");

    private static volatile Path driver;
    private static volatile Path cublas;

    private CudaLibraries() {
    }

    /** The driver file loaded so far, if any. */
    public static Optional<Path> loadedDriver() {
        return Optional.ofNullable(driver);
    }

    /** The cuBLAS file loaded so far, if any. */
    public static Optional<Path> loadedCublas() {
        return Optional.ofNullable(cublas);
    }

    /**
     * Loads the CUDA driver once per JVM and returns the file loaded.
     *
     * @throws UnavailableException {@code no CUDA driver found (...; tried: ...)}
     */
    public static synchronized Path loadDriver() {
        if (driver == null) driver = loadDriver(System.getenv());
        return driver;
    }

    /** {@link #loadDriver()} with the environment given and no memory of earlier calls, for tests. */
    static Path loadDriver(Map<String, String> env) {
        String configured = env.get("UNIVAR_CUDA_DRIVER");
        if (configured != null && !configured.isBlank()) {
            Path file = Path.of(configured.strip());
            String failure = load(file, "cuInit");
            if (failure != null)
                throw new UnavailableException("no CUDA driver found (UNIVAR_CUDA_DRIVER=" + file + ": " + failure
                        + "; tried only that file)", null);
            return file;
        }
        List<String> tried = new ArrayList<>();
        String viaLoader = DRIVER_SONAME + " through the dynamic loader";
        try {
            SymbolLookup.libraryLookup(DRIVER_SONAME, Arena.global());
            Path mapped = mappedFile("libcuda.so");
            String failure = mapped == null ? "opened, but not found in /proc/self/maps" : load(mapped, "cuInit");
            if (failure == null) return mapped;
            tried.add(viaLoader + " (" + failure + ")");
        } catch (IllegalArgumentException e) {
            tried.add(viaLoader + " (not found)");
        }
        for (Path folder : DRIVER_FOLDERS) {
            Path file = folder.resolve(DRIVER_SONAME);
            String failure = load(file, "cuInit");
            if (failure == null) return file;
            tried.add(file + " (" + failure + ")");
        }
        throw new UnavailableException("no CUDA driver found (" + DRIVER_SONAME + " not loadable; tried: "
                + String.join(", ", tried) + "; set UNIVAR_CUDA_DRIVER to the file)", null);
    }

    /**
     * Loads cuBLAS (and its libcublasLt) once per JVM and returns the libcublas file loaded.
     *
     * @throws UnavailableException {@code cuBLAS not found; tried: ... (set UNIVAR_CUBLAS to the file or folder)}
     */
    public static synchronized Path loadCublas() {
        if (cublas == null) cublas = loadCublas(System.getenv());
        return cublas;
    }

    /** {@link #loadCublas()} with the environment given and no memory of earlier calls, for tests. */
    static Path loadCublas(Map<String, String> env) {
        String hint = " (set UNIVAR_CUBLAS to the file or folder)";
        String configured = env.get("UNIVAR_CUBLAS");
        if (configured != null && !configured.isBlank()) {
            Path place = Path.of(configured.strip());
            List<String> tried = new ArrayList<>();
            Path loaded = Files.isDirectory(place) ? loadCublasFrom(place, tried) : loadCublasFile(place, tried);
            if (loaded != null) return loaded;
            throw new UnavailableException("cuBLAS not found; tried: UNIVAR_CUBLAS=" + String.join(", ", tried)
                    + "; tried only that" + hint, null);
        }
        List<String> tried = new ArrayList<>();
        for (Path folder : cublasFolders(env)) {
            Path loaded = loadCublasFrom(folder, tried);
            if (loaded != null) return loaded;
        }
        if (pythonCublasFolders(env).isEmpty())
            tried.add("Python packages (no site-packages/nvidia/cublas/lib or nvidia/cu13/lib under /usr/lib/python3*,"
                    + " /usr/local/lib/python3*, ~/.local/lib/python3*, /opt/conda/lib/python3*, $VIRTUAL_ENV,"
                    + " $CONDA_PREFIX)");
        throw new UnavailableException("cuBLAS not found; tried: " + String.join(", ", tried) + hint, null);
    }

    /** The folders {@link #loadCublas()} searches when {@code UNIVAR_CUBLAS} is not set, in order, without repeats. */
    static SequencedSet<Path> cublasFolders(Map<String, String> env) {
        SequencedSet<Path> folders = new LinkedHashSet<>();
        String cudaHome = env.get("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) folders.add(Path.of(cudaHome.strip(), "lib64"));
        String ldPath = env.get("LD_LIBRARY_PATH");
        if (ldPath != null)
            for (String entry : ldPath.split(":"))
                if (!entry.isBlank()) folders.add(Path.of(entry.strip()));
        folders.addAll(SYSTEM_LIBRARY_FOLDERS);
        folders.addAll(pythonCublasFolders(env));
        return folders;
    }

    /** {@code nvidia/cublas/lib} and {@code nvidia/cu13/lib} in every Python installation's package folders. */
    private static List<Path> pythonCublasFolders(Map<String, String> env) {
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        List<Path> libs = new ArrayList<>(List.of(Path.of("/usr/lib"), Path.of("/usr/local/lib"),
                Path.of(home, ".local", "lib"), Path.of("/opt/conda/lib")));
        for (String variable : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String prefix = env.get(variable);
            if (prefix != null && !prefix.isBlank()) libs.add(Path.of(prefix.strip(), "lib"));
        }
        List<Path> found = new ArrayList<>();
        for (Path lib : libs) {
            for (Path python : children(lib, name -> name.startsWith("python3"))) {
                for (String packages : List.of("site-packages", "dist-packages")) {
                    for (String wheel : List.of("nvidia/cublas/lib", "nvidia/cu13/lib")) {
                        Path folder = python.resolve(packages).resolve(wheel);
                        if (Files.isDirectory(folder)) found.add(folder);
                    }
                }
            }
        }
        return found;
    }

    /** Loads the best libcublas of {@code folder}; on failure adds what happened to {@code tried}, returns null. */
    private static Path loadCublasFrom(Path folder, List<String> tried) {
        if (!Files.isDirectory(folder)) {
            tried.add(folder + " (no such folder)");
            return null;
        }
        List<Path> files = children(folder, name -> CUBLAS_FILE.matcher(name).matches()).stream()
                .sorted((a, b) -> Arrays.compare(cublasVersion(b), cublasVersion(a))) // highest version first
                .toList();
        if (files.isEmpty()) {
            tried.add(folder + " (no libcublas.so*)");
            return null;
        }
        for (Path file : files) {
            Path loaded = loadCublasFile(file, tried);
            if (loaded != null) return loaded;
        }
        return null;
    }

    private static Path loadCublasFile(Path file, List<String> tried) {
        if (!Files.isRegularFile(file)) {
            tried.add(file + " (no such file)");
            return null;
        }
        // libcublas.so.13.0.2.14 -> libcublasLt.so.13: libcublas's DT_NEEDED entry, matched by soname once loaded.
        int[] version = cublasVersion(file);
        Path lt = file.resolveSibling(version.length == 0 ? "libcublasLt.so" : "libcublasLt.so." + version[0]);
        if (Files.isRegularFile(lt)) {
            String failure = load(lt, "cublasLtCreate");
            if (failure != null) {
                tried.add(lt + " (" + failure + ")");
                return null;
            }
        }
        String failure = load(file, "cublasCreate_v2");
        if (failure != null) {
            tried.add(file + " (" + failure + ")");
            return null;
        }
        return file;
    }

    private static int[] cublasVersion(Path file) {
        Matcher m = CUBLAS_FILE.matcher(file.getFileName().toString());
        if (!m.matches() || m.group(1).isEmpty()) return new int[0];
        return Stream.of(m.group(1).substring(1).split("\\.")).mapToInt(Integer::parseInt).toArray();
    }

    /**
     * Loads {@code file} with {@code System.load} after checking that it opens and exports {@code symbol}.
     *
     * @return null when loaded, else why not (for the message)
     */
    private static String load(Path file, String symbol) {
        if (!Files.isRegularFile(file)) return Files.exists(file) ? "not a file" : "no such file";
        Path absolute = file.toAbsolutePath();
        try {
            if (SymbolLookup.libraryLookup(absolute, Arena.global()).find(symbol).isEmpty())
                return "loads, but has no " + symbol;
            System.load(absolute.toString());
            return null;
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            return "cannot load: " + e.getMessage();
        }
    }

    /** The file of a library mapped into this process whose name starts with {@code prefix}, or null. */
    private static Path mappedFile(String prefix) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(line -> line.indexOf('/') < 0 ? null : Path.of(line.substring(line.indexOf('/')).strip()))
                    .filter(p -> p != null && p.getFileName().toString().startsWith(prefix))
                    .findFirst().orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static List<Path> children(Path folder, Predicate<String> nameFilter) {
        if (!Files.isDirectory(folder)) return List.of();
        try (Stream<Path> list = Files.list(folder)) {
            return list.filter(p -> nameFilter.test(p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
