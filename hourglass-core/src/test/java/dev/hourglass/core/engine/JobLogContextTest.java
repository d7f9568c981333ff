package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.model.TraceParent;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** The fields a job's log lines carry, the trace id read from the traceparent the job keeps. */
class JobLogContextTest {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    private static Job job(TraceParent traceParent) {
        return new NewJob(new JobIdGenerator(InstantSource.fixed(T0)).next(), "acme", "work", null, new byte[0], T0,
                T0, 3, Backoff.DEFAULT, null, null, null, null, traceParent).toJob();
    }

    @Test
    void theTraceIdIsTheOneOfTheJobsTraceparent() {
        Job job = job(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").orElseThrow());

        try (JobLogContext logged = JobLogContext.open(job)) {
            assertThat(MDC.get(JobLogContext.TRACE_ID)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
            assertThat(MDC.get(JobLogContext.JOB_ID)).isEqualTo(job.id().toString());
            assertThat(MDC.get(JobLogContext.TENANT)).isEqualTo("acme");
        }
        assertThat(MDC.get(JobLogContext.TRACE_ID)).as("closed: the thread's own fields again").isNull();
    }

    @Test
    void noTraceIdForAJobWithoutATraceparent() {
        MDC.put(JobLogContext.TRACE_ID, "the thread's own");
        try (JobLogContext logged = JobLogContext.open(job(null))) {
            assertThat(MDC.get(JobLogContext.TRACE_ID)).isNull();
        } finally {
            assertThat(MDC.get(JobLogContext.TRACE_ID)).isEqualTo("the thread's own");
            MDC.remove(JobLogContext.TRACE_ID);
        }
    }
}
