package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Hourglass#caughtUp()}: false after a start that found jobs already due, until the node has started every one
 * of them and their attempts are over; then true for good, whatever backlog forms later. A node that found nothing
 * due is caught up at once.
 */
class CatchUpOnSqliteTest {
    private static final int BACKLOG = 4;
    private static final byte[] PAYLOAD = "due while down".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private Hourglass node(Semaphore starts, List<String> ran) {
        return Hourglass.builder()
                .store(SqliteJobStore.open(dir.resolve("hourglass.db")))
                .config(EngineConfig.builder("node").maxInFlight(1).loadInterval(Duration.ofMillis(200)).build())
                .handler("work", ctx -> {
                    ran.add(ctx.id().toString());
                    starts.acquire(); // one attempt at a time, each held until the test lets it end
                    return Outcome.succeeded();
                })
                .build();
    }

    @Test
    void aNodeIsCaughtUpOnceItStartedWhatWasDueWhenItStartedAndStaysSo() throws Exception {
        Semaphore starts = new Semaphore(0);
        List<String> ran = new CopyOnWriteArrayList<>();
        try (Hourglass first = node(starts, ran)) {
            assertThat(first.caughtUp()).as("nothing was due").isTrue();
            Instant soon = Instant.now().plusMillis(300);
            for (int i = 0; i < BACKLOG; i++) {
                first.schedule(JobRequest.of("work", PAYLOAD), When.at(soon));
            }
            first.close(); // at once: the jobs go back to the store, unowned, before they are due
        }
        Thread.sleep(500);

        try (Hourglass restarted = node(starts, ran)) {
            await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == 1);
            assertThat(restarted.caughtUp()).as("three of the backlog wait behind the first").isFalse();
            starts.release(BACKLOG - 2);
            await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == BACKLOG - 1);
            assertThat(restarted.caughtUp()).as("the last one still waits").isFalse();
            starts.release(1);
            await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == BACKLOG);
            assertThat(restarted.caughtUp()).as("all started, the last one still runs").isFalse();
            starts.release(1);
            await().atMost(Duration.ofSeconds(5)).until(restarted::caughtUp);
            assertThat(restarted.inFlight()).isZero();

            // A new backlog, after: still caught up (readiness does not flap with load).
            for (int i = 0; i < 3; i++) {
                restarted.schedule(JobRequest.of("work", PAYLOAD), When.after(Duration.ZERO));
            }
            assertThat(restarted.caughtUp()).isTrue();
            starts.release(100); // lets every attempt end before the close
        }
    }
}
