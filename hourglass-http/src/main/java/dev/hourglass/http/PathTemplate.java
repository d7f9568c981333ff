package dev.hourglass.http;

import java.util.Set;

/**
 * The route a request path belongs to, with its variable parts named rather than copied: {@code /v1/jobs/{id}},
 * never the id itself, so that an access log can be aggregated by route and never records what a client chose to
 * put in a path. A path that no route serves is {@code (unmatched)}.
 */
final class PathTemplate {
    static final String UNMATCHED = "(unmatched)";
    private static final Set<String> FIXED = Set.of("/healthz", "/readyz", "/v1/jobs", "/v1/jobs/retry",
            "/v1/targets", AdminApi.PREFIX, "/v1/openapi.yaml");

    private PathTemplate() {}

    static String of(String rawPath) {
        if (FIXED.contains(rawPath)) {
            return rawPath;
        }
        String[] parts = rawPath.split("/", -1);
        // parts[0] is the empty text before the leading slash.
        if (rawPath.startsWith("/v1/jobs/")) {
            return switch (parts.length) {
                case 4 -> "/v1/jobs/{id}";
                case 5 -> switch (parts[4]) {
                    case "reschedule" -> "/v1/jobs/{id}/reschedule";
                    case "attempts" -> "/v1/jobs/{id}/attempts";
                    case "retry" -> "/v1/jobs/{id}/retry";
                    default -> UNMATCHED;
                };
                default -> UNMATCHED;
            };
        }
        if (rawPath.startsWith("/v1/targets/")) {
            return switch (parts.length) {
                case 4 -> "/v1/targets/{target}";
                case 5 -> parts[4].equals("pause") || parts[4].equals("resume")
                        ? "/v1/targets/{target}/" + parts[4] : UNMATCHED;
                default -> UNMATCHED;
            };
        }
        if (rawPath.startsWith(AdminApi.PREFIX + "/")) {
            return switch (parts.length) {
                case 5 -> AdminApi.PREFIX + "/{name}";
                case 6 -> parts[5].equals("keys") ? AdminApi.PREFIX + "/{name}/keys" : UNMATCHED;
                case 7 -> parts[5].equals("keys") ? AdminApi.PREFIX + "/{name}/keys/{keyId}" : UNMATCHED;
                default -> UNMATCHED;
            };
        }
        return UNMATCHED;
    }
}
