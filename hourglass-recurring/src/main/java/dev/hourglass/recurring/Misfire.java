package dev.hourglass.recurring;

/**
 * What a schedule does with the runs that came due while it could not run them (the service was down, the schedule
 * was paused): runs older than the catch-up window are always missed; of those inside it, this policy decides.
 */
public enum Misfire {
    /** Run the latest one, once (the default). */
    FIRE_ONCE("fireOnce"),
    /** Run each, at most {@link CatchUp#MAX_FIRE_ALL} (the latest ones); all are due at once. */
    FIRE_ALL("fireAll"),
    /** Run none. */
    SKIP("skip");

    private final String jsonName;

    Misfire(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    public static Misfire fromJson(String text) {
        for (Misfire misfire : values()) {
            if (misfire.jsonName.equals(text)) {
                return misfire;
            }
        }
        throw new InvalidScheduleException("misfire", "must be \"fireOnce\", \"fireAll\" or \"skip\", not \"" + text
                + "\"");
    }
}
