package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.engine.JobLogContext;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

/**
 * Each attempt runs with its job's fields in the logging context (SLF4J's MDC), so that whatever the handler logs
 * names the job, its tenant and the attempt; a thread that runs one attempt after another never keeps the fields of
 * an earlier one.
 */
class JobLogContextOnSqliteTest {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    @TempDir
    Path dir;

    @Test
    void everyAttemptRunsWithItsJobsFieldsAndNoOther() throws Exception {
        ManualClock clock = new ManualClock(T0);
        List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
        EngineConfig config = EngineConfig.builder("node").loadInterval(Duration.ofMillis(100))
                .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1))).build();
        try (SqliteJobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"));
                Hourglass engine = Hourglass.builder().store(store, false).clock(clock, clock).config(config)
                        .handler("work", ctx -> {
                            Map<String, String> fields = MDC.getCopyOfContextMap();
                            seen.add(fields == null ? Map.of() : fields);
                            return ctx.attempt() == 1 ? Outcome.retry("once more") : Outcome.succeeded();
                        })
                        .build()) {
            JobId first = engine.schedule(JobRequest.of("work", new byte[0]), When.after(Duration.ZERO)).job().id();
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 1);
            JobId second = engine.schedule(JobRequest.of("work", new byte[0]), When.after(Duration.ZERO)).job().id();
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 2);
            clock.advance(Duration.ofSeconds(1)); // both retries are due
            await().atMost(Duration.ofSeconds(10)).until(() -> state(store, first) == JobState.SUCCEEDED
                    && state(store, second) == JobState.SUCCEEDED);

            String tenant = store.find(first).orElseThrow().tenant();
            assertThat(seen).containsExactlyInAnyOrder(
                    fields(first, tenant, 1), fields(second, tenant, 1),
                    fields(first, tenant, 2), fields(second, tenant, 2));
            assertThat(seen.subList(0, 2)).containsExactly(fields(first, tenant, 1), fields(second, tenant, 1));
        }
    }

    private static Map<String, String> fields(JobId id, String tenant, int attempt) {
        return Map.of(JobLogContext.JOB_ID, id.toString(), JobLogContext.TENANT, tenant, JobLogContext.ATTEMPT,
                Integer.toString(attempt));
    }

    private static JobState state(SqliteJobStore store, JobId id) {
        return store.find(id).map(Job::state).orElse(null);
    }
}
