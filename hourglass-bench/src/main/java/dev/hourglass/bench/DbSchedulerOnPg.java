package dev.hourglass.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerBuilder;
import com.github.kagkarlsson.scheduler.task.SchedulableInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * db-scheduler 16.x on its own {@code scheduled_tasks} table: one one-time task whose no-op handler reports to
 * {@link Firings}, its default 10 executor threads, a HikariCP pool large enough that no thread waits for a
 * connection (10 executors + 8 callers + the poller and housekeeping). The poll interval is 100 ms for both
 * strategies: the default interval (10 s) would only measure the interval.
 */
final class DbSchedulerOnPg implements PgSystem {
    static final Duration POLL_INTERVAL = Duration.ofMillis(100);
    static final int THREADS = 10; // db-scheduler's default
    private static final int POOL_SIZE = 24;
    private static final int PRELOAD_BATCH = 1_000;

    private final HikariDataSource pool;
    private final OneTimeTask<byte[]> task;
    private final Scheduler scheduler;

    private DbSchedulerOnPg(HikariDataSource pool, OneTimeTask<byte[]> task, Scheduler scheduler) {
        this.pool = pool;
        this.task = task;
        this.scheduler = scheduler;
    }

    /** The default polling strategy (fetch, then lock each execution on execute; limits 0.5x-3x the threads). */
    static Contender defaultPolling() {
        return new Contender("db-scheduler", "db-scheduler, default polling",
                "db-scheduler 16.7.1, default polling strategy (fetch-and-lock-on-execute, 0.5x..3x threads), "
                        + "poll interval 100 ms, 10 threads, HikariCP pool " + POOL_SIZE,
                1, false, (server, schema, firings) -> open(server, schema, firings, false));
    }

    /** pollUsingLockAndFetch: one UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING picks a batch. */
    static Contender lockAndFetch() {
        return new Contender("db-scheduler-lf", "db-scheduler, lock-and-fetch",
                "db-scheduler 16.7.1, pollUsingLockAndFetch(0.5, 1.0) (its documented limits), poll interval "
                        + "100 ms, 10 threads, HikariCP pool " + POOL_SIZE,
                1, false, (server, schema, firings) -> open(server, schema, firings, true));
    }

    static DbSchedulerOnPg open(PgServer server, String schema, Firings firings, boolean lockAndFetch) {
        SqlScript.run(server, schema, "peers/db-scheduler-postgresql.sql");
        HikariDataSource pool = server.pool(schema, POOL_SIZE, "db-scheduler-bench");
        try {
            OneTimeTask<byte[]> task = Tasks.oneTime("noop", byte[].class)
                    .execute((instance, ctx) -> firings.fired(ctx.getExecution().executionTime, 0));
            SchedulerBuilder builder = Scheduler.create(pool, task)
                    .threads(THREADS)
                    .pollingInterval(POLL_INTERVAL)
                    // Bounded: a stop waits for running executions (no-ops here) at most this long, not 30 min.
                    .shutdownMaxWait(Duration.ofSeconds(10));
            if (lockAndFetch) {
                builder = builder.pollUsingLockAndFetch(0.5, 1.0);
            }
            return new DbSchedulerOnPg(pool, task, builder.build());
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** Through scheduleBatch (JDBC batches of inserts), 1,000 executions per call. */
    @Override
    public void preload(List<Instant> dueTimes) {
        for (int from = 0; from < dueTimes.size(); from += PRELOAD_BATCH) {
            List<SchedulableInstance<?>> batch = new ArrayList<>(PRELOAD_BATCH);
            for (Instant due : dueTimes.subList(from, Math.min(dueTimes.size(), from + PRELOAD_BATCH))) {
                batch.add(SchedulableInstance.of(task.instance(UUID.randomUUID().toString(),
                        HourglassOnPg.PAYLOAD), due));
            }
            scheduler.scheduleBatch(batch);
        }
    }

    @Override
    public void start() {
        scheduler.start();
    }

    /**
     * scheduleIfNotExists: the non-deprecated single-instance call of 16.x; it returns after its INSERT has
     * committed (autocommit on a pooled connection, synchronous_commit on).
     */
    @Override
    public void schedule(int caller, Instant dueAt) {
        scheduler.scheduleIfNotExists(task.instance(UUID.randomUUID().toString(), HourglassOnPg.PAYLOAD), dueAt);
    }

    @Override
    public void close() {
        try {
            scheduler.stop();
        } finally {
            pool.close();
        }
    }
}
