package dev.univar.bindings.cuda;

import dev.univar.bindings.NativeLibraries.UnavailableException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Where {@link CudaLibraries} looks and what it says when it finds nothing; runs on machines without CUDA. */
class CudaLibrariesTest {
    @TempDir
    Path dir;

    @Test
    void aMissingDriverFileNamedInTheEnvironmentIsNamedInTheMessage() {
        Path missing = dir.resolve("nowhere/libcuda.so.1");
        var e = assertThrows(UnavailableException.class,
                () -> CudaLibraries.loadDriver(Map.of("UNIVAR_CUDA_DRIVER", missing.toString())));
        assertTrue(e.getMessage().startsWith("no CUDA driver found"), e.getMessage());
        assertTrue(e.getMessage().contains("UNIVAR_CUDA_DRIVER=" + missing + ": no such file"), e.getMessage());
    }

    @Test
    void aFileThatIsNotALibraryIsRefusedWithoutCrashing() throws IOException {
        Path notALibrary = Files.writeString(dir.resolve("libcuda.so.1"), "not an ELF file");
        var e = assertThrows(UnavailableException.class,
                () -> CudaLibraries.loadDriver(Map.of("UNIVAR_CUDA_DRIVER", notALibrary.toString())));
        assertTrue(e.getMessage().contains("cannot load"), e.getMessage());
    }

    @Test
    void withoutADriverEveryPlaceTriedIsListed() {
        Map<String, String> env = Map.of("HOME", dir.toString());
        try {
            CudaLibraries.loadDriver(env);
            Assumptions.abort("this machine has a CUDA driver");
        } catch (UnavailableException e) {
            String message = e.getMessage();
            assertTrue(message.startsWith("no CUDA driver found (libcuda.so.1 not loadable; tried: "), message);
            assertTrue(message.contains("libcuda.so.1 through the dynamic loader"), message);
            for (Path folder : CudaLibraries.DRIVER_FOLDERS)
                assertTrue(message.contains(folder.resolve("libcuda.so.1").toString()), message);
            assertTrue(message.contains("UNIVAR_CUDA_DRIVER"), message);
        }
    }

    @Test
    void aMissingCublasFileOrEmptyFolderNamedInTheEnvironmentIsNamedInTheMessage() {
        Path missing = dir.resolve("libcublas.so.13");
        var e = assertThrows(UnavailableException.class,
                () -> CudaLibraries.loadCublas(Map.of("UNIVAR_CUBLAS", missing.toString())));
        assertTrue(e.getMessage().startsWith("cuBLAS not found; tried: UNIVAR_CUBLAS=" + missing + " (no such file)"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("(set UNIVAR_CUBLAS to the file or folder)"), e.getMessage());
        var empty = assertThrows(UnavailableException.class,
                () -> CudaLibraries.loadCublas(Map.of("UNIVAR_CUBLAS", dir.toString())));
        assertTrue(empty.getMessage().contains(dir + " (no libcublas.so*)"), empty.getMessage());
    }

    @Test
    void cublasIsLookedForInCudaHomeThenLdLibraryPathThenSystemThenPython() throws IOException {
        Path wheel = Files.createDirectories(dir.resolve(".local/lib/python3.12/site-packages/nvidia/cu13/lib"));
        Path cu12 = Files.createDirectories(dir.resolve("venv/lib/python3.11/site-packages/nvidia/cublas/lib"));
        Map<String, String> env = Map.of("CUDA_HOME", "/opt/cuda-13", "LD_LIBRARY_PATH", "/a:/b::/a",
                "HOME", dir.toString(), "VIRTUAL_ENV", dir.resolve("venv").toString());
        List<Path> folders = List.copyOf(CudaLibraries.cublasFolders(env));
        assertEquals(List.of(Path.of("/opt/cuda-13/lib64"), Path.of("/a"), Path.of("/b"),
                Path.of("/usr/local/cuda/lib64")), folders.subList(0, 4));
        assertTrue(folders.indexOf(wheel) > folders.indexOf(Path.of("/usr/local/cuda/lib64")), folders.toString());
        assertTrue(folders.contains(cu12), folders.toString());
    }

    @Test
    void withoutCublasEveryFolderTriedIsListed() {
        Path empty = dir.resolve("empty");
        Map<String, String> env = Map.of("HOME", dir.toString(), "LD_LIBRARY_PATH", empty.toString());
        try {
            CudaLibraries.loadCublas(env);
            Assumptions.abort("this machine has cuBLAS");
        } catch (UnavailableException e) {
            assertTrue(e.getMessage().startsWith("cuBLAS not found; tried: " + empty + " (no such folder)"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("/usr/local/cuda/lib64"), e.getMessage());
        }
    }
}
