package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import dev.hourglass.server.OutageHarness.Call;
import dev.hourglass.server.OutageHarness.Fired;
import dev.hourglass.server.OutageHarness.Node;
import dev.hourglass.server.OutageHarness.Window;
import dev.hourglass.store.postgres.TcpProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The database outage of {@link DatabaseOutageTest} on a cluster: two server nodes on one PostgreSQL schema, each
 * reaching it through a proxy of its own, so that the network can be cut for both at once or for one only. Two
 * clients per node schedule webhooks due over the next seconds; each node claims the jobs it takes (they are due
 * within its horizon), so both nodes hold claims. A few "slow" jobs, whose deliveries the receiver holds for
 * {@link OutageHarness#SLOW_REPLY}, are due just before a cut, so that some attempts are running when it comes.
 *
 * <p>Which node fired an attempt is read from the job's row as the delivery arrives (RUNNING, owned by the firing
 * node): a webhook carries the job id, attempt and due time, not the node.
 *
 * <p>(a) Both nodes lose the database at once (blackhole, then refused; each longer than the store timeout, the
 * blackhole also longer than the lease), then get it back: per node, what the one-node test asserts; both nodes fire
 * again after each restore; every acknowledged job fires, none early; a job fires twice only if its first attempt
 * was running when the outage hit (at-least-once: the node whose lease lapsed loses it to the other's rescue).
 *
 * <p>(b) One node loses the database for longer than the lease: the other answers 201 throughout, rescues the cut
 * node's claims and fires them within lease + 2 s of their due time; the cut node's late writes are refused by the
 * fencing token (its claims fire once, by the other node, under a newer token; an attempt it was running when cut
 * off runs again, and its outcome does not count); back, it takes schedules and fires jobs again.
 */
class ClusterOutageTest {
    /** The test engine's lease; a node's claims are rescued this long after its last heartbeat. */
    private static final Duration LEASE_TTL = ServerFixture.testEngine().leaseTtl();
    private static final Duration BLACKHOLE = DatabaseOutageTest.BLACKHOLE;
    private static final Duration REFUSED = DatabaseOutageTest.REFUSED;
    /** Scenario (b): one node cut off for longer than the lease. */
    private static final Duration ONE_NODE_CUT = LEASE_TTL.plusSeconds(3);
    private static final int SLOW_JOBS_PER_NODE = 3;

    @TempDir
    Path dir;

    private OutageHarness harness;
    private Node node1;
    private Node node2;
    /** What the engines log (both nodes), to see which outcome writes the fencing token refused. */
    private final ListAppender<ILoggingEvent> engineLog = new ListAppender<>();

    @BeforeEach
    void start() {
        assertThat(BLACKHOLE).as("the blackhole outlasts the lease").isGreaterThan(LEASE_TTL);
        engineLog.start();
        ((Logger) LoggerFactory.getLogger("dev.hourglass.core.engine")).addAppender(engineLog);
        harness = new OutageHarness();
        node1 = harness.startNode(dir, ServerFixture.testEngine("node-1"));
        node2 = harness.startNode(dir, ServerFixture.testEngine("node-2"));
    }

    @AfterEach
    void stop() throws Exception {
        ((Logger) LoggerFactory.getLogger("dev.hourglass.core.engine")).detachAppender(engineLog);
        harness.close();
    }

    /** The engine log lines (formatted) that contain {@code text}. */
    private List<String> logged(String text) {
        return engineLog.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(text))
                .toList();
    }

    @Test
    @Timeout(90) // about 35 s: 17 s of load and outages, then the drain
    void bothNodesLoseTheDatabaseAndBothResumeFiringEveryAcknowledgedJobWhenItReturns() throws Exception {
        harness.startLoad(2);
        List<Window> outages = new ArrayList<>();
        slowJobsDueJustBefore(System.currentTimeMillis() + 3_000, node1, node2);
        outages.add(harness.outage(Fault.BLACKHOLE, BLACKHOLE, node1, node2));
        slowJobsDueJustBefore(System.currentTimeMillis() + 3_000, node1, node2);
        outages.add(harness.outage(Fault.REFUSE, REFUSED, node1, node2));
        OutageHarness.sleep(4_000);
        harness.stopLoad();

        harness.awaitScheduling(node1, Duration.ofSeconds(15));
        harness.awaitScheduling(node2, Duration.ofSeconds(15));
        harness.assertAnswersBounded();
        harness.assertOutagesSeenBy(node1, outages);
        harness.assertOutagesSeenBy(node2, outages);

        OutageHarness.Settled settled = harness.assertAcknowledgedDeliveredAndAllSucceeded();
        Map<String, Long> acknowledged = settled.acknowledged();
        Map<String, String> stored = settled.stored();

        // Both nodes fire again after each restore (and before the next fault).
        List<Fired> firings = harness.firings();
        Map<String, List<Long>> firedAfter = new LinkedHashMap<>();
        for (int i = 0; i < outages.size(); i++) {
            long from = outages.get(i).toEpochMs();
            long to = i + 1 < outages.size() ? outages.get(i + 1).fromEpochMs() : Long.MAX_VALUE;
            for (Node node : List.of(node1, node2)) {
                long n = firings.stream().filter(f -> node.id().equals(f.firedBy()) && f.arrivedEpochMs() > from
                        && f.arrivedEpochMs() < to).count();
                firedAfter.computeIfAbsent(node.id(), k -> new ArrayList<>()).add(n);
                assertThat(n).as("%s fires after the restore that ended the %s outage", node.id(),
                        outages.get(i).fault()).isPositive();
            }
        }

        // At least once: a job fires twice only if its first attempt was running when an outage hit. (Its row then
        // tells who fired it; a row taken from the firing node while it delivered says the node's lease had run out
        // while it started the attempt.)
        List<String> duplicated = harness.duplicated();
        List<String> unexplained = duplicated.stream().filter(id -> !firstAttemptRanInto(id, outages)).toList();
        assertThat(unexplained).as("jobs fired twice although no attempt of theirs ran when an outage hit: %s",
                describe(unexplained)).isEmpty();

        System.out.printf("cluster outage, both nodes: %s; %s; %d jobs stored (%d acknowledged), all SUCCEEDED, %d "
                        + "deliveries; lateness of acknowledged jobs %s; firings after each restore %s; %d jobs "
                        + "fired twice (attempt running at the cut): %s; outages %s%n",
                harness.answerSummary(node1), harness.answerSummary(node2), stored.size(), acknowledged.size(),
                harness.deliveries().size(), lateness(acknowledged), firedAfter, duplicated.size(),
                describe(duplicated), outages);
    }

    @Test
    @Timeout(90) // about 30 s: 17 s of load and the outage, then the drain
    void theOtherNodeRescuesACutOffNodesClaimsAndFencesItsLateWrites() throws Exception {
        harness.startLoad(2);
        long cutAt = System.currentTimeMillis() + 3_000;
        // Claims of node 1 that fall due while it is cut off: it takes them at once (due within its horizon).
        for (int i = 0; i < 30; i++) {
            harness.scheduleAt(node1, "held-" + i, cutAt + 500 + i * 150L);
        }
        slowJobsDueJustBefore(cutAt, node1);
        AtomicReference<Map<String, Long>> claimedAtCut = new AtomicReference<>();
        AtomicReference<Map<String, Long>> runningAtCut = new AtomicReference<>();
        Window outage = harness.outage(Fault.BLACKHOLE, ONE_NODE_CUT, () -> {
            claimedAtCut.set(harness.heldBy(node1, "SCHEDULED"));
            runningAtCut.set(harness.heldBy(node1, "RUNNING"));
        }, node1);
        OutageHarness.sleep(4_000);
        harness.stopLoad();

        harness.awaitScheduling(node1, Duration.ofSeconds(15));
        harness.assertAnswersBounded();
        harness.assertOutagesSeenBy(node1, List.of(outage));
        List<Call> node2Calls = harness.calls(node2);
        assertThat(node2Calls).as("node-2 kept its database: every schedule it took was answered 201")
                .isNotEmpty().allMatch(c -> c.status() == 201);

        OutageHarness.Settled settled = harness.assertAcknowledgedDeliveredAndAllSucceeded();
        Map<String, Long> acknowledged = settled.acknowledged();
        Map<String, String> stored = settled.stored();

        // node-1's claims at the cut: fired once each, by node-2, under a newer fencing token, within the lease.
        Map<String, Long> claims = claimedAtCut.get();
        assertThat(claims).as("node-1 held claims when it was cut off").isNotEmpty();
        Map<String, Long> rescuedLateness = new HashMap<>();
        for (Map.Entry<String, Long> claim : claims.entrySet()) {
            List<Fired> fired = harness.firings(claim.getKey());
            assertThat(fired).as("firings of node-1's claim %s", claim.getKey()).hasSize(1);
            Fired f = fired.getFirst();
            assertThat(f.firedBy()).as("who fired node-1's claim %s", f.jobId()).isEqualTo(node2.id());
            assertThat(f.token()).as("fencing token of the rescued claim %s", f.jobId())
                    .isGreaterThan(claim.getValue());
            Long due = acknowledged.get(f.jobId()); // null: committed though its caller heard 503
            if (due != null) {
                rescuedLateness.put(f.jobId(), f.arrivedEpochMs() - due);
            }
        }
        assertThat(claims.keySet()).as("node-1's claims fell due while it was cut off")
                .anyMatch(id -> acknowledged.getOrDefault(id, Long.MAX_VALUE) < outage.toEpochMs());
        assertThat(rescuedLateness.values()).as("lateness (ms) of node-1's claims at the cut, fired by node-2")
                .allMatch(late -> late <= LEASE_TTL.toMillis() + 2_000);

        // node-1's attempts running at the cut: run again by node-2; node-1's late outcome did not count.
        Map<String, Long> running = runningAtCut.get();
        assertThat(running).as("node-1 was running the slow jobs when it was cut off").isNotEmpty();
        for (String id : running.keySet()) {
            List<Fired> fired = harness.firings(id);
            if (logged(id).stream().anyMatch(m -> m.contains("the answer to a commit (START) was lost"))) {
                // The cut fell on the start's commit: RUNNING in the store, but node-1 never heard so and never ran
                // it; node-2 ran it once the lease ran out, and node-1 has no outcome to write.
                assertThat(fired).as("firings of %s, started unheard by node-1 at the cut", id).hasSize(1);
                assertThat(fired.getFirst().firedBy()).as("who ran %s", id).isEqualTo(node2.id());
                continue;
            }
            assertThat(logged(id)).as("node-1's late outcome of %s, refused by the fencing token", id)
                    .anyMatch(m -> m.contains("claim lost") || m.contains("outcome was refused"));
            assertThat(fired).as("firings of %s, running on node-1 at the cut", id).hasSize(2);
            assertThat(fired.getLast().firedBy()).as("who ran %s again", id).isEqualTo(node2.id());
            assertThat(fired.getLast().token()).as("fencing token of %s's second attempt", id)
                    .isGreaterThan(running.get(id));
        }
        List<String> duplicated = harness.duplicated();
        assertThat(duplicated).as("jobs fired twice: only those running on node-1 at the cut")
                .allMatch(running::containsKey);

        // Back, node-1 works normally: it takes schedules (asserted above) and fires its claims again.
        long firedByNode1After = harness.firings().stream()
                .filter(f -> node1.id().equals(f.firedBy()) && f.arrivedEpochMs() > outage.toEpochMs()).count();
        assertThat(firedByNode1After).as("jobs node-1 fired after it got its database back").isPositive();

        System.out.printf("cluster outage, one node: %s; %s; node-1 held %d claims and ran %d attempts at the cut; "
                        + "back, it put %s parked entries back in its timer (none fired: refused by the token); "
                        + "lateness of its claims at the cut (fired by node-2) %s (bound %d ms); lateness "
                        + "of all acknowledged jobs %s; %d jobs fired twice: %s; node-1 fired %d jobs after the "
                        + "restore; %d jobs stored (%d acknowledged), all SUCCEEDED; outage %s%n",
                harness.answerSummary(node1), harness.answerSummary(node2), claims.size(), running.size(),
                logged("firing resumed").stream().map(m -> m.replaceAll("\\D+", " ").trim()).toList(),
                summary(rescuedLateness.values()), LEASE_TTL.toMillis() + 2_000, lateness(acknowledged),
                duplicated.size(), describe(duplicated), firedByNode1After, stored.size(), acknowledged.size(),
                outage);
    }

    /**
     * Schedules {@link #SLOW_JOBS_PER_NODE} slow jobs through each node, due 300 to 100 ms before
     * {@code cutAtEpochMs}, then sleeps until then: their deliveries are still held when the cut comes.
     */
    private void slowJobsDueJustBefore(long cutAtEpochMs, Node... nodes) {
        for (Node node : nodes) {
            for (int i = 0; i < SLOW_JOBS_PER_NODE; i++) {
                harness.scheduleAt(node, OutageHarness.SLOW + node.id() + "-" + cutAtEpochMs + "-" + i,
                        cutAtEpochMs - 300 + i * 100L);
            }
        }
        OutageHarness.sleep(Math.max(0, cutAtEpochMs - System.currentTimeMillis()));
    }

    /**
     * True if the job's first attempt was running when an outage hit: it started (its start was stamped) before the
     * outage ended and was still delivering when it began (the delivery arrived less than
     * {@link OutageHarness#SLOW_REPLY} + 1 s before the cut). A first attempt whose row no longer said when it
     * started (rescued while it delivered) counts only if it arrived before the outage ended.
     */
    private boolean firstAttemptRanInto(String id, List<Window> outages) {
        Fired first = harness.firings(id).getFirst();
        long started = first.startedEpochMs() != null ? first.startedEpochMs() : first.arrivedEpochMs();
        return outages.stream().anyMatch(w -> started < w.toEpochMs()
                && first.arrivedEpochMs() > w.fromEpochMs() - OutageHarness.SLOW_REPLY.toMillis() - 1_000);
    }

    private String describe(List<String> ids) {
        return ids.stream().map(id -> id + " " + harness.firings(id)).collect(Collectors.joining(", ", "[", "]"));
    }

    /** First arrival minus due time of every acknowledged job. */
    private String lateness(Map<String, Long> acknowledged) {
        Map<String, Long> first = harness.firstArrivals();
        return summary(acknowledged.entrySet().stream().filter(e -> first.containsKey(e.getKey()))
                .map(e -> first.get(e.getKey()) - e.getValue()).toList());
    }

    private static String summary(java.util.Collection<Long> values) {
        LongSummaryStatistics s = values.stream().mapToLong(Long::longValue).summaryStatistics();
        return s.getCount() == 0 ? "n=0" : String.format("n=%d min=%d avg=%.0f max=%d ms", s.getCount(), s.getMin(),
                s.getAverage(), s.getMax());
    }
}
