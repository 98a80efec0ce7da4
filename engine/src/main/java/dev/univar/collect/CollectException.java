package dev.univar.collect;

/** The run cannot go on (endpoint unreachable, not OpenAI-compatible, key refused); the message says why. */
public final class CollectException extends RuntimeException {
    public CollectException(String message) {
        super(message);
    }
}
