package dev.univar.cuda;

/**
 * No usable CUDA on this machine: no driver ("no CUDA driver found ..."), no device ("no CUDA device ..."), a driver
 * too old, or no cuBLAS ("cuBLAS not found ..."). The message says what was tried and what to do, and is meant to be
 * shown to users as it is (the CLI prints it and exits with status 2).
 */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
