package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.time.Ticker;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store has no clock shared by several nodes (one process, one clock): it offers none, and an engine
 * on it keeps its own wall clock, whether asked to synchronise with the store or not.
 */
class ClockOnSqliteTest {
    @TempDir
    Path dir;

    @Test
    void theSqliteStoreHasNoClockAndTheEngineKeepsItsOwn() {
        AtomicInteger runs = new AtomicInteger();
        try (SqliteJobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"));
                Hourglass engine = Hourglass.builder()
                        .store(store, false)
                        .config(EngineConfig.defaults("a"))
                        .handler("work", ctx -> {
                            runs.incrementAndGet();
                            return Outcome.succeeded();
                        })
                        .build()) {
            assertThat(store.readClock()).isEmpty();
            assertThat(engine.clockEstimate()).isEmpty();
            assertThat(Duration.between(Instant.now(), engine.wallClock().instant()).abs())
                    .isLessThan(Duration.ofSeconds(1));

            engine.schedule(JobRequest.of("work", null), When.after(Duration.ZERO));
            await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 1);
        }
    }

    @Test
    void anInjectedClockIsKeptEvenWhenAskedToSynchronise() {
        InstantSource skewed = InstantSource.offset(InstantSource.system(), Duration.ofHours(1));
        try (SqliteJobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"));
                Hourglass engine = Hourglass.builder()
                        .store(store, false)
                        .config(EngineConfig.defaults("a"))
                        .clock(skewed, Ticker.system())
                        .syncClockToStore(true)
                        .handler("work", ctx -> Outcome.succeeded())
                        .build()) {
            assertThat(engine.clockEstimate()).isEmpty();
            assertThat(engine.wallClock()).isSameAs(skewed);
        }
    }
}
