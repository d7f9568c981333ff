package dev.hourglass.bench.jmh;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.engine.EngineView;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.metrics.HourglassMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the metrics cost each job, on a Prometheus registry: the events of a schedule (created, with its time to
 * durable), of a fire (lateness and fired), of a delivery attempt and of its end, over 8 tenants; and one scrape of
 * the registry they filled. Compare the events with the CPU a schedule takes (tens of microseconds on this machine,
 * docs/benchmarks.md) and the scrape with its interval: that is the share of the CPU the metrics take.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MetricsBench {
    private static final int TENANTS = 8;

    private PrometheusMeterRegistry registry;
    private HourglassMetrics metrics;
    private Job[] jobs;
    private int next;
    private final DeliveryAttempt attempt = new DeliveryAttempt("webhook", DeliveryAttempt.Result.SUCCESS, 200, "http://127.0.0.1:80",
            Duration.ofMillis(3));

    @Setup(Level.Trial)
    public void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = HourglassMetrics.builder(registry).pendingEvery(null).build();
        metrics.engineStarted(new FixedView());
        JobIdGenerator ids = new JobIdGenerator(InstantSource.fixed(Instant.parse("2030-01-01T00:00:00Z")));
        jobs = new Job[TENANTS];
        for (int i = 0; i < TENANTS; i++) {
            Instant now = Instant.parse("2030-01-01T00:00:00Z");
            jobs[i] = new Job(ids.next(), "tenant-" + i, "webhook", null, new byte[0], JobState.RUNNING, now, now, now,
                    1, 5, Backoff.DEFAULT, null, null, null, null, "node", 1, null);
        }
        for (Job job : jobs) { // every series exists, as in a running server
            everyEventOfOneJob(job);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        metrics.engineStopped();
        registry.close();
    }

    /** The events one schedule reports: created, with its time to durable. */
    @Benchmark
    public void schedule() {
        metrics.jobCreated(jobs[next++ & (TENANTS - 1)], Duration.ofMillis(2));
    }

    /** Every event of one job from schedule to success: created, fired (lateness), delivered, finished. */
    @Benchmark
    public void wholeJob() {
        everyEventOfOneJob(jobs[next++ & (TENANTS - 1)]);
    }

    private void everyEventOfOneJob(Job job) {
        metrics.jobCreated(job, Duration.ofMillis(2));
        metrics.attemptStarted(job, Duration.ofMillis(3));
        metrics.deliveryAttempted(job, attempt);
        metrics.attemptFinished(job, JobState.SUCCEEDED);
    }

    /** One scrape of the filled registry, as {@code GET /metrics} writes it (JVM meters not bound here). */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int scrape() {
        return registry.scrape().length();
    }

    /** What the engine would read; the store is never asked (the pending gauges are off here). */
    private static final class FixedView implements EngineView {
        @Override
        public String nodeId() {
            return "node";
        }

        @Override
        public JobStore store() {
            return (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(), new Class<?>[] {JobStore.class},
                    (proxy, method, args) -> method.getName().equals("kind") ? "sqlite" : null);
        }

        @Override
        public InstantSource wallClock() {
            return InstantSource.fixed(Instant.parse("2030-01-01T00:00:00Z"));
        }

        @Override
        public int timerEntries() {
            return 0;
        }

        @Override
        public boolean storeReachable() {
            return true;
        }
    }
}
