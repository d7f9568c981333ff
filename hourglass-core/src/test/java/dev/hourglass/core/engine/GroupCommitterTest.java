package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.time.SystemTime;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the group committer gathers callers into batches. The store is a stand-in that records what each transaction
 * held and takes a fixed time per commit (no real store commits on cue); the real stores run the same paths in the
 * engine tests. Times are long here (a 400 ms commit, a gather of up to 100 ms) so that the order of events is
 * certain on a loaded machine; in production the gather is at most 200 us.
 */
class GroupCommitterTest {
    /** Each commit takes this long: the gather budget is a quarter of it (100 ms), under the test's maximum. */
    private static final long COMMIT_MILLIS = 400;
    /** Gaps between submissions: well inside the gather budget. */
    private static final long GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** Records the inserts and tasks of each transaction; every commit takes {@link #COMMIT_MILLIS}. */
    private static final class RecordingStore extends StandInStore {
        final List<String> transactions = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch firstBegun = new CountDownLatch(1);

        @Override
        public <R> R write(Durability durability, Function<StoreTx, R> work) {
            List<String> ops = Collections.synchronizedList(new ArrayList<>());
            StoreTx tx = (StoreTx) Proxy.newProxyInstance(StoreTx.class.getClassLoader(),
                    new Class<?>[] {StoreTx.class}, (proxy, method, args) -> {
                        if (method.getName().equals("insert")) {
                            List<?> jobs = (List<?>) args[0];
                            jobs.forEach(j -> ops.add("insert"));
                            return jobs.stream().map(j -> (InsertResult) new InsertResult.Created(null)).toList();
                        }
                        throw new UnsupportedOperationException(method.getName());
                    });
            firstBegun.countDown();
            R result = work.apply(tx);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(COMMIT_MILLIS));
            transactions.add(ops.isEmpty() ? "task" : String.join(",", ops));
            return result;
        }
    }

    private final RecordingStore store = new RecordingStore();
    private final GroupCommitter committer = new GroupCommitter(store, 2_000, EngineMetrics.NOOP,
            SystemTime.ticker(), TimeUnit.MILLISECONDS.toNanos(200));
    private final List<CompletableFuture<?>> futures = new ArrayList<>();

    @AfterEach
    void close() {
        committer.close();
    }

    private void insert() {
        NewJob job = EngineJobs.newJob();
        futures.add(committer.insert(job));
    }

    private void task() {
        futures.add(committer.task(Durability.LAZY, tx -> "done"));
    }

    /** A first commit of {@code callers} inserts, queued behind a task so that they go in one batch. */
    private void aBatchOf(int callers) throws InterruptedException {
        committer.start();
        task();
        assertThat(store.firstBegun.await(5, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < callers; i++) {
            insert();
        }
    }

    private List<String> committed() {
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
        return List.copyOf(store.transactions);
    }

    @Test
    void aBatchOfCallerWritesSmallerThanTheLastWaitsForTheCallersTheLastCommitReleased() throws Exception {
        aBatchOf(4);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();

        // The four callers come back one by one, as callers do after their commit.
        for (int i = 0; i < 4; i++) {
            insert();
            LockSupport.parkNanos(GAP_NANOS);
        }

        assertThat(committed()).containsExactly("task", "insert,insert,insert,insert",
                "insert,insert,insert,insert");
    }

    @Test
    void aLoneCallerNeverWaits() throws Exception {
        aBatchOf(1);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();

        insert();
        LockSupport.parkNanos(GAP_NANOS);
        insert();

        assertThat(committed()).containsExactly("task", "insert", "insert", "insert");
    }

    @Test
    void aBatchWithAStartFinishOrTaskIsNeverHeldBack() throws Exception {
        aBatchOf(4);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();

        task();
        LockSupport.parkNanos(GAP_NANOS);
        insert();
        insert();

        assertThat(committed()).containsExactly("task", "insert,insert,insert,insert", "task", "insert,insert");
    }
}
