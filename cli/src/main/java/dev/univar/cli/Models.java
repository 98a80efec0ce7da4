package dev.univar.cli;

import dev.univar.hub.DownloadProgress;
import dev.univar.io.ModelStore;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Model names to folders for the commands, with notices and a download's progress line on stderr. */
final class Models {
    private Models() {
    }

    /** The folder of {@code spec} ('minilm', a folder, or a Hub model ORG/NAME[@REVISION], downloaded on first use). */
    static Path resolve(String spec, PrintStream err) throws IOException {
        DownloadProgress progress = progress(err);
        return ModelStore.resolve(spec, log(progress), progress);
    }

    static Path resolve(String spec) throws IOException {
        return resolve(spec, System.err);
    }

    /** A download progress line on {@code err}: in place on a terminal, every few seconds in a log. */
    static DownloadProgress progress(PrintStream err) {
        boolean terminal = err == System.err && System.console() != null && System.console().isTerminal();
        return new DownloadProgress(err, "univar: ", terminal);
    }

    /** Notices as "univar: …" lines that do not break a progress line. */
    static Consumer<String> log(DownloadProgress progress) {
        return msg -> progress.note("univar: " + msg);
    }
}
