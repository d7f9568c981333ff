package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import java.util.List;

/** A page of jobs; {@code next} is the cursor for the following page, or null at the end. */
public record JobPage(List<Job> jobs, JobId next) {
    public JobPage {
        jobs = List.copyOf(jobs);
    }
}
