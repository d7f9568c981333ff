package dev.hourglass.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Numbers of request bodies, read in time bounded by their written length. A JSON number may carry an exponent of
 * up to nine digits ({@code 1e-999999999}) in a dozen characters; {@link BigDecimal} keeps it as a scale, and any
 * rescaling ({@code setScale}, {@code movePointRight}, {@code toBigInteger}, {@code longValue} of a fraction)
 * computes a power of ten as long as the exponent. So every check here compares magnitudes first (from
 * {@code precision} and {@code scale}, two ints) and rescales only a number already known to be small.
 *
 * <p>The body mapper also bounds a number's written length ({@link JsonBodies#MAX_NUMBER_LENGTH} digits), so the
 * digits themselves are never the expensive part.
 */
final class JsonNumbers {
    private static final BigDecimal MILLISECOND = new BigDecimal("0.001");
    private static final BigDecimal SMALLEST_FRACTION = new BigDecimal("1e-300");

    private JsonNumbers() {}

    /**
     * The node as a long when it is an integer (written without fraction or exponent) within {@code [min, max]};
     * null for anything else. Integer nodes hold an int, a long or a {@code BigInteger}: comparing is cheap.
     */
    static Long integerIn(JsonNode node, long min, long max) {
        if (node == null || !node.isIntegralNumber() || !node.canConvertToLong()) {
            return null;
        }
        long value = node.longValue();
        return value >= min && value <= max ? value : null;
    }

    /**
     * A number of seconds from a millisecond ({@code 0.001}) to {@code maxSeconds}, as whole milliseconds rounded
     * up ({@code 0.0015} waits 2 ms); null when it is not a number in that range. Below a millisecond there is
     * nothing the engine could wait for: refused, not rounded up from {@code 1e-30000000}.
     */
    static Long secondsToCeilMillis(JsonNode node, long maxSeconds) {
        if (node == null || !node.isNumber()) {
            return null;
        }
        BigDecimal seconds = node.decimalValue();
        // compareTo decides on the adjusted exponents first when they differ: no rescaling of a huge exponent.
        if (seconds.compareTo(MILLISECOND) < 0 || seconds.compareTo(BigDecimal.valueOf(maxSeconds)) > 0) {
            return null;
        }
        // seconds >= 10^-3 means unscaled >= 10^(scale - 3), so scale <= precision + 2, and precision is bounded
        // by the number's written length: the rescale below is cheap.
        return seconds.movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /**
     * The number as a double when it is 0 or between {@code 1e-300} and 1 (a rate, a share); null for anything else.
     * The floor keeps {@link BigDecimal#doubleValue} cheap (as {@link #secondsToCeilMillis}'s keeps its rescale), and
     * no rate that small means anything but 0.
     */
    static Double fractionIn0To1(JsonNode node) {
        if (node == null || !node.isNumber()) {
            return null;
        }
        BigDecimal value = node.decimalValue();
        if (value.signum() == 0) {
            return 0.0;
        }
        if (value.compareTo(SMALLEST_FRACTION) < 0 || value.compareTo(BigDecimal.ONE) > 0) {
            return null;
        }
        return value.doubleValue();
    }

    /** The number as written, shortened for an error message. */
    static String describe(JsonNode node) {
        String text = node.isBigDecimal() ? node.decimalValue().toString() : node.asText();
        return text.length() <= 40 ? text : text.substring(0, 37) + "...";
    }
}
