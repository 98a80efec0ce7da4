package dev.univar.cli;

import dev.univar.embed.EmbedJob;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Progress on stderr: rewritten in place on a terminal, a line every few seconds otherwise (logs, CI).
 * Truncation notices name the first few texts and then only count.
 */
final class Progress implements EmbedJob.Listener {
    private static final int NOTICES = 5;
    private final PrintStream err;
    private final boolean terminal;
    private final long intervalNanos;
    private long last = System.nanoTime();
    private int notices;
    private boolean dirty;

    Progress(PrintStream err) {
        this.err = err;
        this.terminal = System.console() != null && System.console().isTerminal();
        this.intervalNanos = terminal ? 200_000_000L : 5_000_000_000L;
    }

    @Override
    public void progress(long texts, double fraction, double rate) {
        long now = System.nanoTime();
        if (now - last < intervalNanos) return;
        last = now;
        String eta = fraction > 0 && fraction < 1 && texts > 0
                ? ", ETA " + duration((now - start) / 1e9 * (1 - fraction) / fraction) : "";
        String line = String.format(Locale.ROOT, "embedded %,d texts (%.0f%%), %.1f texts/s%s", texts, 100 * fraction, rate, eta);
        if (terminal) {
            err.print("\r" + line + "\u001b[K");
            dirty = true;
        } else {
            err.println(line);
        }
    }

    private final long start = System.nanoTime();

    @Override
    public void truncated(Path file, long line, int tokens, int maxLength) {
        if (notices++ < NOTICES) {
            endLine();
            err.printf(Locale.ROOT, "univar: notice: %s:%d: text of %d tokens truncated to --max-length %d%n",
                    file, line, tokens, maxLength);
        }
    }

    /** Ends an in-place progress line before other output. */
    void endLine() {
        if (dirty) {
            err.println();
            dirty = false;
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
