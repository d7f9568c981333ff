package dev.hourglass.bench;

import java.time.Duration;
import java.util.List;

/**
 * The sizes of one run of the PostgreSQL suite.
 *
 * @param systems which systems, in order ("limit" is PostgreSQL alone)
 * @param callers S1 callers
 * @param scheduleFor S1 measured time
 * @param drainJobs S2 jobs due at once
 * @param slowDrainJobs S2 jobs for a system marked slow (Quartz): its rate is compared, on fewer jobs
 * @param drainDeadline S2 gives up after this long and reports how far it got
 * @param latenessJobs S3 jobs
 * @param latenessWindow S3 window the due times are spread over
 * @param latenessGrace S3 waits at most this long after the last due time
 * @param limitLoop how long each of PostgreSQL's own loops runs
 */
record PgSuiteConfig(String profile, List<String> systems, int callers, Duration scheduleFor, int drainJobs,
        int slowDrainJobs, Duration drainDeadline, int latenessJobs, Duration latenessWindow, Duration latenessGrace,
        Duration limitLoop) {

    static final List<String> ALL_SYSTEMS =
            List.of("limit", "hourglass", "hourglass-2", "db-scheduler", "db-scheduler-lf", "quartz");

    /** Full: ~15-20 min on 2 cores. Quick: a few minutes. Smoke: proves it runs. Explicit values win. */
    static PgSuiteConfig of(String profile, List<String> systems, int callers, Integer seconds, Integer drainJobs,
            Integer slowDrainJobs, Integer latenessJobs, Integer latenessSeconds, Integer deadlineSeconds) {
        boolean smoke = profile.equals("smoke");
        boolean quick = profile.equals("quick");
        int window = latenessSeconds != null ? latenessSeconds : smoke ? 3 : quick ? 10 : 60;
        // The same rate (about 333 jobs/s) in every profile unless told otherwise: 20,000 over 60 s.
        int lateJobs = latenessJobs != null ? latenessJobs : window * 20_000 / 60;
        return new PgSuiteConfig(profile, systems, callers,
                Duration.ofSeconds(seconds != null ? seconds : smoke ? 1 : quick ? 3 : 10),
                drainJobs != null ? drainJobs : smoke ? 1_000 : quick ? 10_000 : 100_000,
                slowDrainJobs != null ? slowDrainJobs : smoke ? 300 : quick ? 2_000 : 10_000,
                Duration.ofSeconds(deadlineSeconds != null ? deadlineSeconds : smoke ? 60 : quick ? 120 : 600),
                lateJobs, Duration.ofSeconds(window),
                Duration.ofSeconds(smoke ? 10 : quick ? 20 : 60),
                Duration.ofSeconds(smoke ? 1 : quick ? 2 : 5));
    }
}
