package dev.hourglass.bench;

import dev.hourglass.core.api.Outcome;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hourglass bench}: prints figures, asserts nothing (but that the history scenario's drains leave the
 * history rows they claim to pay for, {@link HistoryCost}). Each scenario runs on a fresh store in a scratch
 * directory; progress lines start with "..", and one machine-readable RESULT line per scenario is repeated in the
 * summary at the end; the lateness and postgres scenarios also write SVG plots ({@link BenchPlots}) into
 * {@code --plots}. The {@code postgres} scenario (not in the default list: it needs a PostgreSQL server) runs
 * Hourglass and its peers side by side on one server ({@link PgSuite}). The {@code jmh} subcommand runs the JMH
 * microbenchmarks instead ({@link JmhCommand}).
 */
@Command(name = "hourglass bench", mixinStandardHelpOptions = true, subcommands = JmhCommand.class,
        description = "Measure Hourglass on this machine: schedule throughput, firing lateness, drain rate, mixed "
                + "load; writes SVG plots of the lateness and PostgreSQL throughput; 'bench jmh' runs the JMH "
                + "microbenchmarks of the hot paths.")
public final class BenchMain implements Callable<Integer> {

    static final Set<String> ALL = Set.of("schedule", "http", "lateness", "drain", "webhook-drain", "mixed",
            "metrics", "history", "metrics-scrape", "postgres", "scale", "restart", "noisy-http", "spread",
            "recurring", "queue-drain", "batch");


    @Option(names = "--scenarios", split = ",",
            defaultValue = "schedule,http,lateness,drain,webhook-drain,mixed,metrics,history",
            description = "Comma-separated: ${DEFAULT-VALUE}; or postgres: Hourglass, db-scheduler and Quartz "
                    + "side by side on one PostgreSQL server (see the --pg-* options); or scale: 10^7 pending jobs "
                    + "in SQLite and PostgreSQL (see the --scale-* options); or metrics-scrape: /metrics at 10^7 "
                    + "pending jobs (see the --metrics-scrape-* options); or restart: a server killed with SIGKILL "
                    + "under load and restarted (see the --restart-* options; needs Node.js for its receiver); or "
                    + "noisy-http: one tenant's webhook burst beside another tenant's few webhooks, over HTTP (see "
                    + "the --noisy-* options); or spread: three nodes on PostgreSQL started one after another "
                    + "against a backlog (see the --spread-* options); or recurring: many recurring schedules at a "
                    + "steady rate of runs (see the --recurring-* options); or queue-drain: --drain-jobs due at once "
                    + "for each target type, webhook, Kafka, RabbitMQ, NATS and Redis (see --queue-types); or batch: "
                    + "--drain-jobs loaded by scheduleAll, by scheduleAsync and by schedule from 64 callers, on SQLite "
                    + "and, with --batch-postgres, on PostgreSQL.")
    List<String> scenarios;

    @Option(names = "--restart-rate", defaultValue = "200",
            description = "restart scenario: schedules per second, before and after the kill: ${DEFAULT-VALUE}")
    int restartRate;

    @Option(names = "--restart-runs", defaultValue = "3",
            description = "restart scenario: kill-and-restart runs, each on a fresh server: ${DEFAULT-VALUE}")
    int restartRuns;

    @Option(names = "--metrics-rounds", description = "metrics scenario: rounds of off/on pairs (default 3; "
            + "smoke: 1).")
    Integer metricsRounds;

    @Option(names = "--history-rounds", description = "history scenario: rounds of off/on pairs of each drain "
            + "(default 3; quick, smoke: 1).")
    Integer historyRounds;

    @Option(names = "--history-postgres", description = "history scenario: also the library drain on PostgreSQL "
            + "(see --jdbc-url, --db-user).")
    boolean historyPostgres;

    @Option(names = "--metrics-scrape-jobs", description = "metrics-scrape scenario: pending jobs in the store "
            + "(default 10000000; quick: 100000; smoke: 10000).")
    Long metricsScrapeJobs;

    @Option(names = "--metrics-scrape-tenants", defaultValue = "1000",
            description = "metrics-scrape scenario: tenants the pending jobs belong to: ${DEFAULT-VALUE}")
    int metricsScrapeTenants;

    @Option(names = "--quick", description = "Short runs (about a minute in all) instead of the full profile.")
    boolean quick;

    @Option(names = "--smoke", description = "Seconds-long runs that only prove the benchmarks still work (CI).")
    boolean smoke;

    @Option(names = "--seconds", description = "Measured seconds per throughput run (default: 10, quick: 3).")
    Integer seconds;

