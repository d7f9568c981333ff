package dev.hourglass.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JobIdGeneratorTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-26T12:00:00Z"));
    private final JobIdGenerator ids = new JobIdGenerator(clock);

    @Test
    void idsAreVersion7UuidsCarryingTheWallClockMillis() {
        JobId id = ids.next();
        UUID uuid = UUID.fromString(id.toString());
        assertThat(uuid.version()).isEqualTo(7);
        assertThat(uuid.variant()).isEqualTo(2);
        assertThat(id.timestampMillis()).isEqualTo(clock.millis());
        assertThat(JobId.parse(id.toString())).isEqualTo(id);
    }

    @Test
    void highHalvesStrictlyIncreaseWhenTheClockStandsStillOrStepsBack() {
        long last = Long.MIN_VALUE;
        for (int i = 0; i < 10_000; i++) { // > 4096: the 12-bit counter overflows into the timestamp
            if (i == 5_000) {
                clock.setWall(Instant.parse("2026-11-26T11:00:00Z"));
            }
            JobId id = ids.next();
            assertThat(id.hi()).isGreaterThan(last);
            last = id.hi();
        }
    }

    @Test
    void advancePastSeedsTheGeneratorAfterARestart() {
        JobId stored = ids.next();
        JobIdGenerator restarted = new JobIdGenerator(new ManualClock(clock.instant().minus(Duration.ofHours(1))));
        restarted.advancePast(stored.hi());
        assertThat(restarted.next().hi()).isGreaterThan(stored.hi());
    }

    @Test
    void parseRefusesWhatIsNotAJobId() {
        assertThatThrownBy(() -> JobId.parse("nope")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JobId.parse(UUID.randomUUID().toString())) // version 4
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(JobId.parseOrNull("also-nope")).isNull();
    }
}
