package dev.hourglass.queues;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.model.Job;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the jobs of one queue type: reads the job's target, publishes its message over the named connection,
 * and turns the system's answer into the job's outcome. The engine does the rest as for any handler, webhooks
 * included: retries with the job's backoff, the attempt's timeout, fairness, the delivery history, the target
 * monitor and the metrics.
 *
 * <ul>
 *   <li>acknowledged by the broker: success ({@code success});
 *   <li>unreachable, or not acknowledged: retry ({@code connect_error}); no answer in time: retry ({@code timeout});
 *   <li>refused for good (unknown exchange, unroutable, no permission, too large): failed ({@code refused});
 *   <li>a connection this node does not have: retry, since another node may have it ({@code refused}).
 * </ul>
 */
public final class QueueHandler implements JobHandler {
    private static final Logger log = LoggerFactory.getLogger(QueueHandler.class);

    private final QueueType type;
    private final Map<String, Publisher> publishers;
    private final Duration defaultTimeout;

    /**
     * @param publishers this type's publishers by connection name
     * @param defaultTimeout how long to wait for the broker when the job sets no timeout (the engine's default)
     */
    public QueueHandler(QueueType type, Map<String, Publisher> publishers, Duration defaultTimeout) {
        this.type = Objects.requireNonNull(type, "type");
        this.publishers = Map.copyOf(publishers);
        this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    }

    @Override
    public boolean reportsDeliveries() {
        return true;
    }

    @Override
    public String targetType() {
        return type.id();
    }

    @Override
    public String targetOf(Job job) {
        return QueueTargets.fromJson(job.target(), type).name();
    }

    @Override
    public Outcome handle(JobContext ctx) throws InterruptedException {
        QueueTarget target;
        try {
            target = QueueTargets.fromJson(ctx.target(), type);
        } catch (IllegalArgumentException e) {
            ctx.report(DeliveryAttempt.Result.REFUSED, 0);
            return Outcome.failed("invalid " + type.id() + " target: " + e.getMessage());
        }
        Publisher publisher = publishers.get(target.connection());
        if (publisher == null) {
            ctx.report(DeliveryAttempt.Result.REFUSED, 0);
            return Outcome.retry("connection '" + target.connection() + "' is not configured on this node");
        }
        Duration timeout = ctx.job().timeout() != null ? ctx.job().timeout() : defaultTimeout;
        PublishResult result = publisher.publish(target, QueueMessage.of(ctx), timeout);
        Outcome outcome = switch (result) {
            case PublishResult.Accepted a -> {
                ctx.report(DeliveryAttempt.Result.SUCCESS, 0);
                yield Outcome.succeeded();
            }
            case PublishResult.Unavailable u -> {
                ctx.report(DeliveryAttempt.Result.CONNECT_ERROR, 0);
                yield Outcome.retry(u.reason());
            }
            case PublishResult.TimedOut t -> {
                ctx.report(DeliveryAttempt.Result.TIMEOUT, 0);
                yield Outcome.retry(t.reason());
            }
            case PublishResult.Refused r -> {
                ctx.report(DeliveryAttempt.Result.REFUSED, 0);
                yield Outcome.failed(r.reason());
            }
        };
        if (!(result instanceof PublishResult.Accepted)) {
            log.info("{} delivery to {} failed: {}", type.id(), target.name(), result);
        }
        return outcome;
    }
}
