package dev.hourglass.bench;

import dev.hourglass.core.api.Outcome;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the delivery history costs: S2 drains with {@code deliveryHistory} off and on, alternated in one run (off,
 * on, on, off, ...) so that the machine's drift falls on both alike: the library drain (no-op handler) and the
 * webhook drain (the local receiver of {@link WebhookDrain}) on SQLite, and optionally the library drain on
 * PostgreSQL. Each drain runs on a fresh store. Prints each drain's rate and this process's CPU a job, then per
 * drain the medians and on/off as the median of each round's ratio, for the rate and for the CPU.
 *
 * <p>After each drain it counts the history the store kept: with the history on, exactly one row per job (every job
 * succeeds at its first attempt), with it off, none. Anything else throws: a figure measured without the row it
 * claims to pay for would be worthless.
 */
final class HistoryCost {
    /** Attempts in flight for the library drain, as the {@code drain} scenario runs it. */
    private static final int LIBRARY_IN_FLIGHT = 512;

    /** Warm-up drains are this fraction of the measured ones, due this far ahead. */
    private static final int WARM_UP_DIVISOR = 10;
    private static final Duration WARM_UP_LEAD = Duration.ofSeconds(3);

    private HistoryCost() {}

    /** One drain of the comparison: what it is called, its size, and how one drain of it is run. */
    private record Kind(String name, String resultName, int jobs, Map<String, Object> labels, Run run) {}

    @FunctionalInterface
    private interface Run {
        /** One drain of {@code jobs} jobs on a fresh store, due {@code lead} after their insert begins. */
        DrainRate.Drain drain(boolean history, int jobs, Duration lead) throws Exception;
    }

