package dev.hourglass.recurring;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** When a recurring schedule's runs are due: its nominal run times, strictly increasing, in whole seconds or finer. */
public sealed interface Recurrence permits CronRecurrence, IntervalRecurrence {

    /** The first nominal run time strictly after {@code after}, or empty if there is none (within a bounded search). */
    Optional<Instant> nextAfter(Instant after);

    /** Up to {@code n} nominal run times at or after {@code from}, in order. */
    default List<Instant> next(Instant from, int n) {
        List<Instant> times = new ArrayList<>(n);
        Instant cursor = from.minusNanos(1);
        while (times.size() < n) {
            Optional<Instant> next = nextAfter(cursor);
            if (next.isEmpty()) {
                break;
            }
            times.add(next.get());
            cursor = next.get();
        }
        return times;
    }
}
