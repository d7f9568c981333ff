package dev.hourglass.recurring;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Which overdue runs a schedule makes up for, decided once when it finds runs whose nominal times have passed without
 * a job (after downtime, or on resume after a pause). Its cost is linear in the overdue runs: each is looked at to be
 * counted.
 *
 * @param run        nominal times to run now, oldest first
 * @param missed     overdue runs not run: older than the window, or inside it and left out by the policy
 * @param nextAfter  the first nominal time after {@code now}, if the schedule has one before its end
 */
public record CatchUp(List<Instant> run, long missed, Optional<Instant> nextAfter) {
    /** The most runs {@link Misfire#FIRE_ALL} makes up for; older ones inside the window count as missed. */
    public static final int MAX_FIRE_ALL = 100;
    /**
     * Plans the catch-up of every run with a nominal time in (after, now].
     *
     * @param after  the nominal time of the last run the schedule already has (or just before its start)
     * @param now    the cluster clock's reading
     * @param window runs older than {@code now - window} are missed whatever the policy
     * @param endAt  no run after this (null: none)
     */
    public static CatchUp plan(Recurrence recurrence, Instant after, Instant now, Misfire policy, Duration window,
            Instant endAt) {
        Instant windowStart = now.minus(window);
        Deque<Instant> inWindow = new ArrayDeque<>();
        long missed = 0;
        Instant cursor = after;
        Optional<Instant> next = recurrence.nextAfter(cursor);
        while (next.isPresent() && !next.get().isAfter(now) && (endAt == null || !next.get().isAfter(endAt))) {
            Instant due = next.get();
            if (due.isBefore(windowStart)) {
                missed++;
            } else {
                inWindow.addLast(due);
                if (inWindow.size() > MAX_FIRE_ALL) {
                    inWindow.removeFirst();
                    missed++;
                }
            }
            cursor = due;
            next = recurrence.nextAfter(cursor);
        }
        if (endAt != null && next.isPresent() && next.get().isAfter(endAt)) {
            next = Optional.empty();
        }
        List<Instant> run = switch (policy) {
            case FIRE_ALL -> new ArrayList<>(inWindow);
            case FIRE_ONCE -> inWindow.isEmpty() ? List.of() : List.of(inWindow.getLast());
            case SKIP -> List.of();
        };
        missed += inWindow.size() - run.size();
        return new CatchUp(List.copyOf(run), missed, next);
    }
}
