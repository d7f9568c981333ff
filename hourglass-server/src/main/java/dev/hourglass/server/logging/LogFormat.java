package dev.hourglass.server.logging;

import java.util.Locale;

/** How each log line is written. */
public enum LogFormat {
    /** One readable line per event: time, level, thread, logger, message, then the job's fields if any. */
    TEXT,
    /** One JSON object per line, the job's fields under {@code mdc}: for log shippers. */
    JSON;

    /** The name used in settings and in the logging configuration: {@code text} or {@code json}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
