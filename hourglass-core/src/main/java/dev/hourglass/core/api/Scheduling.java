package dev.hourglass.core.api;

import java.util.Objects;

/** One job of a batch ({@code Hourglass.scheduleAll}): the request, and when it is due. */
public record Scheduling(JobRequest job, When when) {
    public Scheduling {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(when, "when");
    }
}