    @Option(names = "--callers", split = ",", defaultValue = "1,8,64",
            description = "Concurrent callers for the schedule scenarios: ${DEFAULT-VALUE}")
    List<Integer> callers;

    @Option(names = "--rate", split = ",", description = "Fires per second for the lateness scenario, one run "
            + "per rate (default 500,2000,10000).")
    List<Integer> rates;

    @Option(names = "--lateness-seconds", description = "Seconds of scheduling per lateness rate (default 30, "
            + "quick 10, smoke 1).")
    Integer latenessSeconds;

    @Option(names = "--mixed-rate", defaultValue = "4000", description = "Operations per second in the mixed "
            + "scenario (a quarter are near jobs that fire); 0: as fast as the callers go: ${DEFAULT-VALUE}")
    int mixedRate;

    @Option(names = "--mixed-seconds", description = "Seconds of mixed load (default 30, quick 10, smoke 3).")
    Integer mixedSeconds;

    @Option(names = "--plots", description = "Directory the SVG plots are written to (default: --dir).")
    Path plots;

    @Option(names = "--drain-jobs", description = "Jobs due at once for the drain scenarios (default 100000; "
            + "postgres scenario, quick: 10000).")
    Integer drainJobs;

    @Option(names = "--webhook-concurrency", defaultValue = "256",
            description = "Webhook deliveries in flight at once in the webhook-drain scenario: ${DEFAULT-VALUE}")
    int webhookConcurrency;

    @Option(names = "--queue-types", split = ",", defaultValue = "webhook,kafka,rabbitmq,nats,redis",
            description = "queue-drain scenario: the target types drained, in order (Kafka: a broker the scenario "
                    + "starts; RabbitMQ, NATS, Redis: this machine's, on their default ports): ${DEFAULT-VALUE}")
    Set<String> queueTypes;

    @Option(names = "--batch-postgres", description = "batch scenario: on PostgreSQL too (--jdbc-url)")
    boolean batchPostgres;

    @Option(names = "--jdbc-url", defaultValue = "${env:HOURGLASS_JDBC_URL:-jdbc:postgresql://127.0.0.1:5432/test}",
            description = "postgres scenario: the server (each system gets fresh schemas, dropped after; "
                    + "password from HOURGLASS_DB_PASSWORD): ${DEFAULT-VALUE}")
    String jdbcUrl;

    @Option(names = "--db-user", defaultValue = "${env:HOURGLASS_DB_USER:-postgres}",
            description = "postgres scenario: the user; needs CREATE on the database, CHECKPOINT if allowed: "
                    + "${DEFAULT-VALUE}")
    String dbUser;

    @Option(names = "--pg-systems", split = ",", defaultValue = "limit,hourglass,hourglass-2,db-scheduler,"
            + "db-scheduler-lf,quartz", description = "postgres scenario: what runs, in order: ${DEFAULT-VALUE}")
    List<String> pgSystems;

    @Option(names = "--pg-callers", defaultValue = "8",
            description = "postgres scenario: S1 caller threads (split across nodes): ${DEFAULT-VALUE}")
    int pgCallers;

    @Option(names = "--pg-quartz-drain-jobs", description = "postgres scenario: S2 jobs for Quartz, whose drain "
            + "slows as its backlog grows (default 10000, quick 2000).")
    Integer pgQuartzDrainJobs;

    @Option(names = "--pg-lateness-jobs", description = "postgres scenario: S3 jobs (default 20000 over 60 s; "
            + "with --pg-lateness-seconds alone, the same ~333/s).")
    Integer pgLatenessJobs;

    @Option(names = "--pg-lateness-seconds", description = "postgres scenario: S3 window the due times are "
            + "spread over (default 60, quick 10).")
    Integer pgLatenessSeconds;

    @Option(names = "--pg-drain-timeout", description = "postgres scenario: S2 deadline in seconds per system "
            + "(default 600, quick 120).")
    Integer pgDrainTimeout;

    @Option(names = "--noisy-default-jobs", description = "noisy-http scenario: webhooks of tenant default due at "
            + "once (default 20000; smoke: 2000).")
    Integer noisyDefaultJobs;

    @Option(names = "--noisy-beta-jobs", defaultValue = "50",
            description = "noisy-http scenario: webhooks of tenant beta, due just after default's: ${DEFAULT-VALUE}")
    int noisyBetaJobs;

    @Option(names = "--noisy-rate", defaultValue = "2000",
            description = "noisy-http scenario: requests per second default's receiver answers: ${DEFAULT-VALUE}")
    int noisyRate;

