package dev.univar.cli;

/**
 * Bad usage found after the arguments parsed: an option value out of range, an output that would overwrite an
 * input or is a folder. {@link Errors} prints it as one line and exits with code 2, as picocli does for usage errors
 * it finds itself; bad data and failures of the run exit with 1.
 */
final class UsageException extends IllegalArgumentException {
    UsageException(String message) {
        super(message);
    }
}
