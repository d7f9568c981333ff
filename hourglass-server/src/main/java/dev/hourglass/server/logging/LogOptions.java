package dev.hourglass.server.logging;

import java.util.Objects;

/**
 * How the server process logs.
 *
 * @param format how each line is written
 * @param accessLog whether each API call gets an access line (logger {@code dev.hourglass.access})
 */
public record LogOptions(LogFormat format, boolean accessLog) {
    public LogOptions {
        Objects.requireNonNull(format, "format");
    }
}
