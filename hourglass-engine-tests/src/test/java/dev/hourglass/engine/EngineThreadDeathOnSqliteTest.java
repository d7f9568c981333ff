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
import dev.hourglass.core.monitor.MonitorConfig;
import dev.hourglass.core.supervision.EngineFailure;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.targets.TargetPolicy;
import dev.hourglass.store.sqlite.SqliteJobStore;
import dev.hourglass.testing.ThreadFaults;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An {@link Error} in each long-lived thread of the engine, injected through the clocks (see {@link ThreadFaults}):
 * the engine must not die silently. It reports the failure once, to its handler and through
 * {@link Hourglass#failure()}, and stops: it claims and fires nothing more, so that in a cluster other nodes rescue
 * its jobs when its lease runs out (on PostgreSQL: {@code EngineThreadDeathOnPostgresTest}). What it acknowledged
 * is stored. Real SQLite file, real threads, the system's clocks.
 */
class EngineThreadDeathOnSqliteTest {
    @TempDir
    Path dir;

    private final ThreadFaults faults = new ThreadFaults();
    private final List<EngineFailure> told = new CopyOnWriteArrayList<>();
    private final List<JobId> ran = new CopyOnWriteArrayList<>();
    private SqliteJobStore store;
    private Hourglass engine;

    @BeforeEach
    void start() {
        store = SqliteJobStore.open(dir.resolve("hourglass.db"));
        TargetMonitor.Settings fastTargets = new TargetMonitor.Settings(MonitorConfig.DEFAULTS,
                Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(1), 1_000, true);
        engine = Hourglass.builder()
                .store(store, false)
                .clock(faults, faults)
                .config(EngineConfig.builder("a").loadInterval(Duration.ofMillis(100)).build())
                .watchTargets(fastTargets, tenant -> TargetPolicy.DEFAULTS, event -> {})
                .onFatalError(told::add)
                .handler("work", ctx -> {
                    ran.add(ctx.id());
                    return Outcome.succeeded();
                })
                .build();
    }

    @AfterEach
    void stop() {
        engine.close();
        store.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"hourglass-timer", "hourglass-dispatcher", "hourglass-committer", "hourglass-delays",
            "hourglass-background", "hourglass-targets"})
    void anErrorInAnEngineThreadIsReportedOnceAndStopsTheNode(String thread) {
        JobId before = schedule("before", Duration.ZERO);
        await().atMost(Duration.ofSeconds(10)).until(() -> state(before) == JobState.SUCCEEDED);
        assertThat(engine.failure()).isEmpty();

        ThreadFaults.InjectedError injected = faults.arm(thread);
        // Work for every thread: a commit, a claim, a due entry, an attempt with its timeout watchdog.
        engine.scheduleAsync(work("trigger"), When.after(Duration.ofMillis(50)));
        await().atMost(Duration.ofSeconds(10)).until(() -> !told.isEmpty());

        EngineFailure failure = told.getFirst();
        assertThat(failure.thread()).isEqualTo(thread);
        assertThat(failure.error()).isSameAs(injected);
        assertThat(engine.failure()).contains(failure);

        // Stopped: a job scheduled now is acknowledged and stored (the writer stays up), but this node neither
        // claims nor fires anything more; it is left to other nodes once the lease runs out.
        JobId after = schedule("after", Duration.ofMillis(100));
        sleep(Duration.ofMillis(1_500));
        assertThat(state(after)).isEqualTo(JobState.SCHEDULED);
        assertThat(ran).doesNotContain(after);
        assertThat(told).as("told once").hasSize(1);
    }

    private JobId schedule(String text, Duration in) {
        return engine.schedule(work(text), When.after(in)).job().id();
    }

    private static JobRequest work(String text) {
        return JobRequest.of("work", text.getBytes(StandardCharsets.UTF_8));
    }

    private JobState state(JobId id) {
        return store.find(id).map(Job::state).orElseThrow();
    }

    private static void sleep(Duration time) {
        try {
            Thread.sleep(time);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
