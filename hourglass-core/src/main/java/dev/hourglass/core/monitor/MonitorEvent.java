package dev.hourglass.core.monitor;

import java.time.Instant;
import java.util.Objects;

/**
 * One observation of a source, as fed to an {@link ErrorRateMonitor}: for example one webhook delivery attempt, with
 * the tenant and target origin as its source. Every event counts as an attempt; {@link Level#ERROR} events also
 * count as errors.
 *
 * @param source what the event is about; the monitor keeps one window per source
 * @param eventTime when it happened, by the clock of whoever observed it; decides its bucket and its weight in the
 *     moving average (the monitor's own clock decides only what is late and what "now" is)
 * @param level its severity; only {@code ERROR} is a failure
 * @param message what to show for it, may be null; the monitor keeps at most
 *     {@value ErrorRateMonitor#MAX_MESSAGE_CHARS} characters of the last error's
 */
public record MonitorEvent(String source, Instant eventTime, Level level, String message) {

    /** Severity of an event. Nested rather than top-level so that it does not clash with logging libraries' levels. */
    public enum Level {
        INFO,
        WARN,
        ERROR
    }

    public MonitorEvent {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(eventTime, "eventTime");
        Objects.requireNonNull(level, "level");
    }

    /** True for {@link Level#ERROR}: the event counts as an error as well as an attempt. */
    public boolean isError() {
        return level == Level.ERROR;
    }
}
