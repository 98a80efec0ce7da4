package dev.univar.data;

import java.nio.file.Path;

/** Bad input: the message names the file and, where known, the line. */
public final class InputException extends RuntimeException {
    private final Path file;
    private final long line;

    public InputException(Path file, long line, String problem) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem);
        this.file = file;
        this.line = line;
    }

    public InputException(Path file, long line, String problem, Throwable cause) {
        this(file, line, problem);
        initCause(cause);
    }

    public Path file() {
        return file;
    }

    /** 1-based line, or 0 when the problem is not tied to a line. */
    public long line() {
        return line;
    }
}
