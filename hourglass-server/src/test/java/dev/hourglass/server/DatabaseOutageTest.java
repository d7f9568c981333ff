package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.OutageHarness.Node;
import dev.hourglass.server.OutageHarness.Window;
import dev.hourglass.store.postgres.TcpProxy;
import dev.hourglass.store.postgres.TcpProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 5: a server on PostgreSQL loses its database under load and gets it back. The network to the real server is
 * cut by a {@link TcpProxy} (the server itself, which other tests use, is never touched): first a blackhole (a hung
 * network: nothing passes and nothing fails, the nasty case), then refused connections (a stopped server), each for
 * longer than the API's store timeout, while four clients schedule webhooks due over the next seconds.
 *
 * <p>What must hold: every schedule is answered 201 or 503 (problem+json, Retry-After) within a bound, never 500 and
 * never a hang; readiness reports the outage while liveness stays up; after each restore new schedules succeed
 * without a restart; every job answered 201 is delivered, none before its due time, none twice; and every job the
 * database holds (also one whose commit landed although its caller heard 503) ends SUCCEEDED: nothing is orphaned.
 * {@link ClusterOutageTest} does the same with two nodes.
 */
class DatabaseOutageTest {
    static final Duration BLACKHOLE = Duration.ofSeconds(6);
    static final Duration REFUSED = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private OutageHarness harness;
    private Node node;

    @BeforeEach
    void start() {
        harness = new OutageHarness();
        node = harness.startNode(dir, ServerFixture.testEngine());
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
    }

    @Test
    @Timeout(90) // about 30 s: 17 s of load and outages, then the drain
    void schedulesAnswer503InBoundedTimeDuringAnOutageAndEveryAcknowledgedJobFiresAfterIt() throws Exception {
        harness.startLoad(4);
        List<Window> outages = new ArrayList<>();
        OutageHarness.sleep(3_000);
        outages.add(harness.outage(Fault.BLACKHOLE, BLACKHOLE, node));
        OutageHarness.sleep(3_000);
        outages.add(harness.outage(Fault.REFUSE, REFUSED, node));
        OutageHarness.sleep(4_000);
        harness.stopLoad();

        // The store is back: a new schedule succeeds (within the time the pool needs to reconnect).
        harness.awaitScheduling(node, Duration.ofSeconds(15));
        harness.assertAnswersBounded();
        harness.assertOutagesSeenBy(node, outages);

        // Every 201 is delivered after its due time, and exactly once; nothing orphaned: every job the database
        // holds, acknowledged or not, ends SUCCEEDED.
        OutageHarness.Settled settled = harness.assertAcknowledgedDeliveredAndAllSucceeded();
        Map<String, Long> acknowledged = settled.acknowledged();
        Map<String, String> stored = settled.stored();
        assertThat(harness.duplicated()).as("jobs delivered twice").isEmpty();

        System.out.printf("outage test: %s; %d jobs stored (%d acknowledged), all SUCCEEDED, %d deliveries; "
                        + "outages %s%n", harness.answerSummary(node), stored.size(), acknowledged.size(),
                harness.deliveries().size(), outages);
    }
}
