package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TcpProxy;
import dev.hourglass.store.postgres.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node killed with SIGKILL, in a process of its own, on a real PostgreSQL: its session ends with it, so the
 * surviving node rescues its claims (a RUNNING job and jobs due soon) at its next round, although the dead node's
 * lease runs for 30 s more. Each job runs once on the survivor, none before its due time.
 */
class CrashDetectionOnPostgresTest {
    /** Long on purpose: a rescue that waited for the lease could not finish within the bound below. */
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration LOAD_INTERVAL = Duration.ofMillis(200);
    private static final int DUE_SOON = 20;

    /** Job id to the times (epoch ms) the survivor ran it, and whether any run began before its due time. */
    private final Map<JobId, List<Long>> ranAt = new ConcurrentHashMap<>();
    private final List<String> early = new CopyOnWriteArrayList<>();
    private String schema;
    private PostgresJobStore store;
    private Hourglass survivor;
    private Process child;

    @BeforeEach
    void open() {
        schema = TestDatabase.newSchemaName();
        store = PostgresJobStore.open(TestDatabase.options(schema));
    }

    @AfterEach
    void close() {
        if (child != null) {
            child.destroyForcibly();
        }
        if (survivor != null) {
            survivor.close();
        }
        store.close();
        TestDatabase.dropSchema(schema);
    }

