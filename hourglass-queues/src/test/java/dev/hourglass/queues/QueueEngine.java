package dev.hourglass.queues;

import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A real engine on a real SQLite file (or a store given), on the real clock, with the queue handlers of {@code connections}: what a
 * library user builds. Retries back off 100 ms to 400 ms so that outage tests are quick.
 */
final class QueueEngine implements AutoCloseable {
    static final Backoff FAST = new Backoff(Duration.ofMillis(100), Duration.ofMillis(400));
    private static final Set<JobState> FINISHED = Set.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED);

    final QueueDeliveries queues;
    final Hourglass hourglass;

    QueueEngine(Path dir, List<QueueConnection> connections) {
        this(SqliteJobStore.open(dir.resolve("jobs.db")), connections);
    }

    /** On {@code store}, which the engine closes. */
    QueueEngine(dev.hourglass.core.store.JobStore store, List<QueueConnection> connections) {
        this.queues = QueueDeliveries.of(connections, Duration.ofSeconds(5));
        Hourglass.Builder builder = Hourglass.builder().store(store, true);
        queues.handlers().forEach(builder::handler);
        this.hourglass = builder.build();
    }

    /** Schedules {@code payload} to {@code target} at {@code at}, with the fast backoff and {@code maxAttempts}. */
    Job schedule(QueueTarget target, String payload, When when, int maxAttempts) {
        JobRequest job = queues.job(target, payload.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .withBackoff(FAST).withMaxAttempts(maxAttempts);
        return switch (hourglass.schedule(job, when)) {
            case InsertResult.Created c -> c.job();
            case InsertResult.Duplicate d -> d.job();
            default -> throw new AssertionError("not scheduled");
        };
    }

    Job job(JobId id) {
        return hourglass.getStatus(id).orElseThrow();
    }

    /** Waits until the job has finished, and returns it. */
    Job awaitFinished(JobId id, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> FINISHED.contains(job(id).state()));
        return job(id);
    }

    /**
     * Schedules {@code count} jobs due now while their broker cannot be reached, waits (at most 30 s) until each has
     * been tried twice, and checks that they are retrying, not failed, with an error that mentions {@code system}.
     */
    List<Job> scheduleDuringOutage(QueueTarget target, int count, String system) {
        List<Job> jobs = new java.util.ArrayList<>();
        for (int i = 1; i <= count; i++) {
            jobs.add(schedule(target, "{\"n\":" + i + "}", dev.hourglass.core.api.When.now(), 100));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> jobs.stream().allMatch(j -> job(j.id()).attempts() >= 2));
        Job retrying = job(jobs.getFirst().id());
        org.assertj.core.api.Assertions.assertThat(retrying.state()).isNotIn(JobState.SUCCEEDED, JobState.FAILED);
        org.assertj.core.api.Assertions.assertThat(retrying.lastError()).contains(system);
        return jobs;
    }

    /** Waits until every one of {@code jobs} has finished, and checks that each succeeded. */
    void awaitAllSucceeded(List<Job> jobs, Duration atMost) {
        jobs.forEach(j -> org.assertj.core.api.Assertions.assertThat(awaitFinished(j.id(), atMost).state())
                .as("job %s: %s", j.id(), job(j.id()).lastError()).isEqualTo(JobState.SUCCEEDED));
    }

    @Override
    public void close() {
        hourglass.close();
        queues.close();
    }
}