    /**
     * @param lead how far ahead the jobs are due when their insert begins; null: {@link DrainRate#lead} of the count
     * @param warmUp whether a drain of a tenth of the jobs, history off and on, runs first for each kind, so that
     *     the JIT compiles what the measured drains run, and the first of them does not pay for it
     * @param postgres the server the library drain also runs on; null: SQLite only
     */
    static void run(Report report, Path workDir, int libraryJobs, int webhookJobs, int webhookInFlight, int rounds,
            Duration lead, boolean warmUp, PgServer postgres) throws Exception {
        List<Kind> kinds = new ArrayList<>();
        kinds.add(new Kind("library sqlite", "history-cost-library", libraryJobs,
                labels("sqlite", libraryJobs, LIBRARY_IN_FLIGHT), (history, jobs, due) -> {
                    try (DrainStore store = DrainStore.sqlite(workDir, "history-" + onOff(history))) {
                        return library(store, jobs, due, history);
                    }
                }));
        Map<String, Object> webhookLabels = labels("sqlite", webhookJobs, webhookInFlight);
        webhookLabels.put("receiver", WebhookDrain.receiverKind());
        kinds.add(new Kind("webhook sqlite", "history-cost-webhook", webhookJobs, webhookLabels,
                (history, jobs, due) -> {
                    try (DrainStore store = DrainStore.sqlite(workDir, "history-webhook-" + onOff(history))) {
                        return WebhookDrain.drain(workDir, store, jobs, due, webhookInFlight, history).drain();
                    }
                }));
        if (postgres != null) {
            QuietLogs.forPostgresSuite();
            Report.progress("history: PostgreSQL %s at %s", postgres.version(), postgres.safeUrl());
            kinds.add(new Kind("library pg", "history-cost-library-pg", libraryJobs,
                    labels("postgres", libraryJobs, LIBRARY_IN_FLIGHT), (history, jobs, due) -> {
                        // Dirty pages of the previous drain are flushed now, not in the middle of this one.
                        postgres.checkpoint();
                        try (DrainStore store = DrainStore.postgres(postgres, "history_" + onOff(history))) {
                            return library(store, jobs, due, history);
                        }
                    }));
        }
        if (warmUp) {
            for (Kind kind : kinds) {
                for (boolean history : new boolean[] {false, true}) {
                    DrainRate.Drain drain = kind.run().drain(history, Math.max(1, kind.jobs() / WARM_UP_DIVISOR),
                            WARM_UP_LEAD);
                    check(kind, history, drain);
                    Report.progress("history warm-up: %-14s %s %,d jobs", kind.name(), onOff(history), drain.jobs());
                }
            }
        }
        Map<Kind, List<Double>> off = new LinkedHashMap<>();
        Map<Kind, List<Double>> on = new LinkedHashMap<>();
        Map<Kind, List<Double>> cpuOff = new LinkedHashMap<>();
        Map<Kind, List<Double>> cpuOn = new LinkedHashMap<>();
        for (Kind kind : kinds) {
            off.put(kind, new ArrayList<>());
            on.put(kind, new ArrayList<>());
            cpuOff.put(kind, new ArrayList<>());
            cpuOn.put(kind, new ArrayList<>());
        }
        for (int round = 0; round < rounds; round++) {
            boolean onFirst = round % 2 == 1;
            for (Kind kind : kinds) {
                for (boolean history : new boolean[] {onFirst, !onFirst}) {
                    DrainRate.Drain drain = kind.run().drain(history, kind.jobs(),
                            lead != null ? lead : DrainRate.lead(kind.jobs()));
                    check(kind, history, drain);
                    (history ? on : off).get(kind).add(drain.perSecond());
                    (history ? cpuOn : cpuOff).get(kind).add(drain.cpuMicrosPerJob());
                    Report.progress("history round %d: %-14s %s %,.0f jobs/s (%.2f s), %.1f µs CPU a job; history "
                            + "rows %,d of %,d jobs", round + 1, kind.name(), history ? "on " : "off",
                            drain.perSecond(), drain.seconds(), drain.cpuMicrosPerJob(), drain.history().rows(),
                            drain.jobs());
                }
            }
        }
        for (Kind kind : kinds) {
            Map<String, Object> figures = MetricsCost.onOff(kind.labels(), off.get(kind), on.get(kind));
            // CPU a job is the steadier measure on a shared machine: the neighbours slow a drain, not its CPU.
            List<Double> cpuRatios = MetricsCost.roundRatios(cpuOff.get(kind), cpuOn.get(kind));
            figures.put("cpu_us_per_job_off", MetricsCost.median(cpuOff.get(kind)));
            figures.put("cpu_us_per_job_on", MetricsCost.median(cpuOn.get(kind)));
            figures.put("cpu_on_over_off", MetricsCost.median(cpuRatios));
            figures.put("cpu_round_ratios", MetricsCost.listed(cpuRatios));
            report.result(kind.resultName(), figures);
        }
    }

    private static DrainRate.Drain library(DrainStore store, int jobs, Duration lead, boolean history)
            throws Exception {
        return DrainRate.drain(store, "drain-library", jobs, lead, "noop",
                ctx -> Outcome.succeeded(), null, LIBRARY_IN_FLIGHT, history);
    }

    /** Every job done, succeeded at its one attempt, and the history exactly as the switch says. */
    private static void check(Kind kind, boolean history, DrainRate.Drain drain) {
        long expected = history ? drain.jobs() : 0;
        DrainStore.HistoryRows rows = drain.history();
        if (drain.finished() != drain.jobs() || drain.succeeded() != drain.jobs() || rows.rows() != expected
                || rows.jobs() != expected) {
            throw new IllegalStateException(String.format(
                    "history %s, %s: %,d jobs, %,d finished, %,d succeeded; the history holds %,d attempts of %,d "
                            + "jobs, expected %,d of %,d", onOff(history), kind.name(), drain.jobs(),
                    drain.finished(), drain.succeeded(), rows.rows(), rows.jobs(), expected, expected));
        }
    }

    private static Map<String, Object> labels(String store, int jobs, int inFlight) {
        Map<String, Object> labels = new LinkedHashMap<>();
        labels.put("store", store);
        labels.put("jobs", jobs);
        labels.put("in_flight", inFlight);
        return labels;
    }

    private static String onOff(boolean history) {
        return history ? "on" : "off";
    }
}
