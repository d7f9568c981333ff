package dev.hourglass.schedules;

import dev.hourglass.recurring.InvalidScheduleException;

/** What a run does when its predecessor is still running or retrying at its due time. */
public enum Overlap {
    /** The run is skipped and counted in the schedule's {@code skippedRuns} (the default). */
    SKIP("skip"),
    /** The run waits for the predecessor to end; a further run that finds one waiting is skipped. */
    BUFFER_ONE("bufferOne"),
    /** Runs overlap. */
    ALLOW("allow");

    private final String jsonName;

    Overlap(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    public static Overlap fromJson(String text) {
        for (Overlap overlap : values()) {
            if (overlap.jsonName.equals(text)) {
                return overlap;
            }
        }
        throw new InvalidScheduleException("overlap", "must be \"skip\", \"bufferOne\" or \"allow\", not \"" + text
                + "\"");
    }
}
