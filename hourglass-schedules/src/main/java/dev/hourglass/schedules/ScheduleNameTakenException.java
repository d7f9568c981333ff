package dev.hourglass.schedules;

/** A schedule of that name exists in the tenant already; nothing was stored. */
public final class ScheduleNameTakenException extends RuntimeException {
    private final String name;

    public ScheduleNameTakenException(String name) {
        super("a schedule named \"" + name + "\" exists already");
        this.name = name;
    }

    public String name() {
        return name;
    }
}
