package dev.hourglass.webhook.address;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hc.client5.http.DnsResolver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The address guard with the real system resolver (IP literals and {@code localhost} only: no network lookups),
 * and with a stand-in resolver for a name whose DNS answer changes. Nothing here connects anywhere.
 */
class GuardedDnsResolverTest {
    private static final GuardedDnsResolver STRICT = GuardedDnsResolver.system(WebhookAllowlist.none());

    /** Each host as the URL has it, the rule it breaks, and an allowlist entry that lets it through. */
    @ParameterizedTest(name = "{0} is {1} unless {2} is allowlisted")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1             | loopback       | 127.0.0.0/8",
        "10.0.0.1              | private        | 10.0.0.0/8",
        "172.16.5.4            | private        | 172.16.0.0/12",
        "192.168.1.1           | private        | 192.168.0.0/16",
        "169.254.169.254       | cloud metadata | 169.254.169.254",
        "169.254.10.10         | link-local     | 169.254.0.0/16",
        "100.64.0.1            | CGNAT          | 100.64.0.0/10",
        "0.0.0.0               | unspecified    | 0.0.0.0/8",
        "224.0.0.1             | multicast      | 224.0.0.0/4",
        "localhost             | loopback       | localhost",
        "[::1]                 | loopback       | ::1",
        "[::ffff:127.0.0.1]    | loopback       | 127.0.0.1",
        "[::127.0.0.1]         | loopback       | 127.0.0.0/8",
        "[64:ff9b::a00:1]      | private        | 64:ff9b::/96",
        "2130706433            | loopback       | 127.0.0.1",
        "[fd00:ec2::254]       | cloud metadata | fd00:ec2::254",
        "[fd12:3456::1]        | private        | fc00::/7",
        "[fe80::1]             | link-local     | fe80::/10",
        "[::]                  | unspecified    | ::/128",
        "[ff02::1]             | multicast      | ff00::/8",
    })
    void aBlockedAddressIsRefusedUnlessAllowlisted(String host, String rule, String allowed) throws Exception {
        Optional<AddressRefusal> refusal = STRICT.check(host);
        assertThat(refusal).as(host).isPresent();
        assertThat(refusal.get().rule()).isEqualTo(rule);
        assertThatThrownBy(() -> STRICT.resolve(host)).isInstanceOf(RefusedAddressException.class)
                .hasMessageContaining("a" + (rule.matches("[aeiou].*") ? "n " : " ") + rule + " address");

        GuardedDnsResolver allowing = GuardedDnsResolver.system(WebhookAllowlist.parse(allowed));
        assertThat(allowing.check(host)).as(host + " with " + allowed + " allowlisted").isEmpty();
        assertThat(allowing.resolve(host)).isNotEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "[2606:4700:4700::1111]", "100.128.0.1", "172.32.0.1",
        "0177.0.0.1" /* the JDK reads this as 177.0.0.1, and so does the client that would connect */})
    void aPublicAddressPasses(String host) {
        assertThat(STRICT.check(host)).as(host).isEmpty();
    }

    /** Hex and octal shorthands are no address to the JDK: the client has nothing to connect to. */
    @ParameterizedTest
    @ValueSource(strings = {"0x7f000001", "0x7f.0.0.1", "0x7f.1"})
    void aShorthandTheJdkDoesNotReadAsAnAddressResolvesToNothing(String host) {
        assertThatThrownBy(() -> STRICT.resolve(host)).isInstanceOf(UnknownHostException.class);
    }

    @Test
    void theRefusalSaysWhatTheHostIsAndWhichRangeHoldsIt() {
        assertThat(STRICT.check("127.0.0.1").orElseThrow().describe())
                .isEqualTo("127.0.0.1 is a loopback address (127.0.0.0/8)");
        assertThat(STRICT.check("2130706433").orElseThrow().describe())
                .isEqualTo("2130706433 is 127.0.0.1, a loopback address (127.0.0.0/8)");
        assertThat(STRICT.check("localhost").orElseThrow().describe())
                .isEqualTo("localhost resolves to 127.0.0.1, a loopback address (127.0.0.0/8)");
        assertThat(STRICT.check("[::1]").orElseThrow().describe()).isEqualTo("::1 is a loopback address (::1/128)");
        assertThat(STRICT.check("169.254.169.254").orElseThrow().describe())
                .isEqualTo("169.254.169.254 is a cloud metadata address (169.254.169.254/32)");
    }

    @Test
    void anAllowlistedRangeDoesNotAllowItsNeighbours() {
        GuardedDnsResolver guard = GuardedDnsResolver.system(WebhookAllowlist.parse("10.1.0.0/16, localhost"));
        assertThat(guard.check("10.1.200.3")).isEmpty();
        assertThat(guard.check("10.2.0.1")).isPresent();
        assertThat(guard.check("localhost")).as("allowlisted by name").isEmpty();
        assertThat(guard.check("127.0.0.1")).as("the name does not allowlist the address").isPresent();
    }

    @Test
    void aHostThatDoesNotResolvePassesTheScheduleTimeCheckAndIsCheckedAgainAtDelivery() {
        GuardedDnsResolver guard = new GuardedDnsResolver(unresolvable(), new AddressPolicy(WebhookAllowlist.none()));
        assertThat(guard.check("hooks.example.com")).isEmpty();
        assertThatThrownBy(() -> guard.resolve("hooks.example.com")).isInstanceOf(UnknownHostException.class)
                .isNotInstanceOf(RefusedAddressException.class);
    }

    /** DNS rebinding: public when the job was scheduled, private at delivery. The resolver the client uses refuses. */
    @Test
    void aNameThatNowResolvesToAPrivateAddressIsRefusedAtDelivery() throws Exception {
        AtomicReference<InetAddress> answer = new AtomicReference<>(InetAddress.getByName("93.184.215.14"));
        GuardedDnsResolver guard = new GuardedDnsResolver(fixed(answer), new AddressPolicy(WebhookAllowlist.none()));
        assertThat(guard.check("hooks.example.com")).as("at schedule time").isEmpty();

        answer.set(InetAddress.getByName("10.0.0.5"));
        assertThatThrownBy(() -> guard.resolve("hooks.example.com", 443))
                .isInstanceOf(RefusedAddressException.class)
                .hasMessage("hooks.example.com resolves to 10.0.0.5, a private address (10.0.0.0/8)");
        assertThatThrownBy(() -> guard.resolve("hooks.example.com")).isInstanceOf(RefusedAddressException.class);
    }

    @Test
    void oneBlockedAddressAmongSeveralRefusesTheHost() throws Exception {
        InetAddress[] both = {InetAddress.getByName("93.184.215.14"), InetAddress.getByName("169.254.169.254")};
        GuardedDnsResolver guard = new GuardedDnsResolver(fixed(both), new AddressPolicy(WebhookAllowlist.none()));
        assertThat(guard.check("hooks.example.com")).get().extracting(AddressRefusal::rule)
                .isEqualTo("cloud metadata");
    }

    @Test
    void theClientsResolveWithPortChecksToo() throws Exception {
        assertThatThrownBy(() -> STRICT.resolve("127.0.0.1", 80)).isInstanceOf(RefusedAddressException.class);
        assertThat(STRICT.resolve("8.8.8.8", 443)).containsExactly(new InetSocketAddress("8.8.8.8", 443));
    }

    @Test
    void aLookupThatHangsPassesTheScheduleTimeCheckWithinTheTimeout() throws Exception {
        CountDownLatch answer = new CountDownLatch(1);
        GuardedDnsResolver guard = new GuardedDnsResolver(hanging(answer, new AtomicInteger()),
                new AddressPolicy(WebhookAllowlist.none()), Duration.ofMillis(300), 4);
        try {
            long started = System.nanoTime();
            assertThat(guard.check("hooks.example.com")).isEmpty();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(300)).isLessThan(Duration.ofSeconds(2));
        } finally {
            answer.countDown();
        }
    }

    @Test
    void pastTheLimitOfPendingLookupsTheCheckPassesWithoutALookupUntilOneEnds() throws Exception {
        CountDownLatch answer = new CountDownLatch(1);
        AtomicInteger lookups = new AtomicInteger();
        GuardedDnsResolver guard = new GuardedDnsResolver(hanging(answer, lookups),
                new AddressPolicy(WebhookAllowlist.none()), Duration.ofMillis(100), 2);
        assertThat(guard.check("a.example.com")).isEmpty(); // timed out; its lookup still hangs
        assertThat(guard.check("b.example.com")).isEmpty();
        assertThat(lookups).hasValue(2);

        long started = System.nanoTime();
        assertThat(guard.check("c.example.com")).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no wait").isLessThan(Duration.ofMillis(100));
        assertThat(lookups).as("no third lookup").hasValue(2);

        answer.countDown(); // the name servers answer: a private address
        await().atMost(Duration.ofSeconds(5)).until(() -> guard.check("d.example.com").isPresent());
        assertThat(guard.check("d.example.com").orElseThrow().rule()).isEqualTo("private");
    }

    private static DnsResolver hanging(CountDownLatch answer, AtomicInteger lookups) {
        return new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                lookups.incrementAndGet();
                try {
                    answer.await(); // like a name server that never answers; not interruptible in reality either
                    return new InetAddress[] {InetAddress.getByName("10.0.0.5")};
                } catch (InterruptedException e) {
                    throw new UnknownHostException(host);
                }
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
    }

    private static DnsResolver fixed(AtomicReference<InetAddress> answer) {
        return fixed(new InetAddress[0], answer);
    }

    private static DnsResolver fixed(InetAddress... answer) {
        return fixed(answer, null);
    }

    private static DnsResolver fixed(InetAddress[] answer, AtomicReference<InetAddress> changing) {
        return new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) {
                return changing != null ? new InetAddress[] {changing.get()} : answer;
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
    }

    private static DnsResolver unresolvable() {
        return new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                throw new UnknownHostException(host);
            }

            @Override
            public String resolveCanonicalHostname(String host) throws UnknownHostException {
                throw new UnknownHostException(host);
            }
        };
    }
}
