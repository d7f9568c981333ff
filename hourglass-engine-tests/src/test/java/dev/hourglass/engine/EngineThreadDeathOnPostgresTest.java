package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.supervision.EngineFailure;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import dev.hourglass.testing.ThreadFaults;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A thread's death on a cluster of two nodes on a real PostgreSQL schema: the failed node stops renewing its lease,
 * so the other node rescues its claimed job when the lease runs out and fires it, once and not early. Also the one
 * thread only a shared store has: the clock sampler.
 */
class EngineThreadDeathOnPostgresTest {
    private static final Duration LEASE = Duration.ofSeconds(2);

    private final ThreadFaults faults = new ThreadFaults();
    private final List<EngineFailure> told = new CopyOnWriteArrayList<>();
    /** Job id to the nodes that ran it, and whether any run began before its due time. */
    private final Map<JobId, List<String>> ranOn = new ConcurrentHashMap<>();
    private final List<String> early = new CopyOnWriteArrayList<>();
    private String schema;
    private PostgresJobStore storeA;
    private PostgresJobStore storeB;
    private Hourglass a;
    private Hourglass b;

    @BeforeEach
    void open() {
        schema = TestDatabase.newSchemaName();
        storeA = PostgresJobStore.open(TestDatabase.options(schema));
        storeB = PostgresJobStore.open(TestDatabase.options(schema));
    }

    @AfterEach
    void close() {
        for (Hourglass engine : new Hourglass[] {a, b}) {
            if (engine != null) {
                engine.close();
            }
        }
        storeA.close();
        storeB.close();
        TestDatabase.dropSchema(schema);
        assertThat(early).as("runs before their due time").isEmpty();
    }

    private Hourglass node(String name, PostgresJobStore store, boolean faulty) {
        Hourglass.Builder builder = Hourglass.builder()
                .store(store, false)
                .config(EngineConfig.builder(name).loadInterval(Duration.ofMillis(200)).leaseTtl(LEASE).build())
                .handler("work", ctx -> {
                    if (System.currentTimeMillis() < ctx.dueAt().toEpochMilli()) {
                        early.add(ctx.id() + " on " + name);
                    }
                    ranOn.computeIfAbsent(ctx.id(), k -> new CopyOnWriteArrayList<>()).add(name);
                    return Outcome.succeeded();
                });
        if (faulty) {
            builder.clock(faults, faults).syncClockToStore(true).onFatalError(told::add);
        } else {
            builder.clock(SystemTime.wallClock(), SystemTime.ticker()).syncClockToStore(true);
        }
        return builder.build();
    }

    @Test
    void anotherNodeRescuesAndFiresTheJobsOfANodeWhoseTimerDied() {
        a = node("a", storeA, true);
        b = node("b", storeB, false);
        // Scheduled on a, so claimed by a: only a's timer holds it.
        JobId id = a.schedule(JobRequest.of("work", "held by a".getBytes(StandardCharsets.UTF_8)),
                When.after(Duration.ofMillis(800))).job().id();
        assertThat(storeA.find(id).map(Job::owner)).contains("a");

        faults.arm("hourglass-timer");
        await().atMost(Duration.ofSeconds(5)).until(() -> !told.isEmpty());
        assertThat(told.getFirst().thread()).isEqualTo("hourglass-timer");
        Instant failedAt = told.getFirst().at();

        await().atMost(Duration.ofSeconds(15)).until(() -> storeB.find(id).map(Job::state).orElseThrow()
                == JobState.SUCCEEDED);
        assertThat(ranOn.get(id)).as("rescued by b, run once").containsExactly("b");
        // Not before a's last renewal ran out: no live node's job is taken.
        assertThat(Duration.between(failedAt, Instant.now())).isGreaterThanOrEqualTo(LEASE.minusMillis(250));
    }

    @Test
    void anErrorInTheClockSamplerFailsTheNode() {
        a = node("a", storeA, true);
        faults.arm("hourglass-clock");
        // The sampler runs every 10 s.
        await().atMost(Duration.ofSeconds(15)).until(() -> !told.isEmpty());
        assertThat(told).singleElement().satisfies(f -> assertThat(f.thread()).isEqualTo("hourglass-clock"));
        assertThat(a.failure()).isPresent();
    }
}
