package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.TraceParent;
import dev.hourglass.core.time.ManualClock;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job scheduled with a W3C {@code traceparent} is delivered minutes later (on a manual clock) in the same trace:
 * caller → schedule ({@code SERVER}) → attempt ({@code CLIENT}, HTTP client semantic conventions) → receiver, which
 * reads the attempt's {@code traceparent}. A retry is a second attempt span with {@code http.request.resend_count}.
 */
class TracingTest {
    private static final Instant T0 = Instant.parse("2031-03-04T05:06:07Z");
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CALLER_SPAN = "00f067aa0ba902b7";
    private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + CALLER_SPAN + "-01";
    /** All-zero trace id: invalid. */
    private static final String INVALID = "00-" + "0".repeat(32) + "-" + CALLER_SPAN + "-01";
    private static final String SCHEDULE = "POST /v1/jobs";
    private static final String RECEIVED = "receiver";
    private static final TextMapGetter<Receiver.Delivery> DELIVERY_HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Receiver.Delivery delivery) {
            return delivery.headers().keySet();
        }

        @Override
        public String get(Receiver.Delivery delivery, String name) {
            return delivery == null ? null : delivery.header(name);
        }
    };

    @TempDir
    Path dir;

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk openTelemetry = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .build();
    private final ManualClock clock = new ManualClock(T0);
    private final Receiver receiver = new Receiver();

    @BeforeEach
    void receiverContinuesTheTrace() {
        // The receiver's own span, as an instrumented receiver would start it from the request's traceparent.
        receiver.onArrival(delivery -> {
            Context incoming = W3CTraceContextPropagator.getInstance()
                    .extract(Context.root(), delivery, DELIVERY_HEADERS);
            openTelemetry.getTracer("receiver").spanBuilder(RECEIVED).setParent(incoming)
                    .setSpanKind(SpanKind.SERVER).startSpan().end();
        });
    }

    @AfterEach
    void close() {
        receiver.close();
        openTelemetry.close();
    }

    @Test
    void eachAttemptMinutesLaterIsASpanOfTheSchedulersTraceAndTheReceiverContinuesIt() {
        receiver.on("/hook", nth -> Receiver.Reply.status(nth == 1 ? 500 : 200));
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir), clock, openTelemetry)) {
            String url = receiver.url("/hook") + "?token=s3cret&x";
            String id = api.post("/v1/jobs", """
                    {"delaySeconds": 300, "target": {"type": "webhook", "url": "%s"}}""".formatted(url),
                    "traceparent", TRACEPARENT).json().get("id").asText();

            clock.advance(Duration.ofMinutes(5));
            // The retry is recorded (due a backoff after the 500 on the manual clock) before the clock moves on.
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                JsonNode job = api.get("/v1/jobs/" + id).json();
                return job.get("state").asText().equals("SCHEDULED") && job.get("attempts").asInt() == 1;
            });
            clock.advance(Duration.ofSeconds(2)); // past the backoff (at most 1 s in the test engine)
            await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));

            SpanData schedule = spans(SCHEDULE).getFirst();
            assertThat(schedule.getKind()).isEqualTo(SpanKind.SERVER);
            assertThat(schedule.getTraceId()).isEqualTo(TRACE_ID);
            assertThat(schedule.getParentSpanId()).as("the caller's span").isEqualTo(CALLER_SPAN);
            assertThat(attribute(schedule, "http.route")).isEqualTo("/v1/jobs");
            assertThat(status(schedule)).isEqualTo(201L);
            List<SpanData> attempts = spans("POST");
            List<SpanData> received = spans(RECEIVED);
            assertThat(attempts).hasSize(2);
            assertThat(received).hasSize(2);
            for (int i = 0; i < 2; i++) {
                SpanData attempt = attempts.get(i);
                assertThat(attempt.getKind()).isEqualTo(SpanKind.CLIENT);
                assertThat(attempt.getTraceId()).isEqualTo(TRACE_ID);
                assertThat(attempt.getParentSpanId()).as("the schedule's span").isEqualTo(schedule.getSpanId());
                assertThat(attempt.getName()).isEqualTo("POST");
                assertThat(attribute(attempt, "http.request.method")).isEqualTo("POST");
                assertThat(attribute(attempt, "server.address")).isEqualTo("127.0.0.1");
                assertThat(attempt.getAttributes().get(AttributeKey.longKey("server.port")))
                        .isEqualTo(receiver.url("/").getPort());
                assertThat(attribute(attempt, "url.full")).as("no query secret")
                        .isEqualTo(receiver.url("/hook") + "?token=REDACTED&x");
                assertThat(attribute(attempt, "hourglass.job.id")).isEqualTo(id);

                Receiver.Delivery delivery = receiver.deliveries("/hook").get(i);
                TraceParent sent = TraceParent.parse(delivery.header("traceparent")).orElseThrow();
                assertThat(sent.traceId()).isEqualTo(TRACE_ID);
                assertThat(sent.parentId()).as("the attempt's span").isEqualTo(attempt.getSpanId());
                assertThat(received.get(i).getTraceId()).isEqualTo(TRACE_ID);
                assertThat(received.get(i).getParentSpanId()).isEqualTo(attempt.getSpanId());
            }
            SpanData failed = attempts.getFirst();
            assertThat(status(failed)).isEqualTo(500L);
            assertThat(attribute(failed, "error.type")).isEqualTo("500");
            assertThat(failed.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
            assertThat(failed.getAttributes().get(AttributeKey.longKey("http.request.resend_count"))).isNull();
            SpanData retry = attempts.get(1);
            assertThat(status(retry)).isEqualTo(200L);
            assertThat(attribute(retry, "error.type")).isNull();
            assertThat(retry.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
            assertThat(retry.getAttributes().get(AttributeKey.longKey("http.request.resend_count"))).isEqualTo(1L);
        }
    }

    @Test
    void anInvalidTraceparentIsIgnoredAndTheScheduleStartsATraceOfItsOwn() {
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir), clock, openTelemetry)) {
            ServerFixture.Response created = api.post("/v1/jobs", """
                    {"delaySeconds": 60, "target": {"type": "webhook", "url": "%s"}}"""
                    .formatted(receiver.url("/hook")), "traceparent", INVALID);
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String id = created.json().get("id").asText();

            clock.advance(Duration.ofMinutes(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));

            SpanData schedule = spans(SCHEDULE).getFirst();
            assertThat(schedule.getParentSpanContext().isValid()).as("a root span").isFalse();
            assertThat(api.server().hourglass().getStatus(JobId.parse(id)).orElseThrow().traceParent().header())
                    .isEqualTo("00-" + schedule.getTraceId() + "-" + schedule.getSpanId() + "-"
                            + schedule.getSpanContext().getTraceFlags().asHex());
            SpanData attempt = spans("POST").getFirst();
            assertThat(attempt.getTraceId()).isEqualTo(schedule.getTraceId());
            assertThat(attempt.getParentSpanId()).isEqualTo(schedule.getSpanId());
            TraceParent sent = TraceParent.parse(receiver.deliveries("/hook").getFirst().header("traceparent"))
                    .orElseThrow();
            assertThat(sent.traceId()).isEqualTo(attempt.getTraceId());
            assertThat(sent.parentId()).isEqualTo(attempt.getSpanId());
        }
    }

    @Test
    void withoutOpenTelemetryTheCallersTraceparentIsForwardedAsItCameAndAnInvalidOneIsNotKept() {
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir), clock)) {
            String traced = api.post("/v1/jobs", job("/traced"), "traceparent", TRACEPARENT).json().get("id").asText();
            String untraced = api.schedule(job("/untraced")).get("id").asText();
            String invalid = api.post("/v1/jobs", job("/invalid"), "traceparent", INVALID).json().get("id").asText();
            assertThat(api.server().hourglass().getStatus(JobId.parse(invalid)).orElseThrow().traceParent())
                    .as("no context stored").isNull();

            clock.advance(Duration.ofMinutes(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> List.of(traced, untraced, invalid).stream()
                    .allMatch(id -> api.state(id).equals("SUCCEEDED")));

            assertThat(receiver.deliveries("/traced").getFirst().header("traceparent")).isEqualTo(TRACEPARENT);
            assertThat(receiver.deliveries("/untraced").getFirst().headers()).doesNotContainKey("traceparent");
            assertThat(receiver.deliveries("/invalid").getFirst().headers()).doesNotContainKey("traceparent");
            assertThat(exporter.getFinishedSpanItems()).as("only the test receiver's spans")
                    .allMatch(span -> span.getName().equals(RECEIVED));
        }
    }

    private String job(String path) {
        return """
                {"delaySeconds": 60, "target": {"type": "webhook", "url": "%s"}}""".formatted(receiver.url(path));
    }

    /** The finished spans of one name, in the order they started. */
    private List<SpanData> spans(String name) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name))
                .sorted(Comparator.comparingLong(SpanData::getStartEpochNanos)).toList();
    }

    private static String attribute(SpanData span, String name) {
        return span.getAttributes().get(AttributeKey.stringKey(name));
    }

    private static Long status(SpanData span) {
        return span.getAttributes().get(AttributeKey.longKey("http.response.status_code"));
    }
}
