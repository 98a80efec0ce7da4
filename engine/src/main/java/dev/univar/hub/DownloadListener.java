package dev.univar.hub;

/** Hears how a model's download advances: for a progress line. */
public interface DownloadListener {
    /** Downloading {@code model} starts: {@code total} bytes to fetch, of which {@code done} are already on disk (resumed). */
    void started(String model, long total, long done);

    /** {@code bytes} more arrived (negative when received bytes were thrown away). */
    void advanced(long bytes);

    /** The download ended: {@code complete}, or stopped by a failure (which its caller reports). */
    void finished(boolean complete);

    DownloadListener NONE = new DownloadListener() {
        @Override
        public void started(String model, long total, long done) {
        }

        @Override
        public void advanced(long bytes) {
        }

        @Override
        public void finished(boolean complete) {
        }
    };
}
