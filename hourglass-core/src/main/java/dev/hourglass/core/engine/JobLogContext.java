package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.MDC;

/**
 * The job a thread is working on, in the logging context (SLF4J's MDC): every line logged while it is open carries
 * {@value #JOB_ID}, {@value #TENANT}, {@value #ATTEMPT} and, when the job came with a W3C trace context,
 * {@value #TRACE_ID}, so that a log format that shows the MDC (the server's JSON format) ties each line to its job.
 * Opened around an attempt on the thread that runs it (the job's handler logs with it) and around the engine's
 * lines about an attempt that are written from another thread (its outcome's write).
 *
 * <p>Closing puts back what the thread had before: one context may open inside another (an outcome written on the
 * attempt's own thread) without the outer one losing its fields.
 */
public final class JobLogContext implements AutoCloseable {
    public static final String JOB_ID = "job_id";
    public static final String TENANT = "tenant";
    /** The attempt's number, 1 for the first. */
    public static final String ATTEMPT = "attempt";
    /** The 32 hex digits of the job's W3C trace id; absent when the job has none. */
    public static final String TRACE_ID = "trace_id";

    /** The fields' values before this context opened (null: absent). */
    private final Map<String, String> previous = new HashMap<>(4);

    private JobLogContext(Job job, String traceId) {
        put(JOB_ID, job.id().toString());
        put(TENANT, job.tenant());
        put(ATTEMPT, Integer.toString(job.attempts()));
        put(TRACE_ID, traceId);
    }

    /**
     * Opens the context of {@code job}'s current attempt: its trace id is the one of the traceparent the job keeps
     * (validated when it was scheduled, so a line never carries text a client chose beyond the id), none without.
     */
    static JobLogContext open(Job job) {
        return new JobLogContext(job, job.traceParent() == null ? null : job.traceParent().traceId());
    }

    /** {@code action} run in the context of {@code job}'s attempt: for an answer that comes on another thread. */
    static <T> BiConsumer<T, Throwable> around(Job job, BiConsumer<T, Throwable> action) {
        return (value, error) -> {
            try (JobLogContext logged = open(job)) {
                action.accept(value, error);
            }
        };
    }

    private void put(String key, String value) {
        previous.put(key, MDC.get(key));
        if (value != null) {
            MDC.put(key, value);
        } else {
            MDC.remove(key);
        }
    }

    /** Puts back the fields the thread had before this context opened. */
    @Override
    public void close() {
        previous.forEach((key, value) -> {
            if (value != null) {
                MDC.put(key, value);
            } else {
                MDC.remove(key);
            }
        });
    }
}
