package dev.univar.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A progress line on stderr for a download: bytes so far of the total, rate and time left. Rewritten in place on
 * a terminal (every 0.2 s), a new line every few seconds otherwise (logs, CI), and one summary at the end.
 */
public final class DownloadProgress implements DownloadListener {
    private final PrintStream err;
    private final Consumer<String> sink;
    private final String prefix;
    private final boolean terminal;
    private final long intervalNanos;
    private String model;
    private long total, done, resumed, start, last;
    private boolean dirty;

    /** {@code prefix} starts each line (e.g. "univar: "); {@code terminal}: rewrite one line in place. */
    public DownloadProgress(PrintStream err, String prefix, boolean terminal) {
        this(err, err::println, prefix, terminal);
    }

    /** Progress as whole lines (every few seconds) to {@code lines}, e.g. a log. */
    public static DownloadProgress lines(Consumer<String> lines) {
        return new DownloadProgress(null, lines, "", false);
    }

    private DownloadProgress(PrintStream err, Consumer<String> sink, String prefix, boolean terminal) {
        this.err = err;
        this.sink = sink;
        this.prefix = prefix;
        this.terminal = terminal;
        this.intervalNanos = terminal ? 200_000_000L : 5_000_000_000L;
    }

    @Override
    public synchronized void started(String model, long total, long done) {
        this.model = model;
        this.total = total;
        this.done = done;
        this.resumed = done;
        this.start = this.last = System.nanoTime();
        line(done > 0 ? "resuming " + model + " at " + bytes(done) + " of " + bytes(total) : "downloading " + model + ": " + bytes(total));
    }

    @Override
    public synchronized void advanced(long bytes) {
        done += bytes;
        long now = System.nanoTime();
        if (now - last < intervalNanos) return;
        last = now;
        line(status(now));
    }

    @Override
    public synchronized void finished(boolean complete) {
        if (model == null) return;
        long now = System.nanoTime();
        double s = (now - start) / 1e9;
        endLine();
        if (!complete || done == resumed) {
            model = null;
            return; // a failure's own message follows; or another process fetched it all meanwhile
        }
        sink.accept(prefix + String.format(Locale.ROOT, "downloaded %s of %s in %.1f s (%s/s)", bytes(done - resumed), model, s,
                bytes(s > 0 ? (long) ((done - resumed) / s) : 0)));
        model = null;
    }

    /** Prints {@code text} as a line of its own, ending an in-place progress line first. */
    public synchronized void note(String text) {
        endLine();
        sink.accept(text);
        if (model != null && terminal) line(status(System.nanoTime()));
    }

    private String status(long now) {
        double s = (now - start) / 1e9;
        double rate = s > 0 ? (done - resumed) / s : 0;
        String pct = total > 0 ? String.format(Locale.ROOT, " (%.0f%%)", 100.0 * done / total) : "";
        String eta = rate > 0 && total > done ? ", ETA " + duration((total - done) / rate) : "";
        return String.format(Locale.ROOT, "downloading %s: %s of %s%s, %s/s%s", model, bytes(done), bytes(total), pct,
                bytes((long) rate), eta);
    }

    private void line(String text) {
        if (terminal) {
            err.print("\r" + prefix + text + "\u001b[K");
            dirty = true;
        } else {
            sink.accept(prefix + text);
        }
    }

    private void endLine() {
        if (dirty) {
            err.println();
            dirty = false;
        }
    }

    /** 1,234 B, 12.3 kB, 4.5 MB, 1.2 GB (powers of 1000, as the Hub shows sizes). */
    public static String bytes(long n) {
        if (n < 1000) return n + " B";
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
