package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.api.TenantShares;
import dev.hourglass.core.model.JobId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The fair queue's order and limits, exactly: entries are named tenant + number ("a1"), and every assertion is the
 * sequence of names taken. No clock and no sleeping; the one blocking take is woken by a release from the test.
 */
class FairDispatchQueueTest {
    private static final int NO_LIMIT = TenantShares.NO_LIMIT;

    /** Shares the test changes as it goes, as the server's tenant cache would. */
    private static final class Shares implements TenantShares {
        final Map<String, Integer> weights = new ConcurrentHashMap<>();
        final Map<String, Integer> limits = new ConcurrentHashMap<>();
        final AtomicInteger asked = new AtomicInteger();
        final Map<String, AtomicInteger> limitAsked = new ConcurrentHashMap<>();

        @Override
        public int weight(String tenant) {
            asked.incrementAndGet();
            return weights.getOrDefault(tenant, 1);
        }

        @Override
        public int maxInFlight(String tenant) {
            limitAsked.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet();
            return limits.getOrDefault(tenant, NO_LIMIT);
        }
    }

    private final Shares shares = new Shares();
    /** Names by id, to print the take order. */
    private final Map<JobId, String> names = new ConcurrentHashMap<>();
    private long nextId = 1;

    private FairDispatchQueue fair(int maxInFlight) {
        return new FairDispatchQueue(maxInFlight, shares, true);
    }

