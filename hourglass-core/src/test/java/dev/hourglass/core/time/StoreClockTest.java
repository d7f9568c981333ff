package dev.hourglass.core.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The offset estimate, exactly: a {@link ManualClock} is this node's wall clock and ticker, and a fake store answers
 * from a clock {@link #TRUE_OFFSET} ahead, reading it at a chosen point of a round trip of chosen length.
 */
class StoreClockTest {
    private static final Instant START = Instant.parse("2026-11-27T09:00:00Z");
    private static final Duration TRUE_OFFSET = Duration.ofSeconds(3);

    private final ManualClock local = new ManualClock(START);
    /** What the store does on the next read. */
    private Supplier<Optional<Instant>> answer = () -> Optional.of(storeNow());
    private final StoreClock clock = new StoreClock(local, local, () -> answer.get());

    /** The store's clock runs with the ticker: a step of this node's wall clock leaves it alone. */
    private Instant storeNow() {
        return START.plus(TRUE_OFFSET).plusNanos(local.nanoTime());
    }

    /** The next read takes {@code rtt}; the store reads its clock {@code readAt} into it. */
    private void nextRead(Duration rtt, Duration readAt) {
        answer = () -> {
            local.advance(readAt);
            Instant store = storeNow();
            local.advance(rtt.minus(readAt));
            return Optional.of(store);
        };
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    @Test
    void withoutASampleItIsTheBaseClock() {
        assertThat(clock.estimate()).isEqualTo(StoreClock.Estimate.NONE);
        assertThat(clock.instant()).isEqualTo(local.instant());
        local.advance(ms(1234));
        assertThat(clock.instant()).isEqualTo(START.plusMillis(1234));
    }

    @Test
    void oneExactSampleGivesTheOffsetAndInstantAddsIt() {
        StoreClock.Estimate estimate = clock.sample().orElseThrow();

        assertThat(estimate.measured()).isEqualTo(TRUE_OFFSET);
        assertThat(estimate.errorBound()).isZero();
        assertThat(estimate.applied()).isEqualTo(TRUE_OFFSET);
        assertThat(clock.estimate()).isEqualTo(estimate);
        assertThat(clock.instant()).isEqualTo(local.instant().plus(TRUE_OFFSET));
        local.advance(ms(500));
        assertThat(clock.instant()).isEqualTo(START.plusMillis(500).plus(TRUE_OFFSET));
    }

    @Test
    void aRoundTripGivesHalfOfItAsTheErrorBound() {
        nextRead(ms(4), ms(2)); // read at the middle: the midpoint estimate is exact

        StoreClock.Estimate estimate = clock.sample().orElseThrow();

        assertThat(estimate.measured()).isEqualTo(TRUE_OFFSET);
        assertThat(estimate.errorBound()).isEqualTo(ms(2));
        assertThat(estimate.applied()).as("the low end: never ahead of the store").isEqualTo(TRUE_OFFSET.minus(ms(2)));
        assertThat(clock.instant()).isEqualTo(local.instant().plus(estimate.applied()));
    }

    @Test
    void theSampleWithTheSmallestRoundTripWins() {
        nextRead(ms(10), Duration.ZERO); // read at the start: measured 5 ms short
        assertThat(clock.sample().orElseThrow().measured()).isEqualTo(TRUE_OFFSET.minus(ms(5)));
        nextRead(ms(2), ms(1)); // fast and exact
        clock.sample();
        nextRead(ms(20), ms(20)); // slow, read at the end: measured 10 ms long
        StoreClock.Estimate estimate = clock.sample().orElseThrow();

        assertThat(estimate.measured()).isEqualTo(TRUE_OFFSET);
        // Half its round trip, plus 15 ppm of its 20 ms age.
        assertThat(estimate.errorBound()).isEqualTo(ms(1).plusNanos(20 * 15));
    }

    @Test
    void anOldExactSampleGivesWayToAFreshOneAsItsBoundGrowsWithAge() {
        nextRead(ms(2), ms(1));
        clock.sample();
        local.advance(Duration.ofSeconds(1000)); // 15 ms of possible drift since

        nextRead(ms(20), ms(10));
        StoreClock.Estimate estimate = clock.sample().orElseThrow();

        assertThat(estimate.errorBound()).isEqualTo(ms(10));
    }

    @Test
    void aSampleDisagreeingBeyondBothBoundsDropsTheOlderOnesAsAClockStepped() {
        nextRead(ms(2), ms(1));
        clock.sample();
        local.advance(ms(10));
        local.setWall(local.instant().plusSeconds(1)); // NTP steps this node's clock 1 s forward

        nextRead(ms(20), ms(10)); // slower, yet the only one true of the stepped clock
        StoreClock.Estimate estimate = clock.sample().orElseThrow();

        assertThat(estimate.measured()).isEqualTo(TRUE_OFFSET.minusSeconds(1));
        assertThat(estimate.errorBound()).isEqualTo(ms(10));
    }

    @Test
    void aFailingReadLeavesThePreviousEstimate() {
        StoreClock.Estimate before = clock.sample().orElseThrow();
        answer = () -> {
            throw new IllegalStateException("store unreachable");
        };

        assertThatThrownBy(clock::sample).hasMessage("store unreachable");

        assertThat(clock.estimate()).isEqualTo(before);
        assertThat(clock.instant()).isEqualTo(local.instant().plus(TRUE_OFFSET));
    }

    @Test
    void aStoreWithoutAClockChangesNothing() {
        answer = Optional::empty;

        assertThat(clock.sample()).isEmpty();

        assertThat(clock.estimate()).isEqualTo(StoreClock.Estimate.NONE);
        assertThat(clock.instant()).isEqualTo(local.instant());
    }

    @Test
    void clocksThatAgreeWithinTheErrorBoundAreLeftAlone() {
        StoreClock sameClock = new StoreClock(local, local, () -> {
            local.advance(ms(3)); // the store reads the very same clock 3 ms into a 4 ms round trip
            Instant store = local.instant();
            local.advance(ms(1));
            return Optional.of(store);
        });

        StoreClock.Estimate estimate = sameClock.sample().orElseThrow();

        assertThat(estimate.measured()).isEqualTo(ms(1));
        assertThat(estimate.errorBound()).isEqualTo(ms(2));
        assertThat(estimate.applied()).isZero();
        assertThat(sameClock.instant()).isEqualTo(local.instant());
    }

    @Test
    void anEstimateWithinItsBoundOfZeroAppliesNothing() {
        StoreClock.Estimate estimate = StoreClock.Estimate.of(ms(-1), ms(2));
        assertThat(estimate.applied()).isZero();
        assertThat(StoreClock.Estimate.of(ms(2), ms(2)).applied()).isZero();
        assertThat(StoreClock.Estimate.of(ms(-5), ms(2)).applied()).isEqualTo(ms(-7));
        assertThat(StoreClock.Estimate.of(ms(5), ms(2)).applied()).isEqualTo(ms(3));
    }

    @Test
    void aPauseRightAfterReadingTheWallClockWidensTheBoundInsteadOfShiftingTheOffset() {
        // This node descheduled for 5 ms just after it read its wall clock, on PostgreSQL's own machine (one clock).
        java.util.concurrent.atomic.AtomicBoolean paused = new java.util.concurrent.atomic.AtomicBoolean();
        java.time.InstantSource pausingWall = () -> {
            Instant now = local.instant();
            if (paused.compareAndSet(false, true)) {
                local.advance(ms(5));
            }
            return now;
        };
        StoreClock sameClock = new StoreClock(pausingWall, local, () -> {
            Instant store = local.instant();
            local.advance(Duration.ofNanos(200_000));
            return Optional.of(store);
        });

        StoreClock.Estimate estimate = sameClock.sample().orElseThrow();

        assertThat(estimate.measured().abs()).isLessThanOrEqualTo(estimate.errorBound());
        assertThat(estimate.errorBound()).isGreaterThanOrEqualTo(Duration.ofMillis(2));
        assertThat(estimate.applied()).as("the same clock: nothing to correct").isZero();
    }
}
