package dev.univar.cli;

import dev.univar.data.InputException;
import dev.univar.data.IoFailure;
import dev.univar.hub.HubException;
import dev.univar.tensor.BackendUnavailableException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Turns failures into one clear line on stderr and an exit code: 2 for bad usage ({@link UsageException}, and a
 * device that cannot be opened here: no driver, an unknown device, a precision it lacks), 1 for everything else
 * (bad data, a failed run). File-system failures name the file and the operating system's reason. A stack trace
 * only with UNIVAR_DEBUG=1.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        String message = switch (e) {
            case BackendUnavailableException bu -> bu.getMessage();
            case HubException he -> he.getMessage(); // written for people as it is (a model name keeps its case)
            case InputException ie -> ie.getMessage();
            case UncheckedIOException u -> IoFailure.describe(u.getCause());
            case IOException io -> IoFailure.describe(io);
            case IllegalArgumentException ia -> ia.getMessage();
            default -> e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        };
        String name = cmd.getCommandSpec().qualifiedName();
        cmd.getErr().println(name + ": error: " + message);
        if ("1".equals(System.getenv("UNIVAR_DEBUG"))) e.printStackTrace(cmd.getErr());
        return e instanceof UsageException || e instanceof BackendUnavailableException ? 2 : 1;
    }
}
