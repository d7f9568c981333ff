package dev.hourglass.bench.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.http.JobJson;
import dev.hourglass.http.ScheduleRequestParser;
import dev.hourglass.webhook.WebhookTarget;
import dev.hourglass.webhook.address.AddressPolicy;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.DnsResolver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The server's JSON work per job, with the server's own mapper and classes: reading and validating a typical
 * {@code POST /v1/jobs} body (request hash included), writing the job answer, and reading a stored webhook target
 * back at delivery.
 *
 * <p>The parser checks the target's host against the SSRF policy after resolving it. Here the resolver answers
 * with a fixed public address, so the figure is the parser's and the policy's, not this machine's DNS.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JsonBench {
    /** A webhook with an auth header and a small payload: the shape of the HTTP benchmark's requests. */
    static final byte[] SCHEDULE_BODY = ("{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", "
            + "\"url\": \"https://hooks.example.com/reminders\", \"headers\": {\"Authorization\": \"Bearer s3cr3t\"}}, "
            + "\"payload\": {\"to\": \"user@example.com\", \"template\": \"reminder\", \"n\": 1}, "
            + "\"maxAttempts\": 5}").getBytes(StandardCharsets.UTF_8);
    static final String IDEMPOTENCY_KEY = "order-4711-reminder";

    private ScheduleRequestParser parser;
    private JobJson jobJson;
    private Job job;

    @Setup(Level.Trial)
    public void setUp() {
        ObjectMapper mapper = JobJson.newMapper();
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        GuardedDnsResolver guard = new GuardedDnsResolver(new PublicAddress(),
                new AddressPolicy(WebhookAllowlist.none()));
        parser = new ScheduleRequestParser(mapper, InstantSource.fixed(now), Duration.ofDays(3650), 256 * 1024, guard);
        jobJson = new JobJson(mapper);
        // The job that request becomes, as the store gives it back.
        ScheduleRequestParser.Schedule request = parser.schedule(SCHEDULE_BODY, IDEMPOTENCY_KEY);
        var r = request.job();
        job = new Job(new JobIdGenerator(InstantSource.fixed(now)).next(), "default", r.handler(), r.target(),
                r.payload(), JobState.SCHEDULED, now.plusSeconds(3600), now, now, 0, r.maxAttempts(),
                r.backoff() != null ? r.backoff() : Backoff.DEFAULT,
                r.timeout(), r.idempotencyKey(), r.requestHash(), null, null, 0,
                r.traceParent());
    }

    /** Body bytes to a validated request: parse, every field rule, SSRF policy, canonical request hash. */
    @Benchmark
    public ScheduleRequestParser.Schedule decodeScheduleRequest() {
        return parser.schedule(SCHEDULE_BODY, IDEMPOTENCY_KEY);
    }

    /** A stored job to the bytes of its JSON answer (its stored target and payload are parsed back into the tree). */
    @Benchmark
    public byte[] encodeJobAnswer() {
        return jobJson.bytes(jobJson.job(job));
    }

    /** The stored target read back by the webhook handler before each delivery. */
    @Benchmark
    public WebhookTarget decodeStoredTarget() {
        return WebhookTarget.fromJson(job.target());
    }

    /** Answers every name with one public address (documentation range excluded: the policy blocks those). */
    private static final class PublicAddress implements DnsResolver {
        private static final byte[] ADDRESS = {93, (byte) 184, (byte) 215, 14};

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            return new InetAddress[] {InetAddress.getByAddress(host, ADDRESS)};
        }

        @Override
        public String resolveCanonicalHostname(String host) {
            return host;
        }
    }
}
