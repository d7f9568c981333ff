package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.RetryRequest;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.time.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
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
 *   <li>an operation whose value the store refuses ({@link InvalidDataException}) fails alone, with that
 *       exception, and nothing of it is stored; the rest of its batch is committed without it, in a new
 *       transaction (one operation at a time when the store cannot say which operation it refused);</li>
 *   <li>if a batch fails otherwise, it is retried one operation per transaction so that one bad operation cannot fail
 *       its neighbours; an operation that still fails completes exceptionally with a {@link StoreException}, and
 *       nothing of it was stored;</li>
 *   <li>if the store cannot be reached ({@link StoreUnavailableException}) every operation of the batch fails at
 *       once with it (retrying them one by one would only wait for the store once per operation); the next batch
 *       tries again. When the exception says {@link StoreUnavailableException#outcomeUnknown() outcome unknown},
 *       the batch may have been committed: callers must not assume it was not (see {@link ClaimReconciler});</li>
 *   <li>an insert whose caller gave up waiting before its transaction began is left out (it is withdrawn: see
 *       {@link #insert(NewJob, BooleanSupplier)}), and completes with a {@link CancellationException}; once inside
 *       a transaction it is committed or failed like any other, and its future says which;</li>
 *   <li>the thread never dies of a failed batch, whatever the store throws (an {@link Error} too): otherwise every
 *       later caller would wait forever. An {@link Error} is still told to the engine's {@link Supervision}, which
 *       stops the node;</li>
 *   <li>the commit is fsync'd if any operation in it was promised to a caller (insert, cancel, reschedule, retry by
 *       hand).</li>
 * </ul>
 */
final class GroupCommitter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);

    /** One queued write and the future its caller waits on; {@link #durabilityOf} decides whether it is fsync'd. */
    private sealed interface Op {
        CompletableFuture<?> future();
    }

    private record InsertOp(NewJob job, BooleanSupplier withdrawn, CompletableFuture<InsertResult> future)
            implements Op {}

    private record StartOp(StartRun run, CompletableFuture<Optional<Job>> future) implements Op {}

    private record FinishOp(FinishRun run, CompletableFuture<Boolean> future) implements Op {}

    private record CancelOp(CancelRequest request, CompletableFuture<ChangeResult> future) implements Op {}

    private record RescheduleOp(RescheduleRequest request, CompletableFuture<ChangeResult> future) implements Op {}

    private record RetryOp(RetryRequest request, CompletableFuture<ChangeResult> future) implements Op {}

    private record TaskOp(Function<StoreTx, Object> work, Durability durability, CompletableFuture<Object> future)
            implements Op {}

    private final JobStore store;
    private final int maxBatch;
    private final EngineMetrics metrics;
    private final Ticker ticker;
    private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean storeReachable = true;
    /** The longest a batch waits for more callers ({@link #gather}). */
    private final long maxGatherNanos;
    /**
     * The size and duration of the last commit; the writer thread's own. Measured on the engine's ticker like every
     * wait: under a manual ticker a commit takes no time, so a batch never waits for more callers.
     */
    private int lastBatch;
    private long lastCommitNanos;
    /**
     * Operations enqueued and not yet completed. Decremented by the writer after a batch's completions ran, so the
     * writes those completions enqueue (a start's attempt, a finish's retry) are counted before the batch is not.
     */
    private final AtomicInteger outstanding = new AtomicInteger();
    /** Told of every {@link Error} the writer survives; set once by {@link #start(Thread.UncaughtExceptionHandler)}. */
    private volatile Thread.UncaughtExceptionHandler supervisor;

    /** The longest a batch of caller writes waits for more callers by default ({@link #gather}). */
    static final long MAX_GATHER_NANOS = 200_000;

    GroupCommitter(JobStore store, int maxBatch, EngineMetrics metrics, Ticker ticker) {
        this(store, maxBatch, metrics, ticker, MAX_GATHER_NANOS);
    }

    /** @param maxGatherNanos the longest a batch of caller writes waits for more callers (tests lengthen it) */
    GroupCommitter(JobStore store, int maxBatch, EngineMetrics metrics, Ticker ticker, long maxGatherNanos) {
        this.maxGatherNanos = maxGatherNanos;
        this.store = store;
        this.ticker = ticker;
        this.maxBatch = maxBatch;
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("hourglass-committer").daemon(true).unstarted(this::run);
    }

    void start() {
        start((Thread.UncaughtExceptionHandler) null);
    }

    /**
     * Starts the writer. The writer never dies of an {@link Error} (every later caller would wait forever); it
     * fails the batch that met it, tells {@code supervisor} (the engine fails: see {@link Supervision}) and goes on
     * serving the writes that remain, such as the hand-back of claims at close.
     */
    void start(Thread.UncaughtExceptionHandler supervisor) {
        this.supervisor = supervisor;
        thread.setUncaughtExceptionHandler(supervisor);
        thread.start();
    }

    /** An {@link Error} the writer survived, told to the supervisor so that it is not survived silently. */
    private void report(Error error) {
        Thread.UncaughtExceptionHandler to = supervisor;
        if (to != null) {
            to.uncaughtException(thread, error);
        }
    }

    CompletableFuture<InsertResult> insert(NewJob job) {
        return insert(job, () -> false);
    }

    /**
     * An insert that its caller may withdraw while it waits: {@code withdrawn} is asked inside the transaction,
     * right before the insert would be applied. True then means the insert is left out (nothing stored) and its
     * future completes with a {@link CancellationException}. After that point the future tells the truth: the
     * insert was committed (and the future completes with its result) or it failed.
     */
    CompletableFuture<InsertResult> insert(NewJob job, BooleanSupplier withdrawn) {
        return enqueue(new InsertOp(job, withdrawn, new CompletableFuture<>()));
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

    CompletableFuture<ChangeResult> retryFailed(RetryRequest request) {
        return enqueue(new RetryOp(request, new CompletableFuture<>()));
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
        outstanding.incrementAndGet();
        queue.add(op);
        return (F) op.future();
    }

    /** True when no operation waits or is being written (for a manual driver: nothing in flight). */
    boolean idle() {
        return outstanding.get() == 0;
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
                gather(batch);
                long began = ticker.nanoTime();
                commit(batch);
                lastCommitNanos = ticker.nanoTime() - began;
                lastBatch = batch.size();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                // commit() completes every future of its batch itself; this is a bug in the loop, never the store's.
                log.error("group commit loop error; continuing", e);
                batch.forEach(op -> fail(op, e));
                if (e instanceof Error error) {
                    report(error);
                }
            } finally {
                outstanding.addAndGet(-batch.size());
                batch.clear();
            }
        }
    }

    /**
     * Gathers the callers the last commit released. With N callers each waiting for its own commit, a commit of n
     * releases n of them; by the time they have scheduled again the writer has already taken the few that were
     * left over and committed them alone, so batches alternate between big and small and average well below N.
     * So when a batch of caller-acknowledged writes (inserts, cancels, reschedules, retries by hand) is smaller than
     * the last batch, the writer waits for more, until the batch is as large as the last one, or a quarter of the
     * last commit's time has passed, or {@link #maxGatherNanos}, whichever is first. Batches then stay close to N, so
     * the same callers need fewer commits. A batch with a start, finish or task in it is never held back (firing and
     * leases do not wait), and a lone caller never waits (the last batch was 1). Measured in docs/perf-log.md.
     */
    private void gather(List<Op> batch) throws InterruptedException {
        int expected = Math.min(lastBatch, maxBatch);
        if (expected < 2 || batch.size() >= expected || !batch.stream().allMatch(GroupCommitter::acknowledged)) {
            return;
        }
        long budget = Math.min(maxGatherNanos, lastCommitNanos / 4);
        while (batch.size() < expected && budget > 0) {
            long t0 = ticker.nanoTime();
            Op op = queue.poll(budget, TimeUnit.NANOSECONDS);
            if (op == null) {
                return;
            }
            batch.add(op);
            if (!acknowledged(op)) {
                return; // a start, finish or task: firing and leases are not held back
            }
            budget -= ticker.nanoTime() - t0;
        }
    }

    private static boolean acknowledged(Op op) {
        return op instanceof InsertOp || op instanceof CancelOp || op instanceof RescheduleOp
                || op instanceof RetryOp;
    }

    private void commit(List<Op> batch) {
        long started = ticker.nanoTime();
        List<Op> pending = batch;
        Runnable completions = null;
        while (completions == null) {
            List<Op> attempt = pending;
            try {
                completions = store.write(durabilityOf(attempt), tx -> apply(tx, attempt));
            } catch (Refused refused) {
                // Rolled back: the refused operation fails alone, the others go again without it. Each round
                // removes one operation, so this ends.
                storeReachable = true;
                fail(refused.op(), refused.getCause());
                pending = new ArrayList<>(attempt);
                pending.remove(refused.op());
                if (pending.isEmpty()) {
                    return;
                }
            } catch (StoreUnavailableException unreachable) {
                storeReachable = false;
                attempt.forEach(op -> fail(op, unreachable));
                return;
            } catch (RuntimeException | Error batchFailure) { // an Error too: a store bug must not kill the only writer
                storeReachable = true; // the store answered, with an error
                if (batchFailure instanceof Error error) {
                    report(error);
                }
                if (attempt.size() == 1) {
                    fail(attempt.getFirst(), batchFailure);
                    return;
                }
                log.warn("a batch of {} writes failed ({}); retrying them one by one", attempt.size(),
                        batchFailure.toString());
                commitOneByOne(attempt);
                return;
            }
        }
        storeReachable = true;
        // Outside the try: once committed, nothing may send these operations down the retry path again.
        completions.run();
        metrics.committed(pending.size(), ticker.nanoTime() - started);
    }

    /**
     * The store refused a value of {@link #op()} ({@link InvalidDataException}, the cause): thrown out of the
     * transaction's work so that the committer can leave that operation out. Never reaches a caller.
     */
    private static final class Refused extends RuntimeException {
        private final transient Op op;

        Refused(Op op, InvalidDataException cause) {
            super(cause.getMessage(), cause, false, false);
            this.op = op;
        }

        Op op() {
            return op;
        }

        @Override
        public synchronized InvalidDataException getCause() {
            return (InvalidDataException) super.getCause();
        }
    }

    /**
     * Runs one kind's batch call; a refusal that names its element becomes a {@link Refused} naming the operation.
     */
    private static <O extends Op, R> List<R> applyKind(List<O> ops, Function<List<O>, List<R>> call) {
        try {
            return call.apply(ops);
        } catch (InvalidDataException e) {
            if (e.element() >= 0 && e.element() < ops.size()) {
                throw new Refused(ops.get(e.element()), e);
            }
            throw e;
        }
    }

    private void commitOneByOne(List<Op> batch) {
        for (int i = 0; i < batch.size(); i++) {
            Op op = batch.get(i);
            Runnable completion;
            try {
                completion = store.write(durabilityOf(List.of(op)), tx -> apply(tx, List.of(op)));
            } catch (StoreUnavailableException unreachable) {
                // The store went away half-way: the rest would only wait for it in turn.
                storeReachable = false;
                batch.subList(i, batch.size()).forEach(rest -> fail(rest, unreachable));
                return;
            } catch (RuntimeException | Error e) {
                fail(op, e);
                continue;
            }
            completion.run();
        }
    }

    /**
     * False after the latest write failed because the store could not be reached, true after it answered (even
     * with an error). Writes happen at least once per load interval (the heartbeat), so this is fresh within about
     * one interval plus the store's timeouts.
     */
    boolean storeReachable() {
        return storeReachable;
    }

    private static void fail(Op op, Throwable e) {
        Throwable cause = e instanceof Refused refused ? refused.getCause() : e;
        StoreException failure = cause instanceof StoreException se ? se
                : new StoreException("store write failed", cause);
        op.future().completeExceptionally(failure);
    }

    private static Durability durabilityOf(List<Op> batch) {
        for (Op op : batch) {
            if (op instanceof InsertOp || op instanceof CancelOp || op instanceof RescheduleOp || op instanceof RetryOp
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
        List<Runnable> done = new ArrayList<>(batch.size());
        // Asked inside the transaction, so that a caller who gave up while the store was still connecting (the usual
        // case in an outage) has its insert left out. An op already completed (failed at shutdown) is left out too.
        List<Op> live = new ArrayList<>(batch.size());
        for (Op op : batch) {
            if (op instanceof InsertOp insert && insert.withdrawn().getAsBoolean()) {
                done.add(() -> insert.future().completeExceptionally(
                        new CancellationException("withdrawn: its caller stopped waiting before its transaction")));
            } else if (!op.future().isDone()) {
                live.add(op);
            }
        }
        batch = live;
        List<InsertOp> inserts = new ArrayList<>();
        List<CancelOp> cancels = new ArrayList<>();
        List<RescheduleOp> reschedules = new ArrayList<>();
        List<RetryOp> retries = new ArrayList<>();
        List<StartOp> starts = new ArrayList<>();
        List<FinishOp> finishes = new ArrayList<>();
        List<TaskOp> tasks = new ArrayList<>();
        for (Op op : batch) {
            switch (op) {
                case InsertOp o -> inserts.add(o);
                case CancelOp o -> cancels.add(o);
                case RescheduleOp o -> reschedules.add(o);
                case RetryOp o -> retries.add(o);
                case StartOp o -> starts.add(o);
                case FinishOp o -> finishes.add(o);
                case TaskOp o -> tasks.add(o);
            }
        }
        if (!inserts.isEmpty()) {
            complete(done, inserts, applyKind(inserts, ops -> tx.insert(ops.stream().map(InsertOp::job).toList())));
        }
        if (!cancels.isEmpty()) {
            complete(done, cancels, applyKind(cancels,
                    ops -> tx.cancel(ops.stream().map(CancelOp::request).toList())));
        }
        if (!reschedules.isEmpty()) {
            complete(done, reschedules, applyKind(reschedules,
                    ops -> tx.reschedule(ops.stream().map(RescheduleOp::request).toList())));
        }
        if (!retries.isEmpty()) {
            complete(done, retries, applyKind(retries,
                    ops -> tx.retryFailed(ops.stream().map(RetryOp::request).toList())));
        }
        if (!starts.isEmpty()) {
            complete(done, starts, applyKind(starts, ops -> tx.start(ops.stream().map(StartOp::run).toList())));
        }
        if (!finishes.isEmpty()) {
            complete(done, finishes, applyKind(finishes,
                    ops -> tx.finish(ops.stream().map(FinishOp::run).toList())));
        }
        for (TaskOp task : tasks) {
            Object result;
            try {
                result = task.work().apply(tx);
            } catch (InvalidDataException e) {
                throw new Refused(task, e); // whatever its position, it is this task's value
            }
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
