package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.time.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer to the store. Callers enqueue operations and get a future; one thread drains whatever has queued
 * up (up to {@code maxBatch}), applies it in ONE transaction with ONE commit, and only then completes the futures.
 * So a caller is acknowledged after the commit that holds its write, and concurrent callers share the fsync: the
 * more callers wait, the bigger the batch, the cheaper each write (group commit).
 *
 * <p>Hand-written because it is the heart of the durability promise. Invariants:
 * <ul>
 *   <li>a future completes only after {@link JobStore#write} returned, i.e. after the commit;</li>
 *   <li>if a batch fails, it is retried one operation per transaction so that one bad operation cannot fail its
 *       neighbours; an operation that still fails completes exceptionally with a {@link StoreException}, and nothing
 *       of it was stored;</li>
 *   <li>the commit is fsync'd if any operation in it was promised to a caller (insert, cancel, reschedule).</li>
 * </ul>
 */
final class GroupCommitter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);

    /** One queued write and the future its caller waits on; {@link #durabilityOf} decides whether it is fsync'd. */
    private sealed interface Op {
        CompletableFuture<?> future();
    }

    private record InsertOp(NewJob job, CompletableFuture<InsertResult> future) implements Op {}

    private record StartOp(StartRun run, CompletableFuture<Optional<Job>> future) implements Op {}

    private record FinishOp(FinishRun run, CompletableFuture<Boolean> future) implements Op {}

    private record CancelOp(CancelRequest request, CompletableFuture<ChangeResult> future) implements Op {}

    private record RescheduleOp(RescheduleRequest request, CompletableFuture<ChangeResult> future) implements Op {}

    private record TaskOp(Function<StoreTx, Object> work, Durability durability, CompletableFuture<Object> future)
            implements Op {}

    private final JobStore store;
    private final int maxBatch;
    private final EngineMetrics metrics;
    private final Ticker ticker;
    private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean stopping;

    GroupCommitter(JobStore store, int maxBatch, EngineMetrics metrics, Ticker ticker) {
        this.store = store;
        this.ticker = ticker;
        this.maxBatch = maxBatch;
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("hourglass-committer").daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    CompletableFuture<InsertResult> insert(NewJob job) {
        return enqueue(new InsertOp(job, new CompletableFuture<>()));
    }

    CompletableFuture<Optional<Job>> start(StartRun run) {
        return enqueue(new StartOp(run, new CompletableFuture<>()));
    }

    CompletableFuture<Boolean> finish(FinishRun run) {
        return enqueue(new FinishOp(run, new CompletableFuture<>()));
    }

    CompletableFuture<ChangeResult> cancel(CancelRequest request) {
        return enqueue(new CancelOp(request, new CompletableFuture<>()));
    }

    CompletableFuture<ChangeResult> reschedule(RescheduleRequest request) {
        return enqueue(new RescheduleOp(request, new CompletableFuture<>()));
    }

    /** Runs arbitrary store work (claims, heartbeats, rescue, pruning) in the next transaction. */
    @SuppressWarnings("unchecked")
    <R> CompletableFuture<R> task(Durability durability, Function<StoreTx, R> work) {
        CompletableFuture<Object> future = new CompletableFuture<>();
        enqueue(new TaskOp((Function<StoreTx, Object>) work, durability, future));
        return (CompletableFuture<R>) future;
    }

    @SuppressWarnings("unchecked")
    private <F extends CompletableFuture<?>> F enqueue(Op op) {
        if (stopping && !(op instanceof TaskOp) && !(op instanceof FinishOp)) {
            op.future().completeExceptionally(new IllegalStateException("Hourglass is shutting down"));
            return (F) op.future();
        }
        queue.add(op);
        return (F) op.future();
    }

    private void run() {
        List<Op> batch = new ArrayList<>(maxBatch);
        while (true) {
            try {
                Op first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping && queue.isEmpty()) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                commit(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("group commit loop error; continuing", e);
            } finally {
                batch.clear();
            }
        }
    }

    private void commit(List<Op> batch) {
        long started = ticker.nanoTime();
        try {
            Runnable completions = store.write(durabilityOf(batch), tx -> apply(tx, batch));
            completions.run();
            metrics.committed(batch.size(), ticker.nanoTime() - started);
        } catch (RuntimeException batchFailure) {
            if (batch.size() == 1) {
                fail(batch.getFirst(), batchFailure);
                return;
            }
            log.warn("a batch of {} writes failed ({}); retrying them one by one", batch.size(),
                    batchFailure.toString());
            for (Op op : batch) {
                try {
                    store.write(durabilityOf(List.of(op)), tx -> apply(tx, List.of(op))).run();
                } catch (RuntimeException e) {
                    fail(op, e);
                }
            }
        }
    }

    private static void fail(Op op, RuntimeException e) {
        StoreException failure = e instanceof StoreException se ? se : new StoreException("store write failed", e);
        op.future().completeExceptionally(failure);
    }

    private static Durability durabilityOf(List<Op> batch) {
        for (Op op : batch) {
            if (op instanceof InsertOp || op instanceof CancelOp || op instanceof RescheduleOp
                    || (op instanceof TaskOp t && t.durability() == Durability.FSYNC)) {
                return Durability.FSYNC;
            }
        }
        return Durability.LAZY;
    }

    /**
     * Applies a batch inside one transaction, grouping operations by kind so each kind is one batch call. Returns
     * the completions to run after the commit; nothing is completed inside the transaction.
     */
    private static Runnable apply(StoreTx tx, List<Op> batch) {
        List<InsertOp> inserts = new ArrayList<>();
        List<CancelOp> cancels = new ArrayList<>();
        List<RescheduleOp> reschedules = new ArrayList<>();
        List<StartOp> starts = new ArrayList<>();
        List<FinishOp> finishes = new ArrayList<>();
        List<TaskOp> tasks = new ArrayList<>();
        for (Op op : batch) {
            switch (op) {
                case InsertOp o -> inserts.add(o);
                case CancelOp o -> cancels.add(o);
                case RescheduleOp o -> reschedules.add(o);
                case StartOp o -> starts.add(o);
                case FinishOp o -> finishes.add(o);
                case TaskOp o -> tasks.add(o);
            }
        }
        List<Runnable> done = new ArrayList<>(batch.size());
        if (!inserts.isEmpty()) {
            complete(done, inserts, tx.insert(inserts.stream().map(InsertOp::job).toList()));
        }
        if (!cancels.isEmpty()) {
            complete(done, cancels, tx.cancel(cancels.stream().map(CancelOp::request).toList()));
        }
        if (!reschedules.isEmpty()) {
            complete(done, reschedules, tx.reschedule(reschedules.stream().map(RescheduleOp::request).toList()));
        }
        if (!starts.isEmpty()) {
            complete(done, starts, tx.start(starts.stream().map(StartOp::run).toList()));
        }
        if (!finishes.isEmpty()) {
            complete(done, finishes, tx.finish(finishes.stream().map(FinishOp::run).toList()));
        }
        for (TaskOp task : tasks) {
            Object result = task.work().apply(tx);
            done.add(() -> task.future().complete(result));
        }
        return () -> done.forEach(Runnable::run);
    }

    @SuppressWarnings("unchecked")
    private static <R> void complete(List<Runnable> done, List<? extends Op> ops, List<R> results) {
        if (results.size() != ops.size()) {
            throw new StoreException("store returned " + results.size() + " results for " + ops.size() + " writes");
        }
        for (int i = 0; i < ops.size(); i++) {
            CompletableFuture<R> future = (CompletableFuture<R>) ops.get(i).future();
            R result = results.get(i);
            done.add(() -> future.complete(result));
        }
    }

    /** Stops taking caller writes, commits what is queued, and stops the thread. */
    @Override
    public void close() {
        stopping = true;
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Op op;
        while ((op = queue.poll()) != null) {
            op.future().completeExceptionally(new IllegalStateException("Hourglass is shut down"));
        }
    }
}
