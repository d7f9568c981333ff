package dev.hourglass.queues;

import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.time.Rfc3339;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One message to publish: the job's payload as the body, and the fields that identify the delivery, which every
 * system carries as headers (Kafka, RabbitMQ, NATS) or as stream entry fields (Redis), with the same names and
 * values as a webhook's:
 * <ul>
 *   <li>{@code Hourglass-Job-Id}: the same for every attempt of the job. A job succeeds at most once, so a consumer
 *       that has seen a job id has seen that job: it is the key to deduplicate on.
 *   <li>{@code Hourglass-Attempt}, {@code Hourglass-Due-At} (RFC 3339, UTC) and {@code Idempotency-Key}
 *       ({@code <job id>:<attempt>}, as the webhook's);
 *   <li>for a run of a recurring schedule, {@code Hourglass-Schedule-Id} and {@code Hourglass-Scheduled-Time};
 *   <li>{@code traceparent}, when the job was scheduled in a trace.
 * </ul>
 *
 * @param jobId the job's id
 * @param dedupKey the key that is the same for every attempt of this job ({@link #dedupKeyOf}): NATS's
 *     {@code Nats-Msg-Id}, RabbitMQ's {@code message-id}
 * @param identity the identifying headers above, in that order
 * @param body the payload
 */
public record QueueMessage(String jobId, String dedupKey, Map<String, String> identity, byte[] body) {
    public static final String JOB_ID = "Hourglass-Job-Id";
    public static final String ATTEMPT = "Hourglass-Attempt";
    public static final String DUE_AT = "Hourglass-Due-At";
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    public static final String SCHEDULE_ID = "Hourglass-Schedule-Id";
    public static final String SCHEDULED_TIME = "Hourglass-Scheduled-Time";
    public static final String TRACEPARENT = "traceparent";

    public QueueMessage {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(dedupKey, "dedupKey");
        identity = Collections.unmodifiableMap(new LinkedHashMap<>(identity));
        Objects.requireNonNull(body, "body");
    }

    /** The message of one attempt. */
    public static QueueMessage of(JobContext ctx) {
        Map<String, String> identity = new LinkedHashMap<>();
        identity.put(JOB_ID, ctx.id().toString());
        identity.put(ATTEMPT, Integer.toString(ctx.attempt()));
        identity.put(DUE_AT, Rfc3339.format(ctx.dueAt()));
        identity.put(IDEMPOTENCY_KEY, ctx.id() + ":" + ctx.attempt());
        ctx.scheduledRun().ifPresent(run -> {
            identity.put(SCHEDULE_ID, run.scheduleId());
            identity.put(SCHEDULED_TIME, Rfc3339.format(run.nominalAt()));
        });
        ctx.traceParent().ifPresent(t -> identity.put(TRACEPARENT, t.header()));
        return new QueueMessage(ctx.id().toString(), dedupKeyOf(ctx), identity, ctx.payload());
    }

    /**
     * {@code <job id>:<created at, epoch ms>}: the same for every attempt of a job (a retry, a redelivery after a
     * crash or a failover), and never the same for two jobs.
     */
    static String dedupKeyOf(JobContext ctx) {
        return ctx.id() + ":" + ctx.job().createdAt().toEpochMilli();
    }

    /** Messages are not compared; a record with an array would compare it by reference anyway. */
    @Override
    public String toString() {
        return "QueueMessage" + identity;
    }
}
