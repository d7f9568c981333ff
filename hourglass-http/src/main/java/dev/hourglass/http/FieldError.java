package dev.hourglass.http;

import java.util.Objects;

/**
 * One broken rule of a request: which field (a JSON path such as {@code target.url}, a query parameter, or a header
 * such as {@code Idempotency-Key}) and what the rule is, in words a client developer can act on.
 */
public record FieldError(String field, String rule) {
    public FieldError {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(rule, "rule");
    }

    @Override
    public String toString() {
        return field + ": " + rule;
    }
}
