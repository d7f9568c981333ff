package dev.hourglass.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SupervisionTest {
    private final List<EngineFailure> told = new CopyOnWriteArrayList<>();
    private final AtomicInteger stops = new AtomicInteger();
    private final Supervision supervision = new Supervision(told::add, stops::incrementAndGet);

    @Test
    void theFirstFailureStopsTheEngineAndIsToldOnce() {
        Error first = new StackOverflowError("first");
        supervision.uncaughtException(Thread.ofPlatform().name("hourglass-timer").unstarted(() -> {}), first);
        supervision.failed("hourglass-committer", new OutOfMemoryError("second"));

        assertThat(stops).hasValue(1);
        assertThat(told).singleElement().satisfies(failure -> {
            assertThat(failure.thread()).isEqualTo("hourglass-timer");
            assertThat(failure.error()).isSameAs(first);
            assertThat(failure.describe()).startsWith("engine thread hourglass-timer failed at ")
                    .endsWith(": java.lang.StackOverflowError: first");
        });
        assertThat(supervision.failure()).contains(told.getFirst());
    }

    @Test
    void aSupervisedTaskSurvivesItsExceptionsAndReportsItsErrors() {
        AtomicInteger runs = new AtomicInteger();
        Runnable flaky = supervision.supervised("round", () -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("a round that fails");
            }
        });
        flaky.run();
        flaky.run();
        assertThat(runs).hasValue(2);
        assertThat(supervision.failure()).isEmpty();

        Error error = new OutOfMemoryError("Java heap space");
        Runnable dying = supervision.supervised("round", () -> {
            throw error;
        });
        dying.run(); // returns: an executor would otherwise keep the error in the task's future, unseen
        assertThat(supervision.failure()).hasValueSatisfying(f -> assertThat(f.error()).isSameAs(error));
        assertThat(stops).hasValue(1);
    }

    @Test
    void aHandlerThatThrowsDoesNotHideTheFailure() {
        Supervision throwing = new Supervision(failure -> {
            throw new IllegalStateException("handler bug");
        }, () -> {});
        throwing.failed("hourglass-delays", new InternalError("x"));
        assertThat(throwing.failure()).isPresent();
    }

    @Test
    void outsideAnEngineAnErrorGoesToTheThreadsHandler() throws InterruptedException {
        List<Throwable> seen = new CopyOnWriteArrayList<>();
        Error error = new LinkageError("missing class");
        Thread thread = Thread.ofPlatform().name("hourglass-tenants").uncaughtExceptionHandler((t, e) -> seen.add(e))
                .start(Supervision.reportingErrors("tenant refresh", () -> {
                    throw error;
                }));
        thread.join();
        assertThat(seen).containsExactly(error);
    }
}
