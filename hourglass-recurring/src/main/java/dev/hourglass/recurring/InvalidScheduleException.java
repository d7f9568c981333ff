package dev.hourglass.recurring;

/**
 * A recurring schedule that cannot be honoured as given: names the field ({@code cron}, {@code timezone},
 * {@code every}, ...) and what is wrong with it, in words a caller can act on. Nothing was stored.
 */
public final class InvalidScheduleException extends IllegalArgumentException {
    private final String field;
    private final String rule;

    public InvalidScheduleException(String field, String rule) {
        super(field + ": " + rule);
        this.field = field;
        this.rule = rule;
    }

    public String field() {
        return field;
    }

    public String rule() {
        return rule;
    }
}
