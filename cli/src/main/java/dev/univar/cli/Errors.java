package dev.univar.cli;

import dev.univar.data.InputException;
import dev.univar.tensor.BackendUnavailableException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Turns failures into one clear line on stderr and exit code 1 (2 when the device cannot be opened here: no
 * driver, an unknown device, a precision it lacks); a stack trace only with UNIVAR_DEBUG=1.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        String message = switch (e) {
            case BackendUnavailableException bu -> bu.getMessage();
            case InputException ie -> ie.getMessage();
            case UncheckedIOException u -> u.getCause().getMessage();
            case IOException io -> io.getMessage();
            case IllegalArgumentException ia -> ia.getMessage();
            default -> e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        };
        cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + message);
        if ("1".equals(System.getenv("UNIVAR_DEBUG"))) e.printStackTrace(cmd.getErr());
        return e instanceof BackendUnavailableException ? 2 : 1;
    }
}
