package dev.hourglass.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.testing.ManualEngine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The meters of a scripted run on the real engine over a real store (each subclass's), driven by a manual clock:
 * every count is exact, and the lateness histogram holds the lateness the clock made.
 */
abstract class HourglassMetricsContract {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    private final ManualClock clock = new ManualClock(T0);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private ManualEngine engine;
    private HourglassMetrics metrics;

    /** A new, empty store for one test; closed with the engine. */
    protected abstract JobStore openStore();

    /** The store's label, as {@link JobStore#kind()} says it. */
    protected abstract String storeKind();

    /** Removes what {@link #openStore} made, after the engine (and with it the store) is closed. */
    protected void dispose() throws Exception {}

    @AfterEach
    void close() throws Exception {
        if (engine != null) {
            engine.close();
        }
        dispose();
    }

    private ManualEngine start(HourglassMetrics.Builder options) {
        metrics = options.pendingEvery(Duration.ofHours(1)).build(); // sampled by the test, not the background
        engine = ManualEngine.start(Hourglass.builder()
                .store(openStore())
                .config(EngineConfig.builder("node-1")
                        .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1))).build())
                .metrics(metrics)
                .handler("work", ctx -> switch (new String(ctx.payload(), StandardCharsets.UTF_8)) {
                    case "fail" -> Outcome.retry("always fails");
                    case "boom" -> throw new IllegalStateException("boom");
                    default -> Outcome.succeeded();
                }), clock);
        return engine;
    }

    private JobId schedule(String tenant, String payload, Duration delay, int maxAttempts) {
        JobRequest request = JobRequest.of("work", payload.getBytes(StandardCharsets.UTF_8)).withTenant(tenant)
                .withMaxAttempts(maxAttempts);
        return engine.hourglass().schedule(request, When.after(delay)).job().id();
    }

    private double counter(String name, String... tags) {
        Counter counter = registry.find(name).tags(tags).counter();
        return counter == null ? 0 : counter.count();
    }

    private double gauge(String name, String... tags) {
        Gauge gauge = registry.find(name).tags(tags).gauge();
        assertThat(gauge).as(name + " " + Arrays.toString(tags)).isNotNull();
        return gauge.value();
    }

    @Test
    void countsAScriptedRunExactly() {
        start(HourglassMetrics.builder(registry));
        // 5 jobs of tenant a succeed, 2 of tenant b fail all 3 attempts, 1 of b throws once then is exhausted
        // (maxAttempts 1), 2 of a are cancelled before they fire.
        for (int i = 0; i < 5; i++) {
            schedule("a", "ok", Duration.ofSeconds(10), 3);
        }
        schedule("b", "fail", Duration.ofSeconds(10), 3);
        schedule("b", "fail", Duration.ofSeconds(10), 3);
        schedule("b", "boom", Duration.ofSeconds(10), 1);
        JobId c1 = schedule("a", "ok", Duration.ofMinutes(5), 3);
        JobId c2 = schedule("a", "ok", Duration.ofMinutes(5), 3);
        assertThat(engine.hourglass().cancel(c1)).isInstanceOf(ChangeResult.Changed.class);
        assertThat(engine.hourglass().cancel(c2)).isInstanceOf(ChangeResult.Changed.class);
        assertThat(engine.hourglass().cancel(c2)).isInstanceOf(ChangeResult.WrongState.class);

        engine.advance(Duration.ofMillis(10_250)).runDue(); // 250 ms late: every first attempt
        for (int i = 0; i < 2; i++) {
            engine.advance(Duration.ofSeconds(1)).runDue(); // the retries of the failing jobs, due on the backoff
        }

        assertThat(counter("hourglass.jobs.scheduled", "tenant", "a", "source", "library")).isEqualTo(7);
        assertThat(counter("hourglass.jobs.scheduled", "tenant", "b", "source", "library")).isEqualTo(3);
        assertThat(counter("hourglass.jobs.fired", "tenant", "a", "target_type", "in_process")).isEqualTo(5);
        assertThat(counter("hourglass.jobs.fired", "tenant", "b", "target_type", "in_process")).isEqualTo(7);
        assertThat(counter("hourglass.delivery.attempts", "tenant", "a", "outcome", "success")).isEqualTo(5);
        assertThat(counter("hourglass.delivery.attempts", "tenant", "b", "outcome", "handler_error",
                "status_class", "none")).isEqualTo(7);
        assertThat(counter("hourglass.jobs.finished", "tenant", "a", "result", "succeeded")).isEqualTo(5);
        assertThat(counter("hourglass.jobs.finished", "tenant", "a", "result", "cancelled")).isEqualTo(2);
        assertThat(counter("hourglass.jobs.finished", "tenant", "b", "result", "failed")).isEqualTo(3);
        assertThat(counter("hourglass.jobs.finished", "tenant", "b", "result", "succeeded")).isZero();

        Timer lateness = registry.find("hourglass.fire.lateness").tags("tenant", "a").timer();
        assertThat(lateness.count()).isEqualTo(5);
        assertThat(lateness.max(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(250);
        assertThat(bucket(lateness, Duration.ofMillis(100))).isZero();
        assertThat(bucket(lateness, Duration.ofMillis(250))).isEqualTo(5); // le is inclusive: exactly 250 ms
        Timer scheduleDuration = registry.find("hourglass.schedule.duration").tags("store", storeKind()).timer();
        assertThat(scheduleDuration.count()).isEqualTo(10);
        assertThat(registry.find("hourglass.store.commit.duration").tags("store", storeKind(), "kind", "group")
                .timer().count()).isPositive();
        assertThat(counter("hourglass.lease.renewals", "node", "node-1", "result", "renewed")).isPositive();
        assertThat(gauge("hourglass.store.up")).isEqualTo(1);
    }

    private static double bucket(Timer timer, Duration le) {
        for (CountAtBucket bucket : timer.takeSnapshot().histogramCounts()) {
            if (bucket.bucket(java.util.concurrent.TimeUnit.NANOSECONDS) == le.toNanos()) {
                return bucket.count();
            }
        }
        throw new AssertionError("no bucket at " + le);
    }

    @Test
    void pendingGaugesCountEachWindowAndTheOldestOverdueJob() {
        start(HourglassMetrics.builder(registry));
        schedule("a", "ok", Duration.ofSeconds(1), 3);
        schedule("a", "ok", Duration.ofSeconds(3), 3);
        schedule("a", "ok", Duration.ofSeconds(30), 3);
        schedule("a", "ok", Duration.ofMinutes(30), 3);
        schedule("b", "ok", Duration.ofHours(5), 3);
        schedule("b", "ok", Duration.ofDays(2), 3);
        engine.advance(Duration.ofSeconds(5)); // two jobs of a are now overdue: nothing ran them yet

        metrics.samplePending();

        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "overdue")).isEqualTo(2);
        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "lt_1m")).isEqualTo(1);
        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "lt_1h")).isEqualTo(1);
        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "ge_1d")).isZero();
        assertThat(gauge("hourglass.jobs.pending", "tenant", "b", "due_window", "lt_1d")).isEqualTo(1);
        assertThat(gauge("hourglass.jobs.pending", "tenant", "b", "due_window", "ge_1d")).isEqualTo(1);
        assertThat(gauge("hourglass.oldest.overdue.age", "tenant", "a")).isEqualTo(4.0);
        assertThat(gauge("hourglass.oldest.overdue.age", "tenant", "b")).isZero();

        engine.runDue();
        metrics.samplePending();

        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "overdue")).isZero();
        assertThat(gauge("hourglass.oldest.overdue.age", "tenant", "a")).isZero();
        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "lt_1m")).isEqualTo(1);
    }

    @Test
    void aNearSampleUpdatesTheWindowsWithinTheHourAndLeavesTheFarOnesAsTheyWere() {
        start(HourglassMetrics.builder(registry));
        schedule("a", "ok", Duration.ofHours(5), 3);
        metrics.samplePending(true);
        schedule("a", "ok", Duration.ofSeconds(1), 3);
        schedule("a", "ok", Duration.ofHours(6), 3);
        engine.advance(Duration.ofSeconds(2));

        metrics.samplePending(false);

        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "overdue")).isEqualTo(1);
        assertThat(gauge("hourglass.oldest.overdue.age", "tenant", "a")).isEqualTo(1.0);
        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "lt_1d"))
                .as("counted only by a sample of all jobs").isEqualTo(1);

        metrics.samplePending(true);

        assertThat(gauge("hourglass.jobs.pending", "tenant", "a", "due_window", "lt_1d")).isEqualTo(2);
    }

    @Test
    void tenantsBeyondTheLabelLimitShareTheLabelOther() {
        start(HourglassMetrics.builder(registry).tenantLabels(2));
        schedule("a", "ok", Duration.ofSeconds(1), 1);
        schedule("b", "ok", Duration.ofSeconds(1), 1);
        schedule("c", "ok", Duration.ofSeconds(1), 1);
        schedule("d", "ok", Duration.ofSeconds(1), 1);

        assertThat(counter("hourglass.jobs.scheduled", "tenant", "a")).isEqualTo(1);
        assertThat(counter("hourglass.jobs.scheduled", "tenant", "b")).isEqualTo(1);
        assertThat(counter("hourglass.jobs.scheduled", "tenant", "other")).isEqualTo(2);
        assertThat(registry.find("hourglass.jobs.scheduled").counters()).hasSize(3);
    }

    @Test
    void theServerNamesItsSourceAndTargetType() {
        start(HourglassMetrics.builder(registry).source("api").targetType(job -> "webhook"));
        schedule("a", "ok", Duration.ofSeconds(1), 1);
        engine.advance(Duration.ofSeconds(1)).runDue();

        assertThat(counter("hourglass.jobs.scheduled", "tenant", "a", "source", "api")).isEqualTo(1);
        assertThat(counter("hourglass.jobs.fired", "tenant", "a", "target_type", "webhook")).isEqualTo(1);
    }

    @Test
    void stoppingTheEngineRemovesItsNodeMeters() {
        start(HourglassMetrics.builder(registry));
        assertThat(registry.find("hourglass.timer.entries").gauge()).isNotNull();

        engine.close();
        engine = null;

        assertThat(registry.find("hourglass.timer.entries").gauge()).isNull();
        assertThat(registry.find("hourglass.lease.renewals").counters()).isEmpty();
    }
}
