package dev.hourglass.core.time;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.chrono.IsoChronology;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * RFC 3339 timestamps as the API and the webhook headers use them. Output is always UTC with exactly three
 * fraction digits ({@code 2026-11-26T17:00:00.000Z}), so clients can compare them as strings. Input is strict
 * RFC 3339: a year of exactly four digits (no sign: 0000..9999), seconds required (00..59: a leap second is
 * refused), a fraction of 1..9 digits optional, an offset ({@code Z} or {@code +hh:mm}, at most 18 hours) required.
 * Whether the instant is one a job may be due at is {@link Instants#inRange}, checked by the caller.
 */
public final class Rfc3339 {
    private static final DateTimeFormatter OUTPUT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private static final DateTimeFormatter INPUT = new DateTimeFormatterBuilder()
            .appendValue(ChronoField.YEAR, 4) // fixed width, no sign: RFC 3339's date-fullyear
            .appendLiteral('-')
            .appendValue(ChronoField.MONTH_OF_YEAR, 2)
            .appendLiteral('-')
            .appendValue(ChronoField.DAY_OF_MONTH, 2)
            .appendLiteral('T')
            .appendValue(ChronoField.HOUR_OF_DAY, 2)
            .appendLiteral(':')
            .appendValue(ChronoField.MINUTE_OF_HOUR, 2)
            .appendLiteral(':')
            .appendValue(ChronoField.SECOND_OF_MINUTE, 2)
            .optionalStart()
            .appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
            .optionalEnd()
            .appendOffset("+HH:MM", "Z")
            .toFormatter(Locale.ROOT)
            .withChronology(IsoChronology.INSTANCE)
            .withResolverStyle(ResolverStyle.STRICT);

    private Rfc3339() {}

    public static String format(Instant instant) {
        return OUTPUT.format(instant);
    }

    /**
     * Parses an RFC 3339 timestamp. A fraction finer than a millisecond is rounded <em>up</em> to the next
     * millisecond: due times are stored in milliseconds, and rounding down would make a job due (slightly) early.
     *
     * @throws DateTimeParseException if the text is not RFC 3339
     */
    public static Instant parseCeilMillis(String text) {
        // RFC 3339 (section 5.6, note) allows lower-case "t" and "z".
        Instant instant = OffsetDateTime.parse(text.toUpperCase(Locale.ROOT), INPUT).toInstant();
        Instant millis = instant.truncatedTo(ChronoUnit.MILLIS);
        return millis.equals(instant) ? instant : millis.plusMillis(1);
    }
}
