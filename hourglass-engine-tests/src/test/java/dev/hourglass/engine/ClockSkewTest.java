package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.time.StoreClock;
import dev.hourglass.core.time.Ticker;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One cluster clock: two nodes on one schema, one of them with a wall clock deliberately {@link #SKEW} ahead. Each
 * node measures its offset from PostgreSQL's clock and times jobs by it, so a job scheduled on one node "in 1.5 s"
 * and fired by the other fires 1.5 s after it was scheduled in real time (measured on this JVM's monotonic clock),
 * not 3 s early (at once) or 3 s late, as each node's own clock would have it.
 */
class ClockSkewTest {
    private static final Duration SKEW = Duration.ofSeconds(3);
    private static final Duration DELAY = Duration.ofMillis(1500);
    private static final int JOBS = 5;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** When each job's handler ran, on {@link System#nanoTime}. */
    private final Map<JobId, Long> ranAt = new ConcurrentHashMap<>();
    private String schema;

    @BeforeEach
    void newSchema() {
        schema = TestDatabase.newSchemaName();
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        TestDatabase.dropSchema(schema);
    }

    private PostgresJobStore openStore() {
        PostgresJobStore store = PostgresJobStore.open(TestDatabase.options(schema));
        toClose.add(store);
        return store;
    }

    /** A node on the schema, its wall clock {@code skew} off the system's, synchronised to PostgreSQL's. */
    private Hourglass node(String nodeId, Duration skew) {
        Hourglass engine = Hourglass.builder()
                .store(openStore(), false)
                .config(EngineConfig.defaults(nodeId))
                .clock(InstantSource.offset(InstantSource.system(), skew), Ticker.system())
                .syncClockToStore(true)
                .handler("work", ctx -> {
                    ranAt.putIfAbsent(ctx.id(), System.nanoTime());
                    return Outcome.succeeded();
                })
                .build();
        toClose.add(engine);
        return engine;
    }

    private static JobRequest work(int i) {
        return JobRequest.of("work", ("job " + i).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Schedules {@link #JOBS} jobs "in 1.5 s" on {@code on}; returns when each call was made, by job (before the
     * node read its clock: the due time is at least 1.5 s after it).
     */
    private Map<JobId, Long> scheduleOn(Hourglass on) {
        Map<JobId, Long> scheduledAt = new ConcurrentHashMap<>();
        for (int i = 0; i < JOBS; i++) {
            long called = System.nanoTime();
            InsertResult.Created created = (InsertResult.Created) on.schedule(work(i), When.after(DELAY));
            scheduledAt.put(created.job().id(), called);
        }
        return scheduledAt;
    }

    /** The real time from each schedule call to its job's run. */
    private List<Duration> elapsed(Map<JobId, Long> scheduledAt) {
        await().atMost(Duration.ofSeconds(15)).until(() -> ranAt.keySet().containsAll(scheduledAt.keySet()));
        return scheduledAt.entrySet().stream()
                .map(e -> Duration.ofNanos(ranAt.get(e.getKey()) - e.getValue()))
                .toList();
    }

    /**
     * How early a job may fire in real time when one node computes its due time and the other fires it: each
     * node's clock is within twice its error bound of PostgreSQL's (see {@link StoreClock}). Sub-millisecond here.
     */
    private static Duration measurementError(Hourglass one, Hourglass other) {
        Duration bounds = one.clockEstimate().orElseThrow().errorBound()
                .plus(other.clockEstimate().orElseThrow().errorBound());
        assertThat(bounds).isLessThan(Duration.ofMillis(50));
        return bounds.multipliedBy(2);
    }

    @Test
    void readClockIsPostgresClockWhichOnThisMachineIsWithinASecondOfOurs() {
        PostgresJobStore store = openStore();

        Instant before = Instant.now();
        Instant clock = store.readClock().orElseThrow();
        Instant after = Instant.now();

        assertThat(clock).isBetween(before.minusSeconds(1), after.plusSeconds(1));
    }

    @Test
    void aNodeWhoseClockRunsAheadMeasuresItsOffsetFromPostgres() {
        Hourglass ahead = node("ahead", SKEW);

        StoreClock.Estimate estimate = ahead.clockEstimate().orElseThrow();

        assertThat(estimate.measured()).isBetween(SKEW.negated().minusMillis(100), SKEW.negated().plusMillis(100));
        assertThat(estimate.errorBound()).isLessThan(Duration.ofMillis(100));
        assertThat(Duration.between(Instant.now(), ahead.wallClock().instant()).abs())
                .isLessThan(Duration.ofMillis(200));
    }

    @Test
    void aJobScheduledOnACorrectNodeAndFiredByANodeWhoseClockRunsAheadDoesNotFireEarly() {
        Hourglass correct = node("correct", Duration.ZERO);
        Hourglass ahead = node("ahead", SKEW);
        Duration tolerance = measurementError(correct, ahead);
        Map<JobId, Long> scheduledAt = scheduleOn(correct);
        correct.close(); // hands its claims back: the node whose clock runs ahead fires them

        for (Duration elapsed : elapsed(scheduledAt)) {
            // By its own clock the node "ahead" would have found them 3 s overdue and fired at once.
            assertThat(elapsed).as("real time from schedule to run").isGreaterThanOrEqualTo(DELAY.minus(tolerance));
            assertThat(elapsed).isLessThan(DELAY.plus(SKEW.dividedBy(2)));
        }
        assertThat(ahead.clockEstimate()).isPresent();
    }

    @Test
    void aJobScheduledOnANodeWhoseClockRunsAheadAndFiredByACorrectNodeIsNotLate() {
        Hourglass ahead = node("ahead", SKEW);
        Hourglass correct = node("correct", Duration.ZERO);
        Duration tolerance = measurementError(ahead, correct);
        Map<JobId, Long> scheduledAt = scheduleOn(ahead);
        ahead.close();

        for (Duration elapsed : elapsed(scheduledAt)) {
            // By its own clock the node "ahead" would have set them due 3 s later than it means.
            assertThat(elapsed).isGreaterThanOrEqualTo(DELAY.minus(tolerance));
            assertThat(elapsed).isLessThan(DELAY.plus(SKEW.dividedBy(2)));
        }
        assertThat(correct.clockEstimate()).isPresent();
    }
}
