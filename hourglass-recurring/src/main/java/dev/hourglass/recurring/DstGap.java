package dev.hourglass.recurring;

import java.util.Locale;

/**
 * What a schedule at fixed local times does with a time that the spring change skips (02:30 on a day whose clocks go
 * from 02:00 to 03:00). Schedules whose hour field is {@code *} or a step follow elapsed time instead, and the
 * skipped minutes simply do not exist for them (docs/recurring.md).
 */
public enum DstGap {
    /** Run once, later by the length of the gap (02:30 becomes 03:30), as {@code java.time} resolves such a time. */
    SHIFT,
    /** Do not run that day. */
    SKIP;

    /** The JSON spelling: {@code "shift"} or {@code "skip"}. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Reads the JSON spelling; anything else is refused naming the field. */
    public static DstGap fromJson(String text) {
        for (DstGap gap : values()) {
            if (gap.jsonName().equals(text)) {
                return gap;
            }
        }
        throw new InvalidScheduleException("dstGap", "must be \"shift\" or \"skip\", not \"" + text + "\"");
    }
}
