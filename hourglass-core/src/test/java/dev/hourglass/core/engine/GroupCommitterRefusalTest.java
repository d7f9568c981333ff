package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.time.SystemTime;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A value the store refuses fails its own operation only: one refused operation of each kind (insert, cancel,
 * reschedule, start, finish, task) sits in one batch with accepted operations of every kind, and every accepted one
 * completes with its result and is committed exactly once. The stand-in store refuses on cue, as a real store does
 * for an out-of-range instant or a NUL in text (the store contract checks that on SQLite and PostgreSQL), and keeps
 * nothing of a transaction whose work threw.
 */
class GroupCommitterRefusalTest {

    /** Refuses every element whose tenant or owner is {@code "bad"}; records the elements of committed writes. */
    private static final class RefusingStore extends StandInStore {
        final boolean knowsPosition;
        final List<List<String>> committed = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch blocking = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger transactions = new AtomicInteger();

        RefusingStore(boolean knowsPosition) {
            this.knowsPosition = knowsPosition;
        }

        @Override
        public <R> R write(Durability durability, Function<StoreTx, R> work) {
            transactions.incrementAndGet();
            List<String> written = new ArrayList<>();
            StoreTx tx = (StoreTx) Proxy.newProxyInstance(StoreTx.class.getClassLoader(),
                    new Class<?>[] {StoreTx.class}, (proxy, method, args) -> {
                        List<?> items = (List<?>) args[0];
                        List<Object> results = new ArrayList<>();
                        for (int i = 0; i < items.size(); i++) {
                            Object item = items.get(i);
                            String who = switch (item) {
                                case NewJob j -> j.tenant();
                                case CancelRequest c -> c.tenant();
                                case RescheduleRequest r -> r.tenant();
                                case StartRun s -> s.owner();
                                case FinishRun f -> f.owner();
                                default -> throw new UnsupportedOperationException(method.getName());
                            };
                            if (who.equals("bad")) {
                                throw new InvalidDataException("tenant", "refused on cue", knowsPosition ? i : -1,
                                        null);
                            }
                            written.add(method.getName() + ":" + who);
                            results.add(switch (item) {
                                case NewJob j -> new InsertResult.Created(j.toJob());
                                case StartRun s -> Optional.empty();
                                case FinishRun f -> true;
                                default -> new ChangeResult.NotFound();
                            });
                        }
                        return results;
                    });
            R result = work.apply(tx); // a throw leaves nothing: this transaction is never recorded
            committed.add(written);
            return result;
        }
    }

    private RefusingStore store;
    private GroupCommitter committer;

    @AfterEach
    void close() {
        if (committer != null) {
            committer.close();
        }
    }

    @ParameterizedTest(name = "the store names the refused element: {0}")
    @ValueSource(booleans = {true, false})
    void aRefusedOperationOfEachKindFailsAloneAndEveryOtherIsCommittedOnce(boolean knowsPosition) throws Exception {
        store = new RefusingStore(knowsPosition);
        committer = new GroupCommitter(store, 1_000, EngineMetrics.NOOP, SystemTime.ticker(), 0);
        committer.start();
        // A first task holds the writer so that everything below is queued and drained into one batch.
        CompletableFuture<Object> holder = committer.task(Durability.LAZY, tx -> {
            store.blocking.countDown();
            await(store.release);
            return "held";
        });
        assertThat(store.blocking.await(5, TimeUnit.SECONDS)).isTrue();

        List<CompletableFuture<?>> good = new ArrayList<>();
        List<CompletableFuture<?>> bad = new ArrayList<>();
        for (String who : List.of("good-1", "bad", "good-2")) {
            List<CompletableFuture<?>> side = who.equals("bad") ? bad : good;
            NewJob job = new NewJob(EngineJobs.nextId(), who, "webhook", null, new byte[0], EngineJobs.T0,
                    EngineJobs.T0, 3, Backoff.DEFAULT, null, null, null, null, null);
            side.add(committer.insert(job));
            side.add(committer.cancel(new CancelRequest(EngineJobs.nextId(), who, EngineJobs.T0)));
            side.add(committer.reschedule(new RescheduleRequest(EngineJobs.nextId(), who, EngineJobs.T0, null,
                    EngineJobs.T0)));
            side.add(committer.start(new StartRun(EngineJobs.nextId(), who, 1, EngineJobs.T0)));
            side.add(committer.finish(new FinishRun(EngineJobs.nextId(), who, 1, JobState.SUCCEEDED, null, null,
                    null, EngineJobs.T0)));
            side.add(committer.task(Durability.LAZY, tx -> {
                if (who.equals("bad")) {
                    throw new InvalidDataException("node", "refused on cue", 0, null);
                }
                return who;
            }));
        }
        store.release.countDown();
        assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo("held");

        for (CompletableFuture<?> future : good) {
            assertThat(future).succeedsWithin(10, TimeUnit.SECONDS);
        }
        for (CompletableFuture<?> future : bad) {
            assertThat(future).failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
                    .havingCause().isInstanceOf(InvalidDataException.class);
        }
        List<String> committed = store.committed.stream().flatMap(List::stream).toList();
        assertThat(committed).containsExactlyInAnyOrder(
                "insert:good-1", "cancel:good-1", "reschedule:good-1", "start:good-1", "finish:good-1",
                "insert:good-2", "cancel:good-2", "reschedule:good-2", "start:good-2", "finish:good-2");
        assertThat(committed).noneMatch(op -> op.endsWith(":bad"));
        if (knowsPosition) {
            // The held task, then one rolled-back attempt per refused operation (6), then the rest in one commit.
            assertThat(store.transactions.get()).isEqualTo(1 + 6 + 1);
            assertThat(store.committed).hasSize(2);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new CompletionException(new IllegalStateException("never released"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        }
    }
}