    @Option(names = "--noisy-beta-offset-ms", defaultValue = "100",
            description = "noisy-http scenario: how long after default's burst beta's webhooks are due: "
                    + "${DEFAULT-VALUE}")
    int noisyBetaOffsetMs;

    @Option(names = "--noisy-shared-receiver", description = "noisy-http scenario: beta's receiver in the same "
            + "process as default's (by default each has a process of its own).")
    boolean noisySharedReceiver;

    @Option(names = "--noisy-plain-receivers", description = "noisy-http scenario: receivers with the JDK "
            + "HttpServer's defaults (accept backlog 50, Nagle on, 200 idle connections kept) answering 200 with a "
            + "small body, instead of tuned ones answering 204.")
    boolean noisyPlainReceivers;

    @Option(names = "--noisy-receiver-backlog", defaultValue = "0",
            description = "noisy-http scenario: the receivers' accept backlog (5 for Python's http.server, 50 for a "
                    + "JDK server, 511 for Node.js); 0: 4096, or the JDK's default with --noisy-plain-receivers: "
                    + "${DEFAULT-VALUE}")
    int noisyReceiverBacklog;

    @Option(names = "--noisy-runs", defaultValue = "2",
            description = "noisy-http scenario: runs, one after the other, each on a fresh server and store, to the "
                    + "same receivers; the first is the server's first burst (cold), the rest warm: ${DEFAULT-VALUE}")
    int noisyRuns;

    @Option(names = "--spread-jobs", defaultValue = "200000",
            description = "spread scenario: no-op jobs due over 30 s on PostgreSQL, written before the first node "
                    + "starts: ${DEFAULT-VALUE}")
    int spreadJobs;

    @Option(names = "--recurring-schedules", defaultValue = "10000",
            description = "recurring scenario: schedules, their starts spread over one interval (smoke: 200): "
                    + "${DEFAULT-VALUE}")
    int recurringSchedules;

    @Option(names = "--recurring-every-seconds", defaultValue = "60",
            description = "recurring scenario: each schedule's interval (smoke: 10): ${DEFAULT-VALUE}")
    int recurringEverySeconds;

    @Option(names = "--recurring-seconds", defaultValue = "600",
            description = "recurring scenario: the measured window (smoke: 30): ${DEFAULT-VALUE}")
    int recurringSeconds;

    @Option(names = "--spread-join-seconds", defaultValue = "5",
            description = "spread scenario: seconds between one node's start and the next one's (three nodes): "
                    + "${DEFAULT-VALUE}")
    int spreadJoinSeconds;

    @Mixin
    ScaleOptions scale = new ScaleOptions();

    @Option(names = "--dir", defaultValue = "${sys:java.io.tmpdir}/hourglass-bench",
            description = "Scratch directory for the stores (deleted after each scenario) and, without --plots, "
                    + "where the plots are written.")
    Path dir;

