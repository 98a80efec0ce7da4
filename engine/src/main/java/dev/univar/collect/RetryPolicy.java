package dev.univar.collect;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * At most {@code maxAttempts} requests per answer; between them an exponential backoff from {@code baseDelay}
 * (doubling, capped at {@code maxDelay}) with jitter, so that many clients throttled at once do not come back in
 * step. A server's Retry-After is a floor.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {
    public RetryPolicy {
        if (maxAttempts < 1) throw new IllegalArgumentException("--max-attempts must be at least 1");
        if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0)
            throw new IllegalArgumentException("retry delays must satisfy 0 <= base <= max");
    }

    public static RetryPolicy defaults() {
        return new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(60));
    }

    /** How long to wait after {@code failedAttempts} (1-based) failures; "equal jitter": half fixed, half random. */
    public Duration delay(int failedAttempts, Duration retryAfter, RandomGenerator random) {
        long base = baseDelay.toMillis();
        long exp = failedAttempts >= 31 ? Long.MAX_VALUE : base << Math.max(0, failedAttempts - 1);
        long capped = exp < 0 || exp > maxDelay.toMillis() ? maxDelay.toMillis() : exp;
        long jittered = capped / 2 + (capped > 1 ? random.nextLong(capped - capped / 2 + 1) : capped % 2);
        Duration d = Duration.ofMillis(jittered);
        return retryAfter != null && retryAfter.compareTo(d) > 0 ? retryAfter : d;
    }
}
