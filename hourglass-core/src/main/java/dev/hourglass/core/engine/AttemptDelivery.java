package dev.hourglass.core.engine;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.time.Instant;

/**
 * What one attempt delivered, put together when it ends: the handler's report of how the delivery went
 * ({@link JobContext#report}), or what the engine knows (the outcome, a timeout), the target it went to, and how long
 * it ran. One per attempt; the handler's thread reports, and whichever of the handler's return and the watchdog ends
 * the attempt (exactly one, see {@link Dispatcher}) reads it.
 */
final class AttemptDelivery implements JobContext.DeliveryReports {
    private final Job job;
    private final JobHandler handler;
    private final String target;
    private final Instant startedAt;
    private final long startedNanos;
    /** The handler's last report; null until it reports (a handler that reports nothing leaves it null). */
    private volatile Reported reported;

    private record Reported(DeliveryAttempt.Result result, int status) {}

    /**
     * @param handler the job's handler, null when none is registered
     * @param target the name of the job's target ({@link TargetNames})
     * @param startedAt when the attempt started, on the wall clock (for the history)
     * @param startedNanos the same moment on the ticker (for its duration)
     */
    AttemptDelivery(Job job, JobHandler handler, String target, Instant startedAt, long startedNanos) {
        this.job = job;
        this.handler = handler;
        this.target = target;
        this.startedAt = startedAt;
        this.startedNanos = startedNanos;
    }

    @Override
    public void report(DeliveryAttempt.Result result, int status) {
        if (result != null) {
            reported = new Reported(result, status);
        }
    }

    /** The attempt's delivery, ended by the handler's return with {@code outcome}. */
    DeliveryAttempt returned(Outcome outcome, Ticker ticker) {
        Reported report = handler != null && handler.reportsDeliveries() ? reported : null;
        if (report != null) {
            return delivery(report.result(), report.status(), ticker);
        }
        // A handler that cancels its job delivered it as well as one that succeeded: the target did not fail.
        boolean delivered = outcome instanceof Outcome.Succeeded || outcome instanceof Outcome.Cancelled;
        return delivery(delivered ? DeliveryAttempt.Result.SUCCESS : DeliveryAttempt.Result.HANDLER_ERROR, 0, ticker);
    }

    /** The attempt's delivery, ended by the watchdog at the attempt's timeout (whatever the handler reported). */
    DeliveryAttempt timedOut(Ticker ticker) {
        return delivery(DeliveryAttempt.Result.TIMEOUT, 0, ticker);
    }

    private DeliveryAttempt delivery(DeliveryAttempt.Result result, int status, Ticker ticker) {
        String type = handler != null ? handler.targetType() : DeliveryAttempt.IN_PROCESS;
        return new DeliveryAttempt(type, result, status, target,
                Duration.ofNanos(ticker.nanoTime() - startedNanos));
    }

    /** The delivery history's row of this attempt, ended at {@code endedAt} with the outcome's reason as detail. */
    AttemptRecord record(DeliveryAttempt delivery, Outcome outcome, String node, Instant endedAt) {
        String detail = switch (outcome) {
            case Outcome.Succeeded s -> null;
            case Outcome.Retry r -> r.reason();
            case Outcome.Failed f -> f.reason();
            case Outcome.Cancelled c -> c.reason();
        };
        return new AttemptRecord(job.attempts(), node, startedAt, endedAt.isBefore(startedAt) ? startedAt : endedAt,
                delivery.outcome(), delivery.status(), delivery.target(), detail, delivery.duration());
    }
}
