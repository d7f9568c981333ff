package dev.hourglass.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.time.ManualClock;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
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
    void lowHalvesStayRandomAcrossRefillsOfTheRandomPool() {
        int n = 3 * JobIdGenerator.POOL_BYTES / Long.BYTES + 7; // three refills and a part
        Set<Long> lows = new HashSet<>();
        for (int i = 0; i < n; i++) {
            UUID uuid = UUID.fromString(ids.next().toString());
            assertThat(uuid.variant()).isEqualTo(2);
            lows.add(uuid.getLeastSignificantBits());
        }
        assertThat(lows).as("62 random bits per id: no repeats in %d ids", n).hasSize(n);
    }

    @Test
    void eachIdTakesTheNextEightBytesOfTheRandomSource() {
        SplittableRandom source = new SplittableRandom(42);
        SplittableRandom expected = new SplittableRandom(42);
        JobIdGenerator seeded = new JobIdGenerator(clock, source);
        byte[] block = new byte[JobIdGenerator.POOL_BYTES];
        expected.nextBytes(block);
        ByteBuffer bytes = ByteBuffer.wrap(block);
        for (int i = 0; i < 10; i++) {
            long variantCleared = bytes.getLong() & 0x3FFF_FFFF_FFFF_FFFFL;
            assertThat(seeded.next().lo() & 0x3FFF_FFFF_FFFF_FFFFL).isEqualTo(variantCleared);
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
