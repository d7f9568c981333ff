package dev.hourglass.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationTextTest {

    @ParameterizedTest
    @CsvSource({
            "500ms, 500", "30s, 30000", "10m, 600000", "2h, 7200000", "7d, 604800000", "1.5s, 1500",
            "0.25s, 250", "5, 5000", "0.1, 100", "PT30S, 30000", "pt30s, 30000", "P7D, 604800000",
            "PT0.25S, 250", "' 30s ', 30000", "30S, 30000", "0, 0", "0s, 0"})
    void readsUnitsIsoAndBareSeconds(String text, long millis) {
        assertThat(DurationText.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"soon", "", "30 sec", "-5s", "1e3", "5w", "P1M", "PT", "30s5", "99999999999999999999d"})
    void refusesWhatIsNotADuration(String text) {
        assertThatThrownBy(() -> DurationText.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(DurationText.RULE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0001s", "1.5ms", "PT0.0001S"})
    void refusesWhatIsFinerThanAMillisecondRatherThanRounding(String text) {
        assertThatThrownBy(() -> DurationText.parse(text)).hasMessage("a whole number of milliseconds");
    }

    @Test
    void formatsInTheLargestWholeUnitAndReadsBackTheSame() {
        assertThat(DurationText.format(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(DurationText.format(Duration.ofHours(1))).isEqualTo("1h");
        assertThat(DurationText.format(Duration.ofDays(3650))).isEqualTo("3650d");
        assertThat(DurationText.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(DurationText.format(Duration.ofMinutes(90))).isEqualTo("90m");
        assertThat(DurationText.format(Duration.ZERO)).isEqualTo("0s");
        for (Duration d : new Duration[] {Duration.ofMillis(1), Duration.ofSeconds(61), Duration.ofDays(7)}) {
            assertThat(DurationText.parse(DurationText.format(d))).isEqualTo(d);
        }
    }
}
