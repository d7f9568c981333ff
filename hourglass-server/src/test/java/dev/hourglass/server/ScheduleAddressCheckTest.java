package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.http.JobJson;
import dev.hourglass.http.ScheduleRequestParser;
import dev.hourglass.webhook.address.AddressPolicy;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import org.apache.hc.client5.http.DnsResolver;
import org.junit.jupiter.api.Test;

/**
 * The schedule-time SSRF check resolves the target's host on the request's path: a name server that never answers
 * must not hold the request. The job is accepted (delivery resolves and checks again), in bounded time.
 */
class ScheduleAddressCheckTest {
    private static final byte[] BODY = ("{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\","
            + " \"url\": \"https://hangs.example/hook\"}}").getBytes(StandardCharsets.UTF_8);

    @Test
    void aScheduleWhoseHostNeverResolvesIsAcceptedWithinTheLookupTimeout() {
        CountDownLatch never = new CountDownLatch(1);
        DnsResolver hanging = new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new UnknownHostException(host);
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
        GuardedDnsResolver guard = new GuardedDnsResolver(hanging, new AddressPolicy(WebhookAllowlist.none()),
                GuardedDnsResolver.DEFAULT_LOOKUP_TIMEOUT, GuardedDnsResolver.DEFAULT_MAX_PENDING_LOOKUPS);
        ScheduleRequestParser parser = new ScheduleRequestParser(JobJson.newMapper(),
                InstantSource.fixed(Instant.parse("2030-01-01T00:00:00Z")), Duration.ofDays(1), 64 * 1024, guard);
        try {
            long started = System.nanoTime();
            ScheduleRequestParser.Schedule schedule = parser.schedule(BODY, null);
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(schedule.job().target()).contains("https://hangs.example/hook");
            assertThat(took).as("bounded by the 2 s lookup timeout").isLessThan(Duration.ofSeconds(4));
        } finally {
            never.countDown();
        }
    }
}
