package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.Claim;
import dev.hourglass.core.store.ClaimsOfParams;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.junit.jupiter.api.Test;

/**
 * The claim sweep of {@link ClaimReconciler}, after a horizon claim whose commit answer was lost: exact, on a manual
 * clock, against a store that holds only claims.
 */
class ClaimSweepTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
    private static final String NODE = "a";

    private final ManualClock clock = new ManualClock(T0);
    private final ClaimsOnly store = new ClaimsOnly();
    private final List<TimerEntry> timer = new ArrayList<>();
    private final ClaimReconciler reconciler = new ClaimReconciler(NODE, store, timer::add, job -> true, () -> true,
            clock);

    @Test
    void aClaimThatLandsAfterTheFirstPassIsPutBackByALaterPassWithinTheGrace() {
        Claim early = store.claim(1, NODE);
        store.claim(2, "b"); // another node's: never offered
        reconciler.claimAnswerLost();

        reconciler.runRound();
        assertThat(timer).containsExactly(entry(early));

        // The lost COMMIT reaches the server late: its job is claimed by this node only now.
        Claim late = store.claim(3, NODE);
        clock.advance(Duration.ofMillis(999));
        reconciler.runRound();
        assertThat(timer).as("the next pass waits 1 s").containsExactly(entry(early));

        clock.advance(Duration.ofMillis(1));
        reconciler.runRound();
        assertThat(timer).containsExactly(entry(early), entry(early), entry(late));
    }

    @Test
    void passesBackOffUntilTheGraceIsOverThenTheSweepEnds() {
        store.claim(1, NODE);
        reconciler.claimAnswerLost();

        List<Long> passesAt = new ArrayList<>();
        for (int second = 0; second <= 120; second++) {
            int before = store.reads;
            reconciler.runRound();
            if (store.reads > before) {
                passesAt.add((long) second);
            }
            clock.advance(Duration.ofSeconds(1));
        }

        // 1 s, 2 s, 4 s... after each pass, the last one when the 60 s grace is over; then none.
        assertThat(passesAt).containsExactly(0L, 1L, 3L, 7L, 15L, 31L, 60L);
        store.claim(2, NODE);
        reconciler.runRound();
        assertThat(timer).as("a claim after the grace is not a lost claim's").hasSize(7);
    }

    @Test
    void aSweepThatFailsGoesOnAtTheNextRoundsEvenPastTheGrace() {
        Claim claim = store.claim(1, NODE);
        store.down = true;
        reconciler.claimAnswerLost();

        for (int i = 0; i < 8; i++) {
            reconciler.runRound();
            clock.advance(Duration.ofSeconds(10)); // 80 s of outage: longer than the grace
        }
        assertThat(store.refused).isEqualTo(8);
        assertThat(timer).isEmpty();

        store.down = false;
        reconciler.runRound();
        assertThat(timer).containsExactly(entry(claim));
        int reads = store.reads;
        clock.advance(Duration.ofMinutes(5));
        reconciler.runRound();
        assertThat(store.reads).as("a pass that started after the grace ends the sweep").isEqualTo(reads);
    }

    @Test
    void aRoundReadsABoundedNumberOfClaimsAndTheNextGoesOnFromItsCursor() {
        int claims = ClaimReconciler.SWEEP_CLAIMS_PER_ROUND * 2 + 1_500;
        List<TimerEntry> expected = new ArrayList<>();
        for (int i = 1; i <= claims; i++) {
            expected.add(entry(store.claim(i, NODE)));
        }
        reconciler.claimAnswerLost();

        reconciler.runRound();
        assertThat(timer).hasSize(ClaimReconciler.SWEEP_CLAIMS_PER_ROUND);
        assertThat(store.reads).isEqualTo(ClaimReconciler.SWEEP_CLAIMS_PER_ROUND / ClaimReconciler.SWEEP_PAGE);
        reconciler.runRound();
        assertThat(timer).hasSize(2 * ClaimReconciler.SWEEP_CLAIMS_PER_ROUND);
        reconciler.runRound();

        assertThat(timer).as("every claim once, in id order").containsExactlyElementsOf(expected);
    }

    @Test
    void anotherLostAnswerDuringAPassStartsItOverFromTheFirstClaim() {
        int claims = ClaimReconciler.SWEEP_CLAIMS_PER_ROUND + 10;
        for (int i = 1; i <= claims; i++) {
            store.claim(i, NODE);
        }
        reconciler.claimAnswerLost();
        reconciler.runRound();
        assertThat(timer).hasSize(ClaimReconciler.SWEEP_CLAIMS_PER_ROUND);

        reconciler.claimAnswerLost();
        timer.clear();
        reconciler.runRound();

        assertThat(timer).hasSize(ClaimReconciler.SWEEP_CLAIMS_PER_ROUND);
        assertThat(timer.getFirst().id()).isEqualTo(new JobId(1, 1));
    }

    @Test
    void noSweepWithoutALostClaimAnswer() {
        store.claim(1, NODE);
        reconciler.runRound();
        clock.advance(Duration.ofSeconds(5));
        reconciler.runRound();
        assertThat(store.reads).isZero();
        assertThat(timer).isEmpty();
    }

    private static TimerEntry entry(Claim claim) {
        return new TimerEntry(claim.id(), claim.tenant(), claim.dueAt().toEpochMilli(), claim.fencingToken());
    }

    /** A store of SCHEDULED claims only, read by {@link #claimsOf}; everything else is out of this test. */
    private static final class ClaimsOnly extends StandInStore {
        private final NavigableMap<JobId, String> owners = new ConcurrentSkipListMap<>();
        volatile boolean down;
        int reads;
        int refused;

        Claim claim(long n, String owner) {
            JobId id = new JobId(n, n);
            owners.put(id, owner);
            return claimOf(id);
        }

        private static Claim claimOf(JobId id) {
            return new Claim(id, "t" + id.hi() % 3, T0.plusMillis(id.hi()), id.hi() % 5);
        }

        @Override
        public List<Claim> claimsOf(ClaimsOfParams page) {
            if (down) {
                refused++;
                throw new StoreUnavailableException("no connection (simulated outage)", null, false);
            }
            reads++;
            NavigableMap<JobId, String> from = page.after() == null ? owners : owners.tailMap(page.after(), false);
            return from.entrySet().stream().filter(e -> e.getValue().equals(page.owner())).limit(page.limit())
                    .map(e -> claimOf(e.getKey())).toList();
        }
    }
}