    /** {@code count} entries of {@code tenant}, named tenant1..tenantN after those it already has. */
    private List<TimerEntry> entries(String tenant, int from, int count) {
        List<TimerEntry> list = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            JobId id = new JobId(0, nextId++);
            names.put(id, tenant + i);
            list.add(new TimerEntry(id, tenant, 0, 0));
        }
        return list;
    }

    private List<String> take(FairDispatchQueue queue, int max) throws InterruptedException {
        return queue.take(max, 0, TimeUnit.MILLISECONDS).stream().map(e -> names.get(e.id())).toList();
    }

    /** Takes one at a time, {@code n} times, as a dispatcher with one free slot after another would. */
    private List<String> takeOneByOne(FairDispatchQueue queue, int n) throws InterruptedException {
        List<String> taken = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            taken.addAll(take(queue, 1));
        }
        return taken;
    }

    @Test
    void backloggedTenantsWithWeightsOneAndThreeTakeTurnsOneToThree() throws Exception {
        shares.weights.put("b", 3);
        FairDispatchQueue queue = fair(100);
        queue.addAll(entries("a", 1, 4));
        queue.addAll(entries("b", 1, 12));

        assertThat(takeOneByOne(queue, 8)).containsExactly("a1", "b1", "b2", "b3", "a2", "b4", "b5", "b6");
        // A batch take (one group-commit write) follows the same order.
        assertThat(take(queue, 8)).containsExactly("a3", "b7", "b8", "b9", "a4", "b10", "b11", "b12");
        assertThat(queue.queued()).isZero();
        assertThat(queue.inFlight()).isEqualTo(16);
    }

    @Test
    void withinATenantEntriesLeaveInArrivalOrder() throws Exception {
        FairDispatchQueue queue = fair(100);
        queue.addAll(entries("a", 1, 3));
        queue.addAll(entries("b", 1, 1));
        queue.addAll(entries("a", 4, 2));
        assertThat(take(queue, 10)).containsExactly("a1", "b1", "a2", "a3", "a4", "a5");
    }

    @Test
    void aTenantAtItsLimitIsPassedOverUntilOneOfItsAttemptsEnds() throws Exception {
        shares.limits.put("a", 2);
        FairDispatchQueue queue = fair(100);
        queue.addAll(entries("a", 1, 5));
        queue.addAll(entries("b", 1, 5));

        assertThat(takeOneByOne(queue, 6)).containsExactly("a1", "b1", "a2", "b2", "b3", "b4");
        assertThat(take(queue, 10)).as("a holds its 2 slots: only b").containsExactly("b5");
        assertThat(take(queue, 10)).as("nothing may start").isEmpty();
        assertThat(queue.queued()).isEqualTo(3);

        queue.release("b"); // frees an engine slot, not one of a's
        assertThat(take(queue, 10)).isEmpty();
        queue.release("a");
        assertThat(take(queue, 10)).containsExactly("a3");
        queue.release("a");
        queue.release("a");
        assertThat(take(queue, 10)).containsExactly("a4", "a5");
    }

    @Test
    void aRaisedLimitIsSeenWhileTheTenantWaitsAtItsOldOneAndNothingElseCanStart() throws Exception {
        shares.limits.put("a", 1);
        FairDispatchQueue queue = fair(100);
        queue.addAll(entries("a", 1, 3));
        assertThat(take(queue, 10)).containsExactly("a1");
        shares.limits.put("a", 3);
        assertThat(take(queue, 10)).containsExactly("a2", "a3");
    }

    @Test
    void aRaisedLimitIsSeenWhenOneOfTheTenantsAttemptsEndsWhileOthersKeepTheQueueBusy() throws Exception {
        shares.limits.put("a", 1);
        FairDispatchQueue queue = fair(100);
        queue.addAll(entries("a", 1, 3));
        queue.addAll(entries("b", 1, 10));
        assertThat(take(queue, 3)).containsExactly("a1", "b1", "b2");
        shares.limits.put("a", 3);
        assertThat(take(queue, 2)).as("a is parked: b takes its turns").containsExactly("b3", "b4");
        queue.release("a");
        assertThat(take(queue, 6)).containsExactly("b5", "a2", "b6", "a3", "b7", "b8");
    }

    @Test
    void aTenantParkedAtItsLimitIsNotAskedAboutOnEveryTake() throws Exception {
        shares.limits.put("a", 1);
        FairDispatchQueue queue = fair(10_000);
        queue.addAll(entries("a", 1, 2));
        queue.addAll(entries("b", 1, 1_000));
        assertThat(take(queue, 2)).containsExactly("a1", "b1");
        int askedBefore = shares.limitAsked.get("a").get();

        for (int i = 0; i < 999; i++) {
            assertThat(take(queue, 1)).hasSize(1);
        }
        assertThat(shares.limitAsked.get("a").get() - askedBefore).as("asks about a during 999 takes of b")
                .isEqualTo(1); // once, when its turn came and found it at its limit
        assertThat(take(queue, 1)).as("only a's entry is left, and a is at its limit").isEmpty();
    }

    @Test
    void anIdleTenantsNewEntryIsTakenInTheNextTurnNotAfterTheBacklog() throws Exception {
        shares.weights.put("a", 3);
        FairDispatchQueue queue = fair(100_000);
        queue.addAll(entries("a", 1, 10_000));
        assertThat(takeOneByOne(queue, 2)).containsExactly("a1", "a2");

        queue.addAll(entries("b", 1, 1));
        // a finishes its open turn (a3), then it is b's turn: not after a's 9,997 other entries.
        assertThat(takeOneByOne(queue, 2)).containsExactly("a3", "b1");
        assertThat(takeOneByOne(queue, 3)).containsExactly("a4", "a5", "a6");

        // b went idle and comes back: it joins the ring at the back again, with a fresh turn.
        queue.addAll(entries("b", 2, 2));
        assertThat(take(queue, 8)).containsExactly("a7", "a8", "a9", "b2", "a10", "a11", "a12", "b3");
    }

    @Test
    void aWeightChangeIsPickedUpAtTheTenantsNextTurn() throws Exception {
        FairDispatchQueue queue = fair(100);
        queue.addAll(entries("a", 1, 20));
        queue.addAll(entries("b", 1, 20));
        assertThat(take(queue, 4)).containsExactly("a1", "b1", "a2", "b2");

        shares.weights.put("b", 3);
        assertThat(take(queue, 8)).containsExactly("a3", "b3", "b4", "b5", "a4", "b6", "b7", "b8");

        shares.weights.put("b", 1);
        shares.weights.put("a", 2);
        assertThat(take(queue, 6)).containsExactly("a5", "a6", "b9", "a7", "a8", "b10");
    }

    @Test
    void theEngineWideLimitHoldsForAllTenantsTogether() throws Exception {
        FairDispatchQueue queue = fair(3);
        queue.addAll(entries("a", 1, 5));
        queue.addAll(entries("b", 1, 5));

        assertThat(take(queue, 100)).containsExactly("a1", "b1", "a2");
        assertThat(take(queue, 100)).isEmpty();
        assertThat(queue.inFlight()).isEqualTo(3);
        queue.release("a");
        assertThat(take(queue, 100)).containsExactly("b2");
        queue.release("b");
        queue.release("a");
        assertThat(take(queue, 100)).containsExactly("a3", "b3");
        assertThat(queue.inFlight()).isEqualTo(3);
        assertThat(queue.queued()).isEqualTo(4);
    }

    @Test
    void withFairnessOffItIsOneFifoAcrossTenantsUnderTheEngineLimitOnly() throws Exception {
        shares.weights.put("b", 3);
        shares.limits.put("a", 1);
        FairDispatchQueue queue = new FairDispatchQueue(6, shares, false);
        queue.addAll(entries("a", 1, 3));
        queue.addAll(entries("b", 1, 2));
        queue.addAll(entries("a", 4, 2));

        assertThat(take(queue, 100)).containsExactly("a1", "a2", "a3", "b1", "b2", "a4");
        assertThat(take(queue, 100)).isEmpty();
        queue.release("a");
        assertThat(take(queue, 100)).containsExactly("a5");
        assertThat(shares.asked).as("the shares are not asked").hasValue(0);
    }

    @Test
    void aBlockedTakeIsWokenByARelease() throws Exception {
        FairDispatchQueue queue = fair(1);
        queue.addAll(entries("a", 1, 2));
        assertThat(take(queue, 10)).containsExactly("a1");

        CompletableFuture<List<TimerEntry>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return queue.take(10, 30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        queue.release("a");
        assertThat(waiting.get(10, TimeUnit.SECONDS)).extracting(e -> names.get(e.id())).containsExactly("a2");
    }

    @Test
    void aResumedAttemptTakesAnEngineSlotButIsNotHeldBackByItsTenantsLimit() throws Exception {
        shares.limits.put("a", 1);
        FairDispatchQueue queue = fair(2);
        queue.addAll(entries("a", 1, 1));
        assertThat(take(queue, 10)).containsExactly("a1");

        assertThat(queue.tryTakeSlot("a")).isTrue();
        assertThat(queue.tryTakeSlot("b")).as("the engine's 2 slots are taken").isFalse();
        assertThat(queue.inFlight()).isEqualTo(2);
        queue.release("a");
        queue.release("a");
        assertThat(queue.inFlight()).isZero();
    }

    @Test
    void aReleaseWithoutATakeIsIgnoredRatherThanCountedBelowZero() throws Exception {
        FairDispatchQueue queue = fair(1);
        queue.release("a");
        queue.addAll(entries("a", 1, 2));
        assertThat(take(queue, 10)).containsExactly("a1");
    }

    @Test
    void clearDropsWaitingEntriesAndAwaitIdleWaitsForTheRunningOnes() throws Exception {
        FairDispatchQueue queue = fair(10);
        queue.addAll(entries("a", 1, 3));
        queue.addAll(entries("b", 1, 3));
        assertThat(take(queue, 2)).containsExactly("a1", "b1");

        assertThat(queue.clear()).isEqualTo(4);
        assertThat(take(queue, 10)).isEmpty();
        assertThat(queue.awaitIdle(Duration.ZERO)).isFalse();
        queue.release("a");
        queue.release("b");
        assertThat(queue.awaitIdle(Duration.ZERO)).isTrue();
    }

    @Test
    void sharesThatThrowOrAnswerOutOfRangeFallBackToTheDefaults() throws Exception {
        TenantShares broken = new TenantShares() {
            @Override
            public int weight(String tenant) {
                if (tenant.equals("a")) {
                    throw new IllegalStateException("cache not loaded");
                }
                return 1_000_000;
            }

            @Override
            public int maxInFlight(String tenant) {
                if (tenant.equals("a")) {
                    throw new IllegalStateException("cache not loaded");
                }
                return 0;
            }
        };
        FairDispatchQueue queue = new FairDispatchQueue(100, broken, true);
        queue.addAll(entries("a", 1, 3));
        queue.addAll(entries("b", 1, 3));
        // a: weight 1, no limit. b: limit 0 taken as 1 (never 0: its jobs would never start).
        assertThat(take(queue, 10)).containsExactly("a1", "b1", "a2", "a3");
        queue.release("b");
        assertThat(take(queue, 10)).containsExactly("b2");
    }
}
