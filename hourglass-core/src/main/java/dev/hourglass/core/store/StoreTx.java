package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.NewJob;
import java.util.List;
import java.util.Optional;

/**
 * The writes of one transaction. One method per transition, each taking a batch and returning one result per
 * element, in order. Every update is a compare-and-set on the expected state (and, after a claim, on owner and
 * fencing token): a lost race is a result, not an exception.
 *
 * <p>A value the store cannot keep (an instant beyond its range, a text it cannot hold) is refused before anything of
 * the call is written, with an {@link InvalidDataException} naming the field and the element's position in the batch;
 * the transaction is then rolled back like for any other exception. Stores refuse the same values alike (the
 * conformance suite checks it), so that the engine can fail that one caller and commit the others.
 */
public interface StoreTx {

    /**
     * Inserts jobs in state SCHEDULED. A job whose (tenant, idempotencyKey) already exists is not inserted: the
     * result is {@link InsertResult.Duplicate} when its request hash matches and {@link InsertResult.Conflict}
     * otherwise. This also holds between two jobs of the same batch.
     */
    List<InsertResult> insert(List<NewJob> jobs);

    /**
     * Claims up to {@code limit} unowned SCHEDULED jobs due at or before {@code dueBefore}, earliest first: sets
     * owner and increments the fencing token. Returns the claimed jobs as they are after the claim.
     */
    List<Job> claimDue(ClaimDueParams params);

    /**
     * SCHEDULED (owner, token) -> RUNNING, attempts + 1. Returns, per request, the started job, or empty if the
     * job was cancelled, rescheduled, re-claimed or otherwise not in the expected state.
     */
    List<Optional<Job>> start(List<StartRun> runs);

    /** RUNNING (owner, token) -> the run's outcome. Returns, per request, false if the claim was lost. */
    List<Boolean> finish(List<FinishRun> runs);

    /** SCHEDULED -> CANCELLED, whoever owns it. */
    List<ChangeResult> cancel(List<CancelRequest> requests);

    /** A SCHEDULED job gets a new due time and owner (null = unowned); its token increments. */
    List<ChangeResult> reschedule(List<RescheduleRequest> requests);

    /**
     * FAILED -> SCHEDULED ({@link dev.hourglass.core.model.Transition#RETRY_BY_HAND}), by hand: the job becomes
     * unowned and due at the request's {@code dueAt}, its {@code max_attempts} becomes {@code attempts + freshAttempts}
     * (attempt numbers continue), its token increments, its finish time is cleared, its last error is kept, and who
     * retried it and when are recorded. A compare-and-set on state FAILED: {@link ChangeResult.WrongState} for a job
     * in any other state, {@link ChangeResult.NotFound} for a job that does not exist or is another tenant's. The
     * horizon loader finds the job like any unowned SCHEDULED one.
     */
    List<ChangeResult> retryFailed(List<RetryRequest> requests);

    /**
     * Records that {@code node} is alive until {@code leaseUntil}. Returns true when the lease was renewed, false
     * when the store refused because another node is rescuing this node's claims at this moment (it found the lease
     * run out): the caller must then not count its lease as renewed. Never waits for that other node.
     *
     * <p>Why it may refuse: a rescuer decides that a lease ran out and hands the claims back in one transaction; a
     * renewal that committed in between would let the node start a job the rescuer is about to hand to another node
     * (two runs while the owner lives). Stores shared by several nodes therefore exclude a node's renewal and its
     * rescue from each other; a store used by one process never refuses.
     */
    boolean heartbeat(HeartbeatParams params);

    /**
     * Hands back every claim of {@code node} (graceful shutdown): its SCHEDULED jobs become unowned; its RUNNING
     * jobs go back to SCHEDULED (attempt kept, due now). Removes the node's heartbeat. Returns the jobs released.
     */
    int release(ReleaseParams params);

    /**
     * Rescues the claims of every other node whose lease expired before {@code now} (or of every other node, with
     * {@link RescueParams#allOtherNodes}, for an exclusive store at start): their SCHEDULED jobs become unowned;
     * their RUNNING jobs go back to SCHEDULED due now, or to FAILED when attempts are exhausted. Returns the number
     * of jobs rescued.
     *
     * <p>On a store shared by several nodes, a rescue never waits for another node: it leaves out a node that is
     * renewing its lease at this moment (see {@link #heartbeat}), and the jobs another transaction holds locked (a
     * later rescue takes them). A lease renewed after the rescue began but before it reached that node keeps the
     * node's claims: the lease is checked again once the node's renewals are excluded.
     *
     * <p>A store that holds presence marks ({@link JobStore#holdPresence}) also rescues, whatever its lease, a node
     * whose mark was taken while the store's server ran as it runs now and is gone: the node's process died. A mark
     * taken before the server restarted says nothing (every session ended then) and is left to the lease.
     */
    int rescueExpired(RescueParams params);

    /**
     * Counts what a node's share of the near-term claims is made of ({@link ClaimShare}). Only asked of a store
     * shared by several nodes (not {@link JobStore#exclusive}); others throw {@link UnsupportedOperationException}.
     */
    default ClaimShare claimShare(ClaimShareParams params) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " is not shared by several nodes");
    }

    /**
     * Hands back some of a node's SCHEDULED claims ({@link YieldParams}): each becomes unowned, its token
     * incremented, so that the node's timer can no longer start it and another node may claim it. A compare-and-set
     * on state SCHEDULED and the owner: a job cancelled, rescheduled or started meanwhile is left as it is. Returns
     * the jobs handed back. Only asked of a store shared by several nodes; others throw
     * {@link UnsupportedOperationException}.
     */
    default List<JobId> yieldClaims(YieldParams params) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " is not shared by several nodes");
    }

    /**
     * Writes target states, each a compare-and-set: a state of version 1 is inserted if the target has none; a later
     * version replaces the one just before it. Returns, per state, whether it was written (false: another node wrote
     * this target's state first; read it again). Stores that keep no target states throw
     * {@link UnsupportedOperationException}.
     */
    default List<Boolean> putTargetStates(List<TargetState> states) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no target states");
    }

    /** Deletes up to {@code limit} terminal jobs that finished before {@code finishedBefore}. */
    int pruneFinished(PruneParams params);
}
