package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A start whose commit answer was lost, in {@link ClaimReconciler}: exact, with the dispatcher's part played on the
 * reconciler's own thread, at the worst moment, which a real engine reaches only by chance of scheduling.
 */
class DoubtedStartTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
    private static final String NODE = "a";
    private static final long TOKEN = 7;

    private final ManualClock clock = new ManualClock(T0);
    private final OneJob store = new OneJob();
    private final List<Job> resumed = new ArrayList<>();
    private final List<TimerEntry> timer = new ArrayList<>();
    private ClaimReconciler reconciler;

    @Test
    void aLateCommitThatBeatsTheTimersStartBeforeTheReconcilerReturnsIsStillResumed() {
        // The lost start's COMMIT lands just before the timer's start, which so loses the compare-and-set.
        aDoubtedStartWhoseRetimedEntryIsRefusedAtOnceFinding(JobState.RUNNING);

        reconciler.runRound(); // finds it SCHEDULED: back into the timer, where it fires and is refused
        assertThat(timer).hasSize(1);
        reconciler.runRound(); // the refusal made it doubted again: now found RUNNING under the lost start's token

        assertThat(resumed).as("the attempt the late start counted is run").hasSize(1);
        assertThat(resumed.getFirst().fencingToken()).isEqualTo(TOKEN);
        reconciler.runRound();
        assertThat(resumed).as("once").hasSize(1);
    }

    @Test
    void aStartRefusedForAnotherReasonIsNotResumed() {
        // Cancelled between the look and the timer's start: refused, found CANCELLED, nothing to run.
        aDoubtedStartWhoseRetimedEntryIsRefusedAtOnceFinding(JobState.CANCELLED);

        reconciler.runRound();
        reconciler.runRound();
        clock.advance(Duration.ofSeconds(5));
        reconciler.runRound();

        assertThat(timer).hasSize(1);
        assertThat(resumed).isEmpty();
    }

    /**
     * A start of the job, under {@link #TOKEN}, whose answer was lost while the job was SCHEDULED. The timer fires
     * an entry it is given at once, and the store then has the job in {@code found}, so that start is refused: all
     * before {@code timer.accept} returns to the reconciler.
     */
    private void aDoubtedStartWhoseRetimedEntryIsRefusedAtOnceFinding(JobState found) {
        reconciler = new ClaimReconciler(NODE, store, entry -> {
            timer.add(entry);
            store.job = store.job(found);
            reconciler.startRefused(entry);
        }, resumed::add, () -> true, clock);
        store.job = store.job(JobState.SCHEDULED);
        reconciler.doubt(new ClaimReconciler.Doubt(store.id, ClaimReconciler.Cause.START, TOKEN));
    }

    /** A store holding one job claimed by this node, read by {@link #find}. */
    private static final class OneJob extends StandInStore {
        final JobId id = EngineJobs.nextId();
        volatile Job job;

        Job job(JobState state) {
            return EngineJobs.stored(id, T0, state, NODE, TOKEN);
        }

        @Override
        public Optional<Job> find(JobId id) {
            return Optional.ofNullable(job).filter(j -> j.id().equals(id));
        }
    }
}
