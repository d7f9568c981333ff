package dev.hourglass.bench;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.impl.StdSchedulerFactory;

/**
 * Quartz 2.5 with its JDBC store as a cluster would run it: JobStoreTX, isClustered=true, PostgreSQLDelegate, its
 * own tables_postgres.sql (read from the Quartz jar), its HikariCP connection provider, its default 10 worker
 * threads. One job and one simple trigger per scheduled job; a job factory hands Quartz a no-op job that reports
 * the trigger's scheduled fire time to {@link Firings}.
 */
final class QuartzOnPg implements PgSystem {
    static final int THREADS = 10; // Quartz's usual threadCount
    private static final int POOL_SIZE = 24;
    private static final int PRELOAD_BATCH = 500;
    /**
     * Raised from the default 60 s to an hour: a trigger more than the threshold late is "misfired" and re-planned
     * to fire now, which would rewrite the scheduled fire time this bench measures lateness against, and add
     * misfire sweeps to the drain. With an hour, Quartz fires every job as it was scheduled, just late.
     */
    static final long MISFIRE_THRESHOLD_MS = 3_600_000;
    private static final AtomicLong NAMES = new AtomicLong();

    private final Scheduler scheduler;
    private final String payload = new String(HourglassOnPg.PAYLOAD, StandardCharsets.UTF_8);

    private QuartzOnPg(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    static Contender contender() {
        return new Contender("quartz", "Quartz, JDBC clustered",
                "Quartz 2.5.2, JobStoreTX, isClustered=true, PostgreSQLDelegate, tables_postgres.sql, HikariCP "
                        + "provider (maxConnections " + POOL_SIZE + "), threadCount " + THREADS
                        + ", misfireThreshold 1 h (default 60 s), other settings default",
                1, true, QuartzOnPg::open);
    }

    static QuartzOnPg open(PgServer server, String schema, Firings firings) throws SchedulerException {
        SqlScript.run(server, schema, "org/quartz/impl/jdbcjobstore/tables_postgres.sql");
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", "bench_" + schema);
        p.setProperty("org.quartz.scheduler.instanceId", "AUTO");
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.threadPool.threadCount", String.valueOf(THREADS));
        p.setProperty("org.quartz.jobStore.class", "org.quartz.impl.jdbcjobstore.JobStoreTX");
        p.setProperty("org.quartz.jobStore.driverDelegateClass", "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate");
        p.setProperty("org.quartz.jobStore.isClustered", "true");
        p.setProperty("org.quartz.jobStore.misfireThreshold", String.valueOf(MISFIRE_THRESHOLD_MS));
        // Quartz registers data sources by name in a JVM-wide manager: one name per scheduler.
        String ds = "org.quartz.dataSource.ds_" + schema;
        p.setProperty("org.quartz.jobStore.dataSource", "ds_" + schema);
        p.setProperty(ds + ".provider", "hikaricp");
        p.setProperty(ds + ".driver", "org.postgresql.Driver");
        p.setProperty(ds + ".URL", server.urlFor(schema));
        p.setProperty(ds + ".user", server.user());
        p.setProperty(ds + ".password", server.password() != null ? server.password() : "");
        p.setProperty(ds + ".maxConnections", String.valueOf(POOL_SIZE));
        Scheduler scheduler = new StdSchedulerFactory(p).getScheduler();
        Job job = ctx -> firings.fired(ctx.getScheduledFireTime().toInstant(), 0);
        scheduler.setJobFactory((bundle, s) -> job);
        return new QuartzOnPg(scheduler);
    }

    /** Through scheduleJobs: one call stores a batch of jobs and triggers under one lock and one transaction. */
    @Override
    public void preload(List<Instant> dueTimes) throws SchedulerException {
        for (int from = 0; from < dueTimes.size(); from += PRELOAD_BATCH) {
            Map<JobDetail, Set<? extends Trigger>> batch = new LinkedHashMap<>();
            for (Instant due : dueTimes.subList(from, Math.min(dueTimes.size(), from + PRELOAD_BATCH))) {
                String name = "job-" + NAMES.incrementAndGet();
                batch.put(job(name), Set.of(trigger(name, due)));
            }
            scheduler.scheduleJobs(batch, false);
        }
    }

    @Override
    public void start() throws SchedulerException {
        scheduler.start();
    }

    /** scheduleJob(job, trigger): returns after JobStoreTX committed both rows. */
    @Override
    public void schedule(int caller, Instant dueAt) throws SchedulerException {
        String name = "job-" + NAMES.incrementAndGet();
        scheduler.scheduleJob(job(name), trigger(name, dueAt));
    }

    private JobDetail job(String name) {
        return JobBuilder.newJob(NoopJob.class).withIdentity(name, "bench").usingJobData("payload", payload).build();
    }

    private static Trigger trigger(String name, Instant dueAt) {
        return TriggerBuilder.newTrigger().withIdentity(name, "bench").startAt(Date.from(dueAt))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule()).build();
    }

    /**
     * Waits for the scheduler thread and the running jobs (no-ops) before the pool closes: without waiting, the
     * scheduler thread can be mid-query when Quartz closes its pool, and logs a broken connection.
     */
    @Override
    public void close() {
        try {
            scheduler.shutdown(true);
        } catch (SchedulerException e) {
            throw new IllegalStateException("Quartz did not shut down: " + e.getMessage(), e);
        }
    }

    /** The class name Quartz stores with each job; the job factory hands out the reporting job instead. */
    public static final class NoopJob implements Job {
        @Override
        public void execute(org.quartz.JobExecutionContext context) {}
    }
}
