package dev.hourglass.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * An error answer (RFC 9457 {@code application/problem+json}), thrown by the request handling code and turned into
 * a response in one place ({@link ApiHandler}). Every problem has a stable {@code type}, a short {@code title}, the
 * HTTP {@code status}, and a {@code detail} that names the field and the rule; validation problems also list each
 * broken rule in {@code errors}. Never carries a stack trace.
 *
 * @param extensions extra members of the problem object (for example the current {@code state} of a job)
 * @param headers extra response headers (for example {@code Allow} or {@code Retry-After})
 */
public record ApiProblem(
        int status,
        String type,
        String title,
        String detail,
        List<FieldError> errors,
        Map<String, Object> extensions,
        Map<String, String> headers) {

    static final String TYPE_PREFIX = "urn:hourglass:problem:";

    public ApiProblem {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(detail, "detail");
        errors = List.copyOf(errors);
        extensions = Map.copyOf(extensions);
        headers = Map.copyOf(headers);
    }

    /** A problem with no per-field errors, extensions or headers. */
    static ApiProblem of(int status, String slug, String title, String detail) {
        return new ApiProblem(status, TYPE_PREFIX + slug, title, detail, List.of(), Map.of(), Map.of());
    }

    /** The request broke field rules: 400, or 413 when {@code tooLarge}. The detail lists every broken rule. */
    static ApiProblem invalid(List<FieldError> errors, boolean tooLarge) {
        String detail = errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
        return tooLarge
                ? new ApiProblem(413, TYPE_PREFIX + "too-large", "Request too large", detail, errors, Map.of(), Map.of())
                : new ApiProblem(400, TYPE_PREFIX + "invalid-request", "Invalid request", detail, errors, Map.of(),
                        Map.of());
    }

    static ApiProblem invalid(String field, String rule) {
        return invalid(List.of(new FieldError(field, rule)), false);
    }

    ApiProblem withHeader(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new ApiProblem(status, type, title, detail, errors, extensions, h);
    }

    ApiProblem withExtension(String name, Object value) {
        Map<String, Object> e = new LinkedHashMap<>(extensions);
        e.put(name, value);
        return new ApiProblem(status, type, title, detail, errors, e, headers);
    }

    ApiProblem withStatus(int value) {
        return new ApiProblem(value, type, title, detail, errors, extensions, headers);
    }

    /** Adds one field error (the detail stays as it is). */
    ApiProblem withField(String field, String rule) {
        List<FieldError> e = new ArrayList<>(errors);
        e.add(new FieldError(field, rule));
        return new ApiProblem(status, type, title, detail, e, extensions, headers);
    }

    /** This problem as an exception, to leave the request handling code from any depth. */
    ApiException exception() {
        return new ApiException(this);
    }

    /** Carries an {@link ApiProblem} out of the request handling code. No stack trace: it is an answer, not a bug. */
    static final class ApiException extends RuntimeException {
        private final transient ApiProblem problem;

        ApiException(ApiProblem problem) {
            super(problem.detail(), null, false, false);
            this.problem = problem;
        }

        ApiProblem problem() {
            return problem;
        }
    }
}
