package dev.univar.cli;

import java.util.Locale;

/**
 * Range checks of option values, made before any work: a value outside its range is a {@link UsageException}
 * (exit code 2) naming the option, the allowed range and the value given. Limits that depend on the model or the
 * data (a length beyond the model's positions, say) are checked where those are known and are not usage errors.
 */
final class Check {
    /** Threads beyond this many per core only cost memory and switching; far beyond, the JVM cannot start them. */
    static final int THREADS_PER_CORE = 4;
    /** The shortest text window: [CLS] and [SEP] (an empty text). */
    static final int MIN_MAX_LENGTH = 2;

    private Check() {
    }

    static int atLeast(String option, int value, int min) {
        if (value < min) throw new UsageException(option + " must be at least " + min + ", got " + value);
        return value;
    }

    static int between(String option, int value, int min, int max) {
        if (value < min || value > max)
            throw new UsageException(option + " must be between " + min + " and " + max + ", got " + value);
        return value;
    }

    static long between(String option, long value, long min, long max) {
        if (value < min || value > max)
            throw new UsageException(option + " must be between " + min + " and " + max + ", got " + value);
        return value;
    }

    /** {@code value} in {@code [low, high]}. */
    static double within(String option, double value, double low, double high) {
        if (!(value >= low && value <= high))
            throw new UsageException(option + " must be between " + num(low) + " and " + num(high) + ", got " + num(value));
        return value;
    }

    /** {@code value} strictly between {@code low} and {@code high}. */
    static double strictlyBetween(String option, double value, double low, double high) {
        if (!(value > low && value < high))
            throw new UsageException(option + " must be greater than " + num(low) + " and less than " + num(high) + ", got " + num(value));
        return value;
    }

    /** {@code value} in {@code (low, high]}. */
    static double above(String option, double value, double low, double high) {
        if (!(value > low && value <= high))
            throw new UsageException(option + " must be greater than " + num(low) + " and at most " + num(high) + ", got " + num(value));
        return value;
    }

    /** A finite {@code value} greater than 0. */
    static double positive(String option, double value) {
        if (!(value > 0 && Double.isFinite(value))) throw new UsageException(option + " must be greater than 0, got " + num(value));
        return value;
    }

    /** A finite {@code value} of at least 0. */
    static double nonNegative(String option, double value) {
        if (!(value >= 0 && Double.isFinite(value))) throw new UsageException(option + " must be at least 0, got " + num(value));
        return value;
    }

    /** The thread count asked for, or every core when none was: 1 to {@value #THREADS_PER_CORE} per core. */
    static int threads(String option, Integer requested) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (requested == null) return cores;
        return between(option, requested, 1, THREADS_PER_CORE * cores);
    }

    static int maxLength(String option, int value) {
        return atLeast(option, value, MIN_MAX_LENGTH);
    }

    /** {@code option}'s value is one of {@code allowed} (compared as given). */
    static String oneOf(String option, String value, String... allowed) {
        for (String a : allowed) if (a.equals(value)) return value;
        throw new UsageException(option + " must be " + String.join(", ", java.util.Arrays.asList(allowed).subList(0, allowed.length - 1))
                + (allowed.length > 1 ? " or " : "") + allowed[allowed.length - 1] + ", got '" + value + "'");
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
