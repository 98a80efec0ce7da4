package dev.univar.hub;

import java.io.IOException;

/** A Hub failure explained in one line for people; {@link #kind()} lets callers react (fall back to the cache). */
public final class HubException extends IOException {
    public enum Kind {
        /** No such repository (or a private one without access). */
        NOT_FOUND,
        /** The revision does not exist. */
        NO_REVISION,
        /** A file is missing from the repository or the server refused it. */
        NO_FILE,
        /** Gated or private: a token is needed or refused. */
        ACCESS,
        /** The Hub could not be reached at all (no network, refused connection, unknown host). */
        UNREACHABLE,
        /** Retries exhausted, or a broken answer. */
        NETWORK,
        /** A download whose bytes do not match the Hub's checksum or size. */
        CORRUPT,
        /** Offline and not cached. */
        NOT_CACHED,
        /** The repository holds no model univar can run. */
        UNSUPPORTED,
        /** Another process is downloading the model. */
        BUSY
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
