package dev.hourglass.core.api;

/** A request that cannot be honoured as given. Names the field and the rule it broke; nothing was stored. */
public final class InvalidJobException extends IllegalArgumentException {
    private final String field;
    private final String rule;

    public InvalidJobException(String field, String rule) {
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