    public static void main(String[] args) {
        // The webhook receiver is a JDK HttpServer in this process: answer without Nagle delays, and keep as many
        // idle keep-alive connections as the engine opens (the default 200 would close some under the client's feet,
        // and those deliveries would fail and be retried).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        for (String s : scenarios) {
            if (!ALL.contains(s)) {
                System.err.println("hourglass bench: unknown scenario '" + s + "'; known: " + ALL);
                return 2;
            }
        }
        if (rates != null && rates.stream().anyMatch(r -> r <= 0)) {
            System.err.println("hourglass bench: --rate takes positive fires per second, was " + rates);
            return 2;
        }
        for (String s : pgSystems) {
            if (!PgSuiteConfig.ALL_SYSTEMS.contains(s)) {
                System.err.println("hourglass bench: unknown --pg-systems entry '" + s + "'; known: "
                        + PgSuiteConfig.ALL_SYSTEMS);
                return 2;
            }
        }
        Duration measured = Duration.ofSeconds(seconds != null ? seconds : smoke ? 1 : quick ? 3 : 10);
        int drain = drainJobs != null ? drainJobs : smoke ? 2_000 : 100_000;
        int lateSeconds = latenessSeconds != null ? latenessSeconds : smoke ? 1 : quick ? 10 : 30;
        String profile = smoke ? "smoke" : quick ? "quick" : "full";
        Path plotDir = plots != null ? plots : dir;
        Report report = new Report();
        System.out.printf("Hourglass bench: %d cores, JDK %s, scenarios %s, %s profile%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), scenarios,
                smoke ? "smoke" : quick ? "quick" : "full");
        for (String scenario : scenarios) {
            System.out.println("== " + scenario);
            switch (scenario) {
                case "schedule" -> {
                    for (int n : callers) {
                        ScheduleThroughput.run(report, dir, n, measured);
                    }
                }
                case "http" -> {
                    for (int n : callers) {
                        HttpThroughput.run(report, dir, n, measured);
                    }
                }
                case "lateness" -> LatenessAtSteadyRate.runRates(report, dir,
                        rates != null ? rates : LatenessAtSteadyRate.DEFAULT_RATES, Duration.ofSeconds(lateSeconds),
                        plotDir, profile);
                case "mixed" -> MixedLoad.run(report, dir, mixedRate,
                        Duration.ofSeconds(mixedSeconds != null ? mixedSeconds : smoke ? 3 : quick ? 10 : 30));
                case "drain" -> DrainRate.run(report, dir, "drain-library", drain, "noop",
                        ctx -> Outcome.succeeded(), null, 512);
                case "batch" -> BatchSchedule.run(report, dir, drain, 64, batchPostgres
                        ? new PgServer(jdbcUrl, dbUser, System.getenv("HOURGLASS_DB_PASSWORD")) : null);
                case "queue-drain" -> QueueDrain.run(report, dir, drain, webhookConcurrency, queueTypes, !smoke);
                case "webhook-drain" -> WebhookDrain.run(report, dir, Math.min(drain, smoke ? 2_000 : 50_000),
                        webhookConcurrency);
                case "postgres" -> {
                    PgSuiteConfig pg = PgSuiteConfig.of(profile, pgSystems, pgCallers, seconds, drainJobs,
                            pgQuartzDrainJobs, pgLatenessJobs, pgLatenessSeconds, pgDrainTimeout);
                    List<PgFigures.OfSystem> systems = new PgSuite(report,
                            new PgServer(jdbcUrl, dbUser, System.getenv("HOURGLASS_DB_PASSWORD")), pg).run();
                    BenchPlots.pgLateness(plotDir, pg, systems);
                    BenchPlots.pgThroughput(plotDir, pg, systems);
                }
                case "metrics" -> MetricsCost.run(report, dir, 64, measured,
                        metricsRounds != null ? metricsRounds : smoke ? 1 : 3);
                // Smoke: T 3 s ahead instead of 10, enough for 2,000 jobs, so that four drains stay seconds long.
                case "history" -> HistoryCost.run(report, dir, drain, Math.min(drain, smoke ? 2_000 : 50_000),
                        webhookConcurrency, historyRounds != null ? historyRounds : smoke || quick ? 1 : 3,
                        smoke ? Duration.ofSeconds(3) : null, !smoke, historyPostgres
                                ? new PgServer(jdbcUrl, dbUser, System.getenv("HOURGLASS_DB_PASSWORD")) : null);
                case "metrics-scrape" -> MetricsScrape.run(report, dir, metricsScrapeJobs != null ? metricsScrapeJobs
                        : smoke ? 10_000 : quick ? 100_000 : 10_000_000, metricsScrapeTenants);
                case "noisy-http" -> HttpNoisyNeighbour.run(report, dir, new HttpNoisyNeighbour.Options(
                        noisyDefaultJobs != null ? noisyDefaultJobs : smoke ? 2_000 : 20_000, noisyBetaJobs,
                        noisyRate, Duration.ofMillis(noisyBetaOffsetMs), noisySharedReceiver, noisyPlainReceivers,
                        noisyReceiverBacklog),
                        noisyRuns);
                case "scale" -> new ScaleScenario(report, scale, profile, seconds,
                        dir, new PgServer(jdbcUrl, dbUser, System.getenv("HOURGLASS_DB_PASSWORD"))).run();
                case "spread" -> WorkSpread.run(report, new PgServer(jdbcUrl, dbUser,
                        System.getenv("HOURGLASS_DB_PASSWORD")), smoke ? 5_000 : spreadJobs, spreadJoinSeconds);
                case "recurring" -> RecurringLoad.run(report, dir, new RecurringLoad.Options(
                        smoke ? 200 : recurringSchedules, Duration.ofSeconds(smoke ? 10 : recurringEverySeconds),
                        Duration.ofSeconds(smoke ? 30 : recurringSeconds)));
                case "restart" -> {
                    for (int run = 1; run <= (smoke ? 1 : restartRuns); run++) {
                        RestartLateness.run(report, dir, restartRate, Duration.ofSeconds(smoke ? 5 : 15),
                                Duration.ofSeconds(smoke ? 5 : 20));
                    }
                }
                default -> throw new IllegalStateException(scenario);
            }
        }
        report.printSummary();
        return 0;
    }
}