    @Test
    void theSurvivorRescuesAKilledNodesJobsAtOnceNotWhenItsLeaseRunsOut() throws Exception {
        survivor = Hourglass.builder()
                .store(store, false)
                .clock(SystemTime.wallClock(), SystemTime.ticker())
                .syncClockToStore(true)
                .config(config("survivor"))
                .handler("work", ctx -> {
                    if (System.currentTimeMillis() < ctx.dueAt().toEpochMilli()) {
                        early.add(ctx.id().toString());
                    }
                    ranAt.computeIfAbsent(ctx.id(), k -> new CopyOnWriteArrayList<>()).add(System.currentTimeMillis());
                    return Outcome.succeeded();
                })
                .build();

        String java = ProcessHandle.current().info().command().orElse("java");
        child = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                DoomedNode.class.getName(), TestDatabase.URL, TestDatabase.USER,
                TestDatabase.PASSWORD == null ? "" : TestDatabase.PASSWORD, schema))
                .redirectErrorStream(true).start();
        List<JobId> ids = new ArrayList<>();
        List<String> output = new ArrayList<>();
        BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            output.add(line);
            if (line.startsWith("JOB ")) {
                ids.add(JobId.parse(line.substring(4)));
            } else if (line.equals("READY")) {
                break;
            }
        }
        assertThat(ids).as("the child's jobs; its output:%n%s", String.join("\n", output)).hasSize(DUE_SOON + 1);
        JobId running = ids.getFirst();
        assertThat(store.find(running).map(Job::state)).contains(JobState.RUNNING);
        assertThat(ids).allSatisfy(id -> assertThat(store.find(id).map(Job::owner)).contains("doomed"));

        long killedAt = System.currentTimeMillis();
        child.destroyForcibly(); // SIGKILL: no hand-back, no goodbye; only PostgreSQL sees the session end
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();

        await().atMost(LEASE.dividedBy(3)).until(() -> ids.stream().allMatch(ranAt::containsKey));
        long lastRun = ranAt.values().stream().flatMap(List::stream).mapToLong(Long::longValue).max().orElseThrow();
        for (JobId id : ids) {
            assertThat(ranAt.get(id)).as("run once on the survivor: %s", id).hasSize(1);
            assertThat(store.find(id).map(Job::state)).contains(JobState.SUCCEEDED);
        }
        assertThat(store.find(running).orElseThrow().attempts()).as("the killed attempt counts").isEqualTo(2);
        assertThat(early).as("runs before their due time").isEmpty();
        long firstRun = ranAt.get(running).getFirst();
        System.out.printf("killed node's jobs: RUNNING one rescued and run %d ms after the kill, last due-soon "
                + "job run %d ms after it (lease %d s)%n", firstRun - killedAt, lastRun - killedAt,
                LEASE.toSeconds());
    }

    /**
     * The other side of crash detection: a node that lives but whose connections are all cut at once (a proxy
     * restarting) loses its presence too. It renews its lease within the rescue's grace once it reconnects, so the
     * other node leaves its claims alone, and its RUNNING job is not run a second time.
     */
    @Test
    void aLiveNodeWhoseConnectionsAreAllCutForAMomentKeepsItsJobs() throws Exception {
        Duration loadInterval = Duration.ofMillis(500); // a grace of 1 s
        List<String> runs = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        try (TcpProxy proxy = TcpProxy.forJdbcUrl(TestDatabase.URL);
                PostgresJobStore storeOfA = PostgresJobStore.open(new PostgresOptions(proxy.jdbcUrl(TestDatabase.URL),
                        TestDatabase.USER, TestDatabase.PASSWORD, 4, Duration.ofSeconds(2), Duration.ofSeconds(5),
                        schema, true))) {
            survivor = Hourglass.builder()
                    .store(store, false)
                    .clock(SystemTime.wallClock(), SystemTime.ticker())
                    .config(EngineConfig.builder("b").loadInterval(loadInterval).leaseTtl(LEASE).build())
                    .handler("work", ctx -> {
                        runs.add("b " + ctx.id());
                        return Outcome.succeeded();
                    })
                    .build();
            try (Hourglass a = Hourglass.builder()
                    .store(storeOfA, false)
                    .clock(SystemTime.wallClock(), SystemTime.ticker())
                    .config(EngineConfig.builder("a").loadInterval(loadInterval).leaseTtl(LEASE).build())
                    .handler("work", ctx -> {
                        runs.add("a " + ctx.id());
                        started.countDown();
                        release.await(30, TimeUnit.SECONDS);
                        return Outcome.succeeded();
                    })
                    .build()) {
                JobId id = a.schedule(JobRequest.of("work", new byte[0]), When.after(Duration.ZERO)).job().id();
                assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

                proxy.cut(TcpProxy.Fault.REFUSE); // every connection of a closes: PostgreSQL frees its presence
                Thread.sleep(100);
                proxy.restore();
                // Several of b's rounds, well past the grace: none may take a for dead.
                Thread.sleep(loadInterval.multipliedBy(8).toMillis());
                assertThat(store.find(id).map(Job::owner)).as("still a's").contains("a");
                release.countDown();
                await().atMost(Duration.ofSeconds(10)).until(() -> store.find(id).map(Job::state).orElseThrow()
                        == JobState.SUCCEEDED);
                assertThat(runs).as("run once, on a").containsExactly("a " + id);
            }
        }
    }

    private static EngineConfig config(String node) {
        return EngineConfig.builder(node).loadInterval(LOAD_INTERVAL).leaseTtl(LEASE).build();
    }

    /**
     * The child process: node "doomed" schedules one job due at once, whose handler never returns (RUNNING when
     * the process is killed), and {@value #DUE_SOON} due in two seconds, all claimed by itself; prints their ids,
     * then READY once the first one runs, and waits to be killed.
     */
    static final class DoomedNode {
        public static void main(String[] args) throws Exception {
            PostgresOptions options = PostgresOptions.of(args[0], args[1], args[2].isEmpty() ? null : args[2])
                    .withPoolSize(4).withSchema(args[3]);
            CountDownLatch started = new CountDownLatch(1);
            Hourglass engine = Hourglass.builder()
                    .store(PostgresJobStore.open(options))
                    .syncClockToStore(true)
                    .config(config("doomed"))
                    .handler("work", ctx -> {
                        started.countDown();
                        Thread.sleep(Duration.ofMinutes(5));
                        return Outcome.succeeded();
                    })
                    .build();
            byte[] payload = "held by doomed".getBytes(StandardCharsets.UTF_8);
            System.out.println("JOB " + engine.schedule(JobRequest.of("work", payload), When.at(Instant.now()))
                    .job().id());
            Instant dueSoon = Instant.now().plusSeconds(2);
            for (int i = 0; i < DUE_SOON; i++) {
                System.out.println("JOB " + engine.schedule(JobRequest.of("work", payload), When.at(dueSoon))
                        .job().id());
            }
            if (!started.await(20, TimeUnit.SECONDS)) {
                System.out.println("the first job never started");
                System.exit(1);
            }
            System.out.println("READY");
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5));
            System.exit(2); // not reached: the test kills this process
        }
    }
}
