package dev.hourglass.core.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class Rfc3339Test {

    @ParameterizedTest
    @CsvSource({
        "2026-11-26T17:00:00Z,             2026-11-26T17:00:00.000Z",
        "2026-11-26t17:00:00.5z,           2026-11-26T17:00:00.500Z",
        "2026-11-26T18:30:00.250+01:30,    2026-11-26T17:00:00.250Z",
        "2026-11-26T12:00:00-05:00,        2026-11-26T17:00:00.000Z",
        "2026-11-26T17:00:00.000000001Z,   2026-11-26T17:00:00.001Z",
        "2026-11-26T17:00:00.999999999Z,   2026-11-26T17:00:01.000Z",
        "2028-02-29T00:00:00Z,             2028-02-29T00:00:00.000Z"})
    void parsesRfc3339AndRoundsUpToTheMillisecond(String text, String expected) {
        Instant parsed = Rfc3339.parseCeilMillis(text);
        assertThat(Rfc3339.format(parsed)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-26", "2026-11-26T17:00Z", "2026-11-26T17:00:00", "2026-11-26 17:00:00Z",
        "2026-11-26T17:00:00+0100", "2027-02-29T00:00:00Z", "2026-11-26T24:00:00Z", "26-11-26T17:00:00Z",
        "2026-11-26T17:00:00.Z", " 2026-11-26T17:00:00Z", "-0001-01-01T00:00:00Z", "+2026-11-26T17:00:00Z",
        "-999999999-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "-100000-01-01T00:00:00Z", "026-11-26T17:00:00Z",
        "2016-12-31T23:59:60Z", "2026-11-26T17:00:00+19:00", "2026-11-26T17:00:00+01:60"})
    void refusesWhatIsNotRfc3339(String text) {
        assertThatThrownBy(() -> Rfc3339.parseCeilMillis(text)).isInstanceOf(DateTimeParseException.class);
    }

    @ParameterizedTest
    @CsvSource({
        "0000-01-01T00:00:00Z,             0000-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z,         9999-12-31T23:59:59.999Z",
        "2026-11-26T17:00:00-00:00,        2026-11-26T17:00:00.000Z"})
    void acceptsEveryFourDigitYear(String text, String expected) {
        assertThat(Rfc3339.format(Rfc3339.parseCeilMillis(text))).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59.9991Z", "9999-12-31T23:00:00-01:00"})
    void anOffsetOrRoundingMayLeaveTheRangeWhichCallersCheck(String text) {
        assertThat(Instants.inRange(Rfc3339.parseCeilMillis(text))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 999, 1_000, 1_795_712_400_123L})
    void formatsAlwaysWithThreeFractionDigitsInUtc(long epochMillis) {
        assertThat(Rfc3339.format(Instant.ofEpochMilli(epochMillis)))
                .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z")
                .satisfies(s -> assertThat(Instant.parse(s).toEpochMilli()).isEqualTo(epochMillis));
    }
}
