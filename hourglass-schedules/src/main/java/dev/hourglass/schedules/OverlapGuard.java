package dev.hourglass.schedules;

import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.ScheduledRun;
import dev.hourglass.core.store.JobStore;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * Applies a schedule's {@link Overlap} rule when one of its runs starts, around the handler that delivers runs (the
 * webhook handler on the server): a job that is not a schedule's run, or a triggered run, goes straight through. A
 * run of a schedule that is paused or deleted by then ends {@code CANCELLED} without being delivered.
 *
 * <ul>
 *   <li>{@code allow}: the run goes ahead.
 *   <li>{@code skip}: if the run before it is still running or waiting to retry, this run ends {@code CANCELLED} with
 *       the reason, and the schedule's {@code skippedRuns} goes up.
 *   <li>{@code bufferOne}: if the run before it is still running, this run waits for it to end (within this run's
 *       attempt timeout; past it, the attempt times out and is retried as any attempt is); if the run before it is
 *       itself waiting (the one before that is still running too), this run is skipped.
 * </ul>
 *
 * "Running" is read from the store (the previous run's job state), so the rule holds across nodes; a run whose
 * predecessor's state cannot be read goes ahead (at least once comes first). Runs made up for after downtime or a
 * pause (created after their nominal time) are exempt: they are due at once, and {@code fireAll} asks for each.
 */
public final class OverlapGuard implements JobHandler {
    /** How often a buffered run looks whether the run before it has ended. */
    static final Duration POLL = Duration.ofMillis(100);

    private final JobHandler delegate;
    private final ScheduleStore schedules;
    private final JobStore jobs;

    public OverlapGuard(JobHandler delegate, ScheduleStore schedules, JobStore jobs) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.schedules = Objects.requireNonNull(schedules, "schedules");
        this.jobs = Objects.requireNonNull(jobs, "jobs");
    }

    @Override
    public Outcome handle(JobContext context) throws Exception {
        Optional<ScheduledRun> run = context.scheduledRun();
        if (run.isEmpty()) {
            return delegate.handle(context);
        }
        Optional<Schedule> schedule = schedules.find(context.tenant(), run.get().scheduleId());
        if (schedule.isEmpty() || schedule.get().paused()) {
            // Its cancel was missed (a node died between creating the run and recording it): a paused or deleted
            // schedule runs nothing that had not started.
            return Outcome.cancelled("the schedule was " + (schedule.isEmpty() ? "deleted" : "paused")
                    + " before this run started");
        }
        Overlap overlap = schedule.get().definition().overlap();
        if (overlap == Overlap.ALLOW || madeUp(context, run.get())) {
            return delegate.handle(context);
        }
        Optional<ScheduleRun> previous = schedules.runBefore(run.get().scheduleId(), run.get().nominalAt());
        if (previous.isEmpty() || !busy(previous.get())) {
            return delegate.handle(context);
        }
        boolean previousIsWaiting = schedules.runBefore(run.get().scheduleId(), previous.get().nominalAt())
                .map(this::busy).orElse(false);
        if (overlap == Overlap.SKIP || previousIsWaiting) {
            schedules.countSkipped(run.get().scheduleId());
            return Outcome.cancelled("skipped: the run of " + previous.get().nominalAt() + " was still running "
                    + "(overlap: " + overlap.jsonName() + ")");
        }
        while (busy(previous.get())) {
            // A poll, not a measure of time; the attempt's timeout interrupts the wait.
            LockSupport.parkNanos(this, POLL.toNanos());
            if (Thread.interrupted()) {
                throw new InterruptedException("waited for the run of " + previous.get().nominalAt()
                        + " until this attempt's timeout");
            }
        }
        return delegate.handle(context);
    }

    /**
     * A run created after its nominal time was made up for after downtime or a pause ({@code misfire}): those are
     * due at once, so under {@code fireAll} they would all overlap each other; the rule does not apply to them.
     */
    private boolean madeUp(JobContext context, ScheduledRun run) {
        return jobs.find(context.id()).map(job -> job.createdAt().isAfter(run.nominalAt())).orElse(false);
    }

    /** Whether the run's job is running or waiting to retry. */
    private boolean busy(ScheduleRun run) {
        Optional<Job> job = jobs.find(run.jobId());
        return job.isPresent() && (job.get().state() == JobState.RUNNING
                || (job.get().state() == JobState.SCHEDULED && job.get().attempts() > 0));
    }

    @Override
    public boolean reportsDeliveries() {
        return delegate.reportsDeliveries();
    }

    @Override
    public String targetType() {
        return delegate.targetType();
    }

    @Override
    public String targetOf(Job job) {
        return delegate.targetOf(job);
    }
}
