package dev.hourglass.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.Set;
import org.slf4j.Marker;

/**
 * Drops every event of the webhook HTTP client's wire and header loggers, whatever their level: at DEBUG they print
 * each request's headers and bytes, which hold the receivers' credentials (a target's {@code Authorization}
 * header), the signatures and the payloads. Declared in {@code logback.xml}, so no level setting can turn them on.
 */
public final class WireLogFilter extends TurboFilter {
    /** Apache HttpClient 5's request and response traces. */
    static final Set<String> WIRE_LOGGERS = Set.of("org.apache.hc.client5.http.headers",
            "org.apache.hc.client5.http.wire");

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
            Throwable t) {
        return logger != null && WIRE_LOGGERS.contains(logger.getName()) ? FilterReply.DENY : FilterReply.NEUTRAL;
    }
}
