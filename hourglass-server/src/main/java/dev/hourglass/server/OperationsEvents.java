package dev.hourglass.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.DeliveryListener;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.targets.TargetEvent;
import dev.hourglass.core.targets.TargetEventListener;
import dev.hourglass.core.targets.TargetStatus;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.webhook.WebhookTarget;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells people about targets and failed jobs: a log line for each change of a target's state, and, for a tenant with
 * an operations webhook, an event to it ({@code target.alarm.raised}, {@code target.alarm.cleared},
 * {@code target.paused}, {@code target.resumed}, {@code job.failed}), in the Standard Webhooks shape
 * {@code {"type", "timestamp", "data"}}.
 *
 * <p>Each event is scheduled as a webhook job of the tenant, due now: durable, retried with backoff, signed with the
 * tenant's secrets like every delivery, and listed and replayable like any job. Those jobs run under their own handler
 * name ({@value #HANDLER}), so that an operations webhook that fails reports no {@code job.failed} of its own jobs
 * (which would fail in turn, without end). A target change is told once over the cluster (the monitor's
 * compare-and-set), so its event is scheduled once.
 */
final class OperationsEvents implements TargetEventListener, DeliveryListener {
    /** The handler name the operations events are delivered under (the webhook handler, registered twice). */
    static final String HANDLER = "operations";
    private static final Logger log = LoggerFactory.getLogger(OperationsEvents.class);

    private final Function<String, Optional<URI>> webhooks;
    private final InstantSource clock;
    private final ObjectMapper json = new ObjectMapper();
    /** Set once the engine is built (it is built with this listener). */
    private volatile Hourglass hourglass;

    /** @param webhooks each tenant's operations webhook, if it has one */
    OperationsEvents(Function<String, Optional<URI>> webhooks, InstantSource clock) {
        this.webhooks = Objects.requireNonNull(webhooks, "webhooks");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    void sendWith(Hourglass value) {
        this.hourglass = value;
    }

    @Override
    public void changed(TargetEvent event) {
        TargetStatus s = event.status();
        String line = "target {} of tenant {}: {} (error rate {} of {} attempts in the window, {} failures in a "
                + "row, by {})";
        Object[] args = {s.key().target(), s.key().tenant(), event.type().eventName(),
                String.format("%.2f", s.errorRate()), s.total(), s.consecutiveFailures(), event.by()};
        if (event.type() == TargetEvent.Type.ALARM_RAISED || event.type() == TargetEvent.Type.PAUSED) {
            log.warn(line, args);
        } else {
            log.info(line, args);
        }
        ObjectNode data = json.createObjectNode();
        data.put("tenant", s.key().tenant());
        data.put("target", s.key().target());
        data.put("targetId", s.id());
        data.put("level", s.level().name());
        data.put("errorRate", s.errorRate());
        data.put("movingAverage", s.movingAverage());
        data.put("attempts", s.total());
        data.put("errors", s.errors());
        data.put("consecutiveFailures", s.consecutiveFailures());
        data.put("lastError", s.lastError());
        data.put("paused", s.paused() == null ? null : s.paused().name());
        data.put("by", event.by());
        send(s.key().tenant(), event.type().eventName(), data);
    }

    @Override
    public void delivered(Job job, DeliveryAttempt attempt) {}

    @Override
    public void jobFailed(Job job, String error) {
        if (HANDLER.equals(job.handler())) {
            return; // an operations event that could not be delivered: telling it would go the same way
        }
        ObjectNode data = json.createObjectNode();
        data.put("tenant", job.tenant());
        data.put("jobId", job.id().toString());
        data.put("attempts", job.attempts());
        data.put("lastError", error);
        data.put("dueAt", Rfc3339.format(job.dueAt()));
        send(job.tenant(), "job.failed", data);
    }

    private void send(String tenant, String type, ObjectNode data) {
        Hourglass engine = hourglass;
        Optional<URI> url = webhooks.apply(tenant);
        if (engine == null || url.isEmpty()) {
            return;
        }
        ObjectNode body = json.createObjectNode();
        body.put("type", type);
        body.put("timestamp", Rfc3339.format(clock.instant()));
        body.set("data", data);
        JobRequest request = JobRequest.of(HANDLER, body.toString().getBytes(StandardCharsets.UTF_8))
                .withTarget(new WebhookTarget(url.get(), Map.of()).toJson())
                .withTenant(tenant);
        engine.scheduleAsync(request, When.after(Duration.ZERO)).whenComplete((created, error) -> {
            if (error != null) {
                log.warn("could not schedule the {} event for tenant {}: {}", type, tenant, error.toString());
            }
        });
    }
}
