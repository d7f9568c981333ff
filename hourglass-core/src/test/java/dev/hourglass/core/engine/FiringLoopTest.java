package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The timer keeps one entry per job, and never lets an entry under an older claim replace one under a newer claim:
 * an entry parked during an outage can come back after the job was rescued by another node and claimed anew here.
 */
class FiringLoopTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
    private static final JobId JOB = new JobId(1, 2);

    private final ManualClock clock = new ManualClock(T0);
    private final List<TimerEntry> fired = new CopyOnWriteArrayList<>();
    private final FiringLoop loop = new FiringLoop(clock, fired::addAll);

    @AfterEach
    void stop() {
        loop.close();
    }

    private static TimerEntry entry(long dueInMillis, long token) {
        return new TimerEntry(JOB, "t", T0.toEpochMilli() + dueInMillis, token);
    }

    @Test
    void aStaleEntryAddedAfterANewerClaimsEntryDoesNotReplaceIt() {
        loop.add(entry(1_000, 2)); // claimed anew after a rescue
        loop.add(entry(500, 0)); // the entry parked during the outage comes back
        loop.start();
        clock.advance(Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(5)).until(() -> !fired.isEmpty());
        assertThat(fired).containsExactly(entry(1_000, 2));
        assertThat(loop.size()).as("the job is counted once").isZero();
    }

    @Test
    void anEntryUnderTheSameOrANewerClaimReplacesTheHeldOne() {
        loop.add(entry(500, 3));
        loop.add(entry(1_500, 3)); // a retry kept on this node: same claim, new due time
        loop.add(entry(1_000, 4)); // rescheduled: a newer claim
        loop.start();
        clock.advance(Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(5)).until(() -> !fired.isEmpty());
        assertThat(fired).containsExactly(entry(1_000, 4));
        assertThat(loop.size()).isZero();
    }
}
