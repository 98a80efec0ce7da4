package dev.univar.cpu;

/**
 * The error function in double precision, for the reference backend and for testing the vectorised float
 * approximation. Relative error is a few 1e-16 over the whole real line.
 *
 * <p>Two classical expansions, each used where it converges quickly and without cancellation:
 * <ul>
 *   <li>|x| &lt; 2.5: {@code erf(x) = 2/sqrt(pi) * x * exp(-x^2) * sum_n (2x^2)^n / (1*3*5*...*(2n+1))}; every
 *       term is positive, so rounding errors do not pile up as they do in the alternating Taylor series.</li>
 *   <li>|x| &gt;= 2.5: the continued fraction
 *       {@code erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))}, evaluated
 *       backwards from a fixed depth (60 levels are far more than converge to double precision there).</li>
 * </ul>
 * {@code exp(-x^2)} is taken with {@code x^2} split into an exact head and tail (via FMA), so that the
 * rounding of {@code x^2} does not cost relative accuracy in the tails.
 */
public final class Erf {

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double ONE_OVER_SQRT_PI = 0.5641895835477563;
    private static final double SERIES_LIMIT = 2.5;
    private static final int FRACTION_DEPTH = 60;

    private Erf() {
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        double r = a < SERIES_LIMIT ? series(a) : 1.0 - erfcFraction(a);
        return Math.copySign(r, x);
    }

    /** {@code 1 - erf(x)}, accurate in relative terms also where it is tiny (large positive x). */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < SERIES_LIMIT) return 1.0 - erf(x);
        return erfcFraction(x);
    }

    /** erf(a) for 0 <= a < 2.5. */
    private static double series(double a) {
        if (a == 0) return 0;
        double twoA2 = 2 * a * a;
        double term = 1, sum = 1;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= twoA2 / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * a * expMinusSquare(a) * sum;
    }

    /** erfc(a) for a >= 2.5. */
    private static double erfcFraction(double a) {
        if (a > 27) return 0; // exp(-a^2) underflows to zero anyway
        double f = a;
        for (int n = FRACTION_DEPTH; n >= 1; n--) f = a + 0.5 * n / f;
        return ONE_OVER_SQRT_PI * expMinusSquare(a) / f;
    }

    /** exp(-a^2), with a^2 = hi + lo exactly so its rounding does not enter the exponent. */
    private static double expMinusSquare(double a) {
        double hi = a * a;
        double lo = Math.fma(a, a, -hi);
        return Math.exp(-hi) * (1 - lo);
    }
}
