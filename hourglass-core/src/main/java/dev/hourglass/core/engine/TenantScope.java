package dev.hourglass.core.engine;

import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.ChangeResult;
import java.util.List;
import dev.hourglass.core.store.DeadLetterFilter;
import java.util.Optional;

/**
 * The jobs of one tenant, as {@link Hourglass#forTenant} gives them: a job of another tenant is
 * {@link ChangeResult.NotFound} or empty, exactly like a job that does not exist, so a caller learns nothing of other
 * tenants' jobs. (A job is scheduled for a tenant with {@link dev.hourglass.core.api.JobRequest#withTenant}.)
 */
public final class TenantScope {
    private final Hourglass hourglass;
    private final String tenant;

    TenantScope(Hourglass hourglass, String tenant) {
        this.hourglass = hourglass;
        this.tenant = tenant;
    }

    /** {@link Hourglass#cancel}, of this tenant's job only. */
    public ChangeResult cancel(JobId id) {
        return hourglass.cancel(id, tenant);
    }

    /** {@link Hourglass#reschedule}, of this tenant's job only. */
    public ChangeResult reschedule(JobId id, When when) {
        return hourglass.reschedule(id, tenant, when);
    }

    /** {@link Hourglass#retry(JobId)}, of this tenant's job only. */
    public ChangeResult retry(JobId id) {
        return retry(id, null);
    }

    /** {@link Hourglass#retry(JobId, String)}, of this tenant's job only. */
    public ChangeResult retry(JobId id, String by) {
        return retry(id, hourglass.config().defaultMaxAttempts(), by);
    }

    /** {@link Hourglass#retry(JobId, int, String)}, of this tenant's job only. */
    public ChangeResult retry(JobId id, int freshAttempts, String by) {
        return hourglass.retry(id, tenant, freshAttempts, by);
    }

    /** {@link Hourglass#retryFailed(DeadLetterFilter, String)}, of this tenant's jobs only. */
    public int retryFailed(DeadLetterFilter filter, String by) {
        return retryFailed(filter, hourglass.config().defaultMaxAttempts(), by);
    }

    /** {@link Hourglass#retryFailed(DeadLetterFilter, int, String)}, of this tenant's jobs only. */
    public int retryFailed(DeadLetterFilter filter, int freshAttempts, String by) {
        return hourglass.retryFailed(tenant, filter, freshAttempts, by);
    }

    /** {@link Hourglass#getStatus}, of this tenant's job only. */
    public Optional<Job> getStatus(JobId id) {
        return hourglass.getStatus(id).filter(job -> job.tenant().equals(tenant));
    }

    /**
     * {@link Hourglass#attempts}, of this tenant's job only: empty when there is no such job of this tenant (the
     * job is read first, for its tenant).
     */
    public Optional<List<AttemptRecord>> attempts(JobId id, int afterAttempt, int limit) {
        return getStatus(id).map(job -> hourglass.attempts(id, afterAttempt, limit));
    }

    public String tenant() {
        return tenant;
    }
}
