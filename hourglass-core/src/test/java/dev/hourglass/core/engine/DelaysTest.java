package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Delays run on the injected ticker: a manual clock decides when attempt timeouts and write retries run. */
class DelaysTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-26T12:00:00Z"));
    private final Delays delays = new Delays(clock);
    private final List<String> ran = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        delays.close();
    }

    @Test
    void tasksRunWhenTheTickerReachesTheirDeadlineInDeadlineOrder() {
        delays.schedule(() -> ran.add("two"), Duration.ofSeconds(2));
        delays.schedule(() -> ran.add("one"), Duration.ofSeconds(1));
        delays.schedule(() -> ran.add("one again"), Duration.ofSeconds(1));

        assertThat(delays.runDue()).isZero();
        clock.advance(Duration.ofMillis(999));
        assertThat(delays.runDue()).isZero();
        clock.advance(Duration.ofMillis(1));
        assertThat(delays.runDue()).isEqualTo(2);
        assertThat(ran).containsExactly("one", "one again");
        clock.advance(Duration.ofHours(1));
        assertThat(delays.runDue()).isEqualTo(1);
        assertThat(ran).containsExactly("one", "one again", "two");
        assertThat(delays.pending()).isZero();
    }

    @Test
    void aCancelledTaskNeverRunsAndLeavesNothingBehind() {
        Delays.Delayed watchdog = delays.schedule(() -> ran.add("timeout"), Duration.ofSeconds(30));
        assertThat(watchdog.cancel()).isTrue();
        assertThat(delays.pending()).isZero();
        clock.advance(Duration.ofMinutes(1));
        assertThat(delays.runDue()).isZero();
        assertThat(watchdog.cancel()).as("a second cancel").isFalse();
        assertThat(ran).isEmpty();
    }

    @Test
    void aTaskThatThrowsDoesNotStopTheOthers() {
        delays.schedule(() -> {
            throw new IllegalStateException("boom");
        }, Duration.ZERO);
        delays.schedule(() -> ran.add("after"), Duration.ZERO);
        assertThat(delays.runDue()).isEqualTo(2);
        assertThat(ran).containsExactly("after");
    }

    @Test
    void theThreadNoticesAManualTickerThatMoved() {
        delays.start();
        delays.schedule(() -> ran.add("due"), Duration.ofMinutes(5));
        clock.advance(Duration.ofMinutes(5));
        await().atMost(Duration.ofSeconds(5)).until(() -> ran.contains("due"));
    }

    @Test
    void aClosedDelaysRefusesNewTasks() {
        delays.close();
        assertThatThrownBy(() -> delays.schedule(() -> ran.add("late"), Duration.ZERO))
                .isInstanceOf(RejectedExecutionException.class);
    }
}
