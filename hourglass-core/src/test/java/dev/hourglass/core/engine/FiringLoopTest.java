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
 * Re-adding entries: the count the loader sizes its claims by, and which entry of a job the timer keeps. It keeps one
 * entry per job and never lets an entry under an older claim replace one under a newer claim (an entry parked during
 * an outage can come back after the job was rescued by another node and claimed anew here), nor an entry read back
 * from the store replace one of the same claim.
 */
class FiringLoopTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
    private static final long JOB = 1;

    private final ManualClock clock = new ManualClock(T0);
    private final List<TimerEntry> fired = new CopyOnWriteArrayList<>();
    private final FiringLoop timer = new FiringLoop(clock, fired::addAll);

    @AfterEach
    void stop() {
        timer.close();
    }

    private static TimerEntry entry(long job, long dueInMillis, long token) {
        return new TimerEntry(new JobId(job, job), "t", T0.toEpochMilli() + dueInMillis, token);
    }

    @Test
    void reAddingAnEntryTheTimerHoldsDoesNotGrowIt() {
        timer.start();
        for (int i = 0; i < 100; i++) {
            timer.add(entry(1, 5_000, 1));
            timer.addUnlessHeld(entry(2, 5_000, 1));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> timer.size() == 2);
    }

    @Test
    void anEntryReadBackKeepsTheHeldEntryOfTheSameClaimAndReplacesOneOfAnOlderClaim() {
        timer.start();
        timer.add(entry(1, 10_000, 7)); // e.g. a retry kept on this node, due later under the same token
        timer.add(entry(2, 10_000, 7));
        timer.addUnlessHeld(entry(1, 1_000, 7)); // read back from the store before that retry: stale
        timer.addUnlessHeld(entry(2, 2_000, 8)); // a newer claim of job 2
        timer.addUnlessHeld(entry(3, 3_000, 1)); // not held at all

        clock.advance(Duration.ofMillis(3_000));
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 2);
        assertThat(fired).containsExactly(entry(2, 2_000, 8), entry(3, 3_000, 1));
        clock.advance(Duration.ofMillis(7_000));
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 3);
        assertThat(fired.getLast()).isEqualTo(entry(1, 10_000, 7));
        assertThat(timer.size()).isZero();
    }

    @Test
    void aStaleEntryAddedAfterANewerClaimsEntryDoesNotReplaceIt() {
        timer.add(entry(JOB, 1_000, 2)); // claimed anew after a rescue
        timer.add(entry(JOB, 500, 0)); // the entry parked during the outage comes back
        timer.start();
        clock.advance(Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(5)).until(() -> !fired.isEmpty());
        assertThat(fired).containsExactly(entry(JOB, 1_000, 2));
        assertThat(timer.size()).as("the job is counted once").isZero();
    }

    @Test
    void anEntryUnderTheSameOrANewerClaimReplacesTheHeldOne() {
        timer.add(entry(JOB, 500, 3));
        timer.add(entry(JOB, 1_500, 3)); // a retry kept on this node: same claim, new due time
        timer.add(entry(JOB, 1_000, 4)); // rescheduled: a newer claim
        timer.start();
        clock.advance(Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(5)).until(() -> !fired.isEmpty());
        assertThat(fired).containsExactly(entry(JOB, 1_000, 4));
        assertThat(timer.size()).isZero();
    }

    @Test
    void aStepMovesAtMostItsCapOfCommandsSoAProducerCannotHoldBackDueEntries() {
        FiringLoop capped = new FiringLoop(clock, fired::addAll, 10);
        capped.add(entry(1, 0, 1));
        assertThat(capped.step()).isEqualTo(new FiringLoop.Step(1, true));

        for (int job = 2; job <= 25; job++) {
            capped.add(entry(job, job == 25 ? 0 : 60_000, 1)); // the due one comes last, behind 23 far ones
        }
        clock.advance(Duration.ofMillis(1));
        assertThat(capped.step()).as("10 of 24 commands moved; the rest wait for the next turn")
                .isEqualTo(new FiringLoop.Step(0, false));
        assertThat(capped.step()).isEqualTo(new FiringLoop.Step(0, false));
        assertThat(capped.step()).isEqualTo(new FiringLoop.Step(1, true));
        assertThat(fired).extracting(TimerEntry::id).containsExactly(new JobId(1, 1), new JobId(25, 25));
        assertThat(capped.size()).isEqualTo(23);
    }

    @Test
    void fireDueDrainsTheWholeInboxWhateverTheCap() {
        FiringLoop capped = new FiringLoop(clock, fired::addAll, 10);
        for (int job = 1; job <= 35; job++) {
            capped.add(entry(job, 0, 1));
        }
        assertThat(capped.fireDue()).isEqualTo(35);
        assertThat(fired).hasSize(35);
        assertThat(capped.size()).isZero();
    }
}
