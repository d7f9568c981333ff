package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.time.ManualClock;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where the horizon loader's claims are written: beside the group committer on a store that allows concurrent
 * writes (so a claim over a backlog and the committer's starts and finishes run side by side), in its queue
 * otherwise. The store is a stand-in whose inserts hang on cue, which no real store does; the PostgreSQL engine
 * tests run the same path against a real server.
 */
@Timeout(30) // a claim queued behind the hung write would wait forever
class ClaimsBesideTheWriterTest {
    private static final String NODE = "a";

    private final ManualClock clock = new ManualClock(EngineJobs.T0);
    private final AtomicInteger answersLost = new AtomicInteger();
    private final FiringLoop timer = new FiringLoop(clock, entries -> {});
    private HeldInserts store;
    private GroupCommitter committer;
    private HorizonLoader loader;

    private void start(boolean concurrentWrites) {
        store = new HeldInserts(concurrentWrites);
        committer = new GroupCommitter(store, 2_000, EngineMetrics.NOOP, clock, 0);
        committer.start();
        loader = new HorizonLoader(EngineConfig.defaults(NODE), clock, committer, timer, clock, store,
                answersLost::incrementAndGet, EngineMetrics.NOOP);
    }

    @AfterEach
    void stop() {
        store.release.countDown();
        committer.close();
    }

    @Test
    void aClaimDoesNotWaitForAWriteTheCommitterIsStuckIn() throws Exception {
        start(true);
        CompletableFuture<InsertResult> insert = committer.insert(EngineJobs.newJob());
        assertThat(store.insertBegun.await(5, TimeUnit.SECONDS)).isTrue();

        loader.claimNow();

        assertThat(timer.size()).as("claimed while the committer's write hangs").isEqualTo(3);
        assertThat(insert).isNotDone();
        store.release.countDown();
        assertThat(insert.get(5, TimeUnit.SECONDS)).isInstanceOf(InsertResult.Created.class);
    }

    @Test
    void onAStoreWithOneWriterAClaimQueuesBehindTheCommittersWrite() throws Exception {
        start(false);
        committer.insert(EngineJobs.newJob());
        assertThat(store.insertBegun.await(5, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> claim = CompletableFuture.runAsync(loader::claimNow);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> timer.size() == 0);
        store.release.countDown();

        claim.get(5, TimeUnit.SECONDS);
        assertThat(timer.size()).isEqualTo(3);
    }

    @Test
    void aClaimBesideTheCommitterWhoseAnswerIsLostStartsTheClaimSweep() {
        start(true);
        store.loseClaimAnswers = true;

        loader.claimNow(); // logs and returns, as a failed claim through the committer does

        assertThat(answersLost).hasValue(1);
        assertThat(timer.size()).isZero();
    }

    /**
     * Inserts hang until {@link #release}; a claim claims three jobs due now, or fails with an unknown outcome when
     * {@link #loseClaimAnswers} is set. A write runs on the calling thread, as on PostgreSQL each on its own
     * connection.
     */
    private static final class HeldInserts extends StandInStore {
        final CountDownLatch insertBegun = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final boolean concurrentWrites;
        volatile boolean loseClaimAnswers;

        HeldInserts(boolean concurrentWrites) {
            this.concurrentWrites = concurrentWrites;
        }

        @Override
        public boolean concurrentWrites() {
            return concurrentWrites;
        }

        @Override
        public boolean exclusive() {
            return false;
        }

        @Override
        public <R> R write(Durability durability, Function<StoreTx, R> work) {
            return work.apply((StoreTx) Proxy.newProxyInstance(StoreTx.class.getClassLoader(),
                    new Class<?>[] {StoreTx.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "insert" -> {
                            insertBegun.countDown();
                            release.await();
                            yield ((List<?>) args[0]).stream()
                                    .map(j -> (InsertResult) new InsertResult.Created(null)).toList();
                        }
                        case "claimDue" -> {
                            if (loseClaimAnswers) {
                                throw new StoreUnavailableException("connection lost during commit (simulated)",
                                        null, true);
                            }
                            yield claimed(((ClaimDueParams) args[0]).owner());
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    }));
        }

        private static List<Job> claimed(String owner) {
            return List.of(1, 2, 3).stream()
                    .map(i -> EngineJobs.stored(EngineJobs.nextId(), EngineJobs.T0, JobState.SCHEDULED, owner, i))
                    .toList();
        }
    }
}
