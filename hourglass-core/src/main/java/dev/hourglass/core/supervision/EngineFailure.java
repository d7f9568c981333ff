package dev.hourglass.core.supervision;

import java.time.Instant;
import java.util.Objects;

/**
 * How an engine failed: one of its long-lived threads met an {@link Error} (out of memory, a stack overflow, a
 * linkage error), or an exception no loop was written to survive. From then on the node no longer fires jobs nor
 * renews its lease (see {@link Supervision}); what it acknowledged is durable, so another node, or this process
 * restarted, takes its jobs over.
 *
 * @param thread the name of the thread that failed ({@code hourglass-timer}, {@code hourglass-committer}, ...)
 * @param error what it met
 * @param at when, by this process's wall clock (the engine's clock may be what failed)
 */
public record EngineFailure(String thread, Throwable error, Instant at) {
    public EngineFailure {
        Objects.requireNonNull(thread, "thread");
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(at, "at");
    }

    /** One line for a log or a health answer: the thread and the error, never a stack trace. */
    public String describe() {
        return "engine thread " + thread + " failed at " + at + ": " + error;
    }
}
