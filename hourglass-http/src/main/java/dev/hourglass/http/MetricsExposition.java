package dev.hourglass.http;

/**
 * The metrics as the HTTP layer serves them ({@code GET /metrics}): the server's registry is behind it, so this
 * module needs no metrics library.
 */
@FunctionalInterface
public interface MetricsExposition {

    /** The path it is served on. */
    String PATH = "/metrics";

    /**
     * The current values, in the format the client asks for with {@code accept} (its {@code Accept} header, or null):
     * OpenMetrics when it names {@code application/openmetrics-text}, else the Prometheus text format.
     */
    Scrape scrape(String accept);

    /** One answer: its media type and its body. */
    record Scrape(String contentType, byte[] body) {}
}
