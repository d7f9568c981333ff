package dev.hourglass.server.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as an operator writes them: a number and a unit ({@code 500ms}, {@code 30s}, {@code 10m}, {@code 2h},
 * {@code 7d}; fractions allowed, {@code 1.5s}), ISO-8601 ({@code PT30S}, {@code P7D}), or a bare number of seconds
 * ({@code 5}: what the timeouts took before units existed). The result is a whole number of milliseconds, the
 * engine's resolution: a finer value is refused rather than rounded, since nothing is silently corrected.
 */
public final class DurationText {
    /** How to write one, for help. */
    public static final String EXAMPLES = "500ms, 30s, 10m, 2h, 7d or ISO-8601 such as PT30S; a bare number is seconds";
    /** The rule, for error messages. */
    public static final String RULE = "a duration such as 500ms, 30s, 10m, 2h, 7d or PT30S (a bare number is seconds)";

    private static final Pattern NUMBER_AND_UNIT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?");

    private DurationText() {}

    /**
     * @throws IllegalArgumentException with {@link #RULE} (or the millisecond rule) when {@code text} is not one
     */
    public static Duration parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        Duration d;
        Matcher m = NUMBER_AND_UNIT.matcher(t);
        if (m.matches()) {
            BigDecimal millis = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unitMillis(m.group(2))));
            if (millis.stripTrailingZeros().scale() > 0) {
                throw new IllegalArgumentException("a whole number of milliseconds");
            }
            try {
                d = Duration.ofMillis(millis.longValueExact());
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(RULE); // beyond 292 million years
            }
        } else if (t.startsWith("p") || t.startsWith("-p")) {
            try {
                d = Duration.parse(t.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException | ArithmeticException e) {
                throw new IllegalArgumentException(RULE);
            }
            if (d.getNano() % 1_000_000 != 0) {
                throw new IllegalArgumentException("a whole number of milliseconds");
            }
        } else {
            throw new IllegalArgumentException(RULE);
        }
        return d;
    }

    /** The shortest exact spelling in the largest whole unit: {@code 30s}, {@code 1h}, {@code 3650d}, {@code 250ms}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        for (String unit : new String[] {"d", "h", "m", "s"}) {
            long size = unitMillis(unit);
            if (ms % size == 0) {
                return ms / size + unit;
            }
        }
        return ms + "ms";
    }

    private static long unitMillis(String unit) {
        return switch (unit == null ? "s" : unit) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            case "h" -> 3_600_000;
            case "d" -> 86_400_000;
            default -> throw new IllegalArgumentException(RULE);
        };
    }
}
