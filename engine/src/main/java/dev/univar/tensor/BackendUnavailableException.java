package dev.univar.tensor;

/**
 * A backend cannot be opened on this machine (no driver, no device, a missing library, a precision it does not
 * support). The message is one line meant for the user, e.g. "no CUDA driver found (tried: ...)"; the CLI
 * prints it as is and exits with status 2.
 */
public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
