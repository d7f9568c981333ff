package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Work spread across nodes on a real PostgreSQL (issue 20): a node that starts alone against a backlog claims all of
 * it, and as two more nodes join, one after another, the claims settle to a fair share each (the first node yields
 * the excess, the newcomers claim it) before any of the jobs is due. Then each job runs once, none early, and each
 * node runs a good part of them.
 */
class WorkSpreadOnPostgresTest {
    private static final Duration LOAD_INTERVAL = Duration.ofMillis(200);
    private static final int JOBS = 6_000;
    /** How far a node's claims may be from an even split once settled: the yield's slack is a quarter of the share. */
    private static final double TOLERANCE = 0.25;

    private final Map<JobId, List<String>> ranOn = new ConcurrentHashMap<>();
    private final List<JobId> early = new CopyOnWriteArrayList<>();
    private final List<Hourglass> nodes = new ArrayList<>();
    private final List<PostgresJobStore> stores = new ArrayList<>();
    private String schema;

    @BeforeEach
    void open() {
        schema = TestDatabase.newSchemaName();
    }

    @AfterEach
    void close() {
        nodes.forEach(Hourglass::close);
        stores.forEach(PostgresJobStore::close);
        TestDatabase.dropSchema(schema);
    }

    /** A node with a store (a connection pool) of its own, as a process of its own would have. */
    private Hourglass node(String name) {
        PostgresJobStore store = PostgresJobStore.open(TestDatabase.options(schema));
        stores.add(store);
        Hourglass node = Hourglass.builder()
                .store(store, false)
                .clock(SystemTime.wallClock(), SystemTime.ticker())
                .config(EngineConfig.builder(name).loadInterval(LOAD_INTERVAL).build())
                .handler("work", ctx -> {
                    if (System.currentTimeMillis() < ctx.dueAt().toEpochMilli()) {
                        early.add(ctx.id());
                    }
                    ranOn.computeIfAbsent(ctx.id(), k -> new CopyOnWriteArrayList<>()).add(name);
                    return Outcome.succeeded();
                })
                .build();
        nodes.add(node);
        return node;
    }

    /** SCHEDULED claims per node, as the store holds them. */
    private Map<String, Integer> claimsByNode() throws SQLException {
        Map<String, Integer> claims = new HashMap<>();
        try (Connection connection = TestDatabase.raw(schema); Statement select = connection.createStatement();
                ResultSet rs = select.executeQuery("SELECT owner, count(*) FROM jobs WHERE state = 'SCHEDULED' "
                        + "AND owner IS NOT NULL GROUP BY owner")) {
            while (rs.next()) {
                claims.put(rs.getString(1), rs.getInt(2));
            }
        }
        return claims;
    }

    /** True when {@code count} nodes hold every job between them, each within the tolerance of an even split. */
    private boolean evenlySpread(int count) throws SQLException {
        Map<String, Integer> claims = claimsByNode();
        int even = JOBS / count;
        return claims.size() == count && claims.values().stream().mapToInt(Integer::intValue).sum() == JOBS
                && claims.values().stream().allMatch(n -> Math.abs(n - even) <= even * TOLERANCE);
    }

    @Test
    void nodesJoiningOneAfterAnotherSettleToAFairShareAndEachJobRunsOnceOnTime() throws Exception {
        Hourglass first = node("a");
        Instant start = Instant.now().plusSeconds(12); // after the nodes joined: the test shows the spread first
        List<CompletableFuture<InsertResult>> scheduled = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            Instant due = start.plusMillis(i * 6_000L / JOBS); // over 6 s
            scheduled.add(first.scheduleAsync(JobRequest.of("work", ("" + i).getBytes(StandardCharsets.UTF_8)),
                    When.at(due)));
        }
        CompletableFuture.allOf(scheduled.toArray(CompletableFuture[]::new)).join();
        await().atMost(Duration.ofSeconds(5)).until(() -> claimsByNode().equals(Map.of("a", JOBS)));

        node("b");
        await().atMost(Duration.ofSeconds(4)).until(() -> evenlySpread(2));
        Map<String, Integer> ofTwo = claimsByNode();

        node("c");
        await().atMost(Duration.ofSeconds(4)).until(() -> evenlySpread(3));
        Map<String, Integer> ofThree = claimsByNode();
        assertThat(Instant.now()).as("spread before the first job came due").isBefore(start);

        await().atMost(Duration.ofSeconds(30)).until(() -> ranOn.size() == JOBS);
        Map<String, Integer> ranBy = new HashMap<>();
        ranOn.forEach((id, on) -> {
            assertThat(on).as("job %s ran once", id).hasSize(1);
            ranBy.merge(on.getFirst(), 1, Integer::sum);
        });
        System.out.printf("claims alone: {a=%d}; with b: %s; with c: %s; runs: %s%n", JOBS, ofTwo, ofThree, ranBy);
        assertThat(early).as("runs before their due time").isEmpty();
        // Runs follow the claims only roughly: a yield moves a node's latest-due claims, and while jobs fire the
        // counts move and small yields go to whichever node claims first.
        assertThat(ranBy).as("each node ran a good part of the jobs").hasSize(3)
                .allSatisfy((node, n) -> assertThat(n).isGreaterThanOrEqualTo(JOBS / 6));
    }
}
