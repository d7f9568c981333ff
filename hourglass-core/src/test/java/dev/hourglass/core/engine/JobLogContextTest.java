package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The trace id a job's log lines carry, read from its W3C traceparent. */
class JobLogContextTest {
    @Test
    void theTraceIdIsTheSecondFieldOfAValidTraceparent() {
        assertThat(JobLogContext.traceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    @Test
    void noTraceIdFromAMissingOrMalformedTraceparent() {
        assertThat(JobLogContext.traceIdOf(null)).isNull();
        assertThat(JobLogContext.traceIdOf("")).isNull();
        assertThat(JobLogContext.traceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736")).as("too short").isNull();
        assertThat(JobLogContext.traceIdOf("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"))
                .as("upper case").isNull();
        assertThat(JobLogContext.traceIdOf("00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01"))
                .as("not hex").isNull();
        assertThat(JobLogContext.traceIdOf("00-00000000000000000000000000000000-00f067aa0ba902b7-01"))
                .as("the invalid all-zero id").isNull();
        assertThat(JobLogContext.traceIdOf("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).isNull();
    }
}
