package dev.hourglass.store.jdbc;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.model.Transition;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.StoreException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The parts of the {@link dev.hourglass.core.store.StoreTx} contract that every SQL store decides the same way,
 * whatever its statements: how a skipped insert, an unchanged cancel or reschedule, and a finish are read, and the
 * order of a claim. The statements themselves stay each store's own.
 */
public final class StoreTxRules {

    /** The last error a rescue gives a running job whose owner's lease ran out. */
    public static final String LEASE_EXPIRED = "lease expired";

    /** The order {@code claimDue} returns jobs in: due time, then id. RETURNING keeps no order, so stores sort. */
    public static final Comparator<Job> CLAIM_ORDER = Comparator.comparing(Job::dueAt).thenComparing(Job::id);

    private StoreTxRules() {}

    /** True when the finish schedules the job again (a retry) rather than ending it; refuses a finish in RUNNING. */
    public static boolean retry(FinishRun run) {
        return !Transition.finishingIn(run.to()).to().isTerminal();
    }

    /** Refuses the batch, before anything is written, if a retry in it lacks the next due time. */
    public static void requireNextDueTimes(List<FinishRun> runs) {
        for (FinishRun run : runs) {
            if (retry(run) && run.dueAt() == null) {
                throw new IllegalArgumentException("a retry needs the next due time: " + run);
            }
        }
    }

    /**
     * The result of an insert the database skipped because {@code job}'s idempotency key is taken: the job that
     * holds the key, as a duplicate (same request hash) or a conflict.
     *
     * @param store the store as messages name it
     * @param holder the job that holds the key, or null if none does (a broken invariant: a StoreException)
     */
    public static InsertResult notInserted(String store, NewJob job, Job holder) {
        if (holder == null) {
            throw new StoreException(store + ": the insert of job " + job.id()
                    + " was skipped but no job holds its idempotency key");
        }
        return Arrays.equals(holder.requestHash(), job.requestHash())
                ? new InsertResult.Duplicate(holder)
                : new InsertResult.Conflict(holder);
    }

    /**
     * Why a cancel or reschedule of {@code tenant} (null: any tenant) changed nothing, given the job as it is now
     * ({@code current}, null if absent): another tenant's job is not found, like an absent one; else it is in the
     * wrong state.
     */
    public static ChangeResult unchanged(Job current, String tenant) {
        if (current == null || (tenant != null && !tenant.equals(current.tenant()))) {
            return new ChangeResult.NotFound();
        }
        return new ChangeResult.WrongState(current);
    }
}
