package dev.hourglass.store.postgres;

import static dev.hourglass.store.jdbc.EpochMillis.millis;
import static dev.hourglass.store.jdbc.EpochMillis.millisOrNull;
import static dev.hourglass.store.postgres.JobRows.COLUMNS;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.model.Transition;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.ClaimShare;
import dev.hourglass.core.store.ClaimShareParams;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.PruneParams;
import dev.hourglass.core.store.ReleaseParams;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.RescueParams;
import dev.hourglass.core.store.RetryRequest;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.store.YieldParams;
import dev.hourglass.store.jdbc.AttemptRows;
import dev.hourglass.store.jdbc.StoreTxRules;
import dev.hourglass.store.jdbc.StoreValues;
import dev.hourglass.store.jdbc.TargetStateRows;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The writes of one PostgreSQL transaction, on the connection {@link PostgresJobStore#write} borrowed for it. Valid
 * only inside that call.
 *
 * <p><b>Batch-first.</b> Each method is one statement per batch, not per job: the batch travels as parallel arrays
 * ({@code unnest(?::uuid[], ?::text[], ...)}) joined to {@code jobs} by primary key, and the statement's RETURNING
 * says which rows changed. The SQL text does not depend on the batch size, so the driver prepares each statement
 * once per connection. A batch that names the same job twice is cut into segments in which every job appears once
 * ({@link #segments}), run in order: an {@code UPDATE ... FROM} would otherwise apply only one of the two, chosen
 * by the plan, where the contract wants the effect of running the elements one after another.
 *
 * <p><b>Guards.</b> Every update is a compare-and-set whose expected state comes from {@link Transition#from()} (or,
 * for the changes that keep the state, from the {@link JobState} constant), spliced into the SQL text from the
 * enum's {@code name()} so that the planner can match the partial indexes, in generic plans too. The fencing token
 * increments on every write that takes a claim away from its holder (claim, cancel, reschedule, release, rescue); a
 * start and a finish keep it.
 *
 * <p><b>Concurrency.</b> Several nodes write at once. Claims and prunes pick their rows with
 * {@code FOR UPDATE SKIP LOCKED}, so they neither double-claim nor queue behind each other; the compare-and-sets
 * run under READ COMMITTED, where an UPDATE that meets a row changed by a concurrent commit re-checks its WHERE
 * clause on the new version, so a stale guard updates nothing.
 */
final class PostgresTx implements StoreTx {

    private static final String SCHEDULED = JobState.SCHEDULED.name();
    private static final String TERMINAL = Arrays.stream(JobState.values())
            .filter(JobState::isTerminal).map(s -> "'" + s.name() + "'").collect(Collectors.joining(", "));

    static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM jobs WHERE id = ?";

    static final String FIND_BY_IDS = "SELECT " + COLUMNS + " FROM jobs WHERE id = ANY (?::uuid[])";

    static final String LAST_JOB_ID = "SELECT id FROM ((SELECT id FROM jobs ORDER BY id DESC LIMIT 1) "
            + "UNION ALL (SELECT job_id FROM id_high_water)) AS ids ORDER BY id DESC LIMIT 1";

    /**
     * The whole batch in one statement. A job whose (tenant, key) is taken is skipped by ON CONFLICT; RETURNING
     * names the ones inserted. An id that exists already is a unique violation (a bug upstream): the transaction
     * fails.
     */
    static final String INSERT = insertInto("jobs");

    /** The earlier jobs of the idempotency keys an insert skipped. */
    static final String FIND_BY_IDEMPOTENCY_KEYS = findByIdempotencyKeysIn("jobs");

    /** {@link #INSERT} into {@code jobsTable}, which a caller's connection needs schema-qualified. */
    static String insertInto(String jobsTable) {
        return "INSERT INTO " + jobsTable + " (id, tenant, handler, target, payload, state, due_at, created_at, "
                + "updated_at, attempts, max_attempts, backoff_initial_ms, backoff_max_ms, timeout_ms, idem_key, "
                + "request_hash, owner, token, trace_parent) "
                + "SELECT r.id, r.tenant, r.handler, r.target, r.payload, '" + SCHEDULED + "', r.due_at, r.created_at, "
                + "r.created_at, 0, r.max_attempts, r.backoff_initial_ms, r.backoff_max_ms, r.timeout_ms, r.idem_key, "
                + "r.request_hash, r.owner, 0, r.trace_parent "
                + "FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::bytea[], ?::bigint[], ?::bigint[], "
                + "?::integer[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bytea[], ?::text[], ?::text[]) "
                + "AS r(id, tenant, handler, target, payload, due_at, created_at, max_attempts, backoff_initial_ms, "
                + "backoff_max_ms, timeout_ms, idem_key, request_hash, owner, trace_parent) "
                + "ON CONFLICT (tenant, idem_key) WHERE idem_key IS NOT NULL DO NOTHING "
                + "RETURNING id";
    }

    static String findByIdempotencyKeysIn(String jobsTable) {
        return "SELECT " + JobRows.columnsOf("j") + " FROM " + jobsTable + " AS j "
                + "JOIN unnest(?::text[], ?::text[]) AS k(tenant, idem_key) "
                + "ON j.tenant = k.tenant AND j.idem_key = k.idem_key";
    }

    /**
     * The due-soon scan: the inner SELECT repeats the predicate of the partial index {@code jobs_claimable}
     * literally, walks it in due order and stops after LIMIT rows, locking them and skipping rows another node's
     * claim has locked. RETURNING does not keep that order, so {@link #claimDue} sorts.
     *
     * <p>{@code id = ANY (ARRAY(...))} rather than {@code id IN (...)}: the inner SELECT becomes an init plan whose
     * array drives primary-key lookups. With {@code IN}, a generic plan (the driver switches to server-side
     * prepared statements after a few executions) estimates {@code LIMIT $n} as a tenth of the claimable rows and
     * may hash-join them against a sequential scan of the whole table.
     */
    static final String CLAIM = "UPDATE jobs SET owner = ?, token = token + 1, updated_at = ? "
            + "WHERE id = ANY (ARRAY(SELECT id FROM jobs WHERE state = '" + Transition.START.from().name() + "' "
            + "AND owner IS NULL AND due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED)) "
            + "RETURNING " + COLUMNS;

    static final String START = "UPDATE jobs AS j SET state = '" + Transition.START.to().name() + "', "
            + "attempts = j.attempts + 1, updated_at = r.now "
            + "FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::bigint[]) AS r(id, owner, token, now) "
            + "WHERE j.id = r.id AND j.state = '" + Transition.START.from().name() + "' "
            + "AND j.owner = r.owner AND j.token = r.token "
            + "RETURNING " + JobRows.columnsOf("j");

    /**
     * Each run brings its own expected and new state (from {@link Transition#finishingIn}), and its attempt for the
     * delivery history (null columns when it records none). A successful attempt, always the job's last, is kept in
     * the job's row ({@code last_*}); any other is a row of job_attempts, inserted in the same statement, for the runs
     * that won their compare-and-set only, with the tenant the update returned.
     */
    static final String FINISH = "WITH r AS (SELECT * FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::text[], "
            + "?::text[], ?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], "
            + "?::integer[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::integer[], ?::text[], ?::text[], "
            + "?::bigint[]) AS r(id, owner, token, from_state, to_state, due_at, next_owner, now, finished_at, error, "
            + "attempt, node, started_at, ended_at, outcome, status, target, detail, duration_us)), "
            + "done AS (UPDATE jobs AS j SET state = r.to_state, due_at = COALESCE(r.due_at, j.due_at), "
            + "owner = r.next_owner, updated_at = r.now, finished_at = r.finished_at, "
            + "last_error = COALESCE(r.error, j.last_error), last_outcome = COALESCE(r.outcome, j.last_outcome), "
            + "last_target = COALESCE(r.target, j.last_target), last_node = COALESCE(r.node, j.last_node), "
            + "last_started_at = COALESCE(r.started_at, j.last_started_at), "
            + "last_status = CASE WHEN r.outcome IS NULL THEN j.last_status ELSE r.status END, "
            + "last_duration_us = COALESCE(r.duration_us, j.last_duration_us) "
            + "FROM r WHERE j.id = r.id AND j.state = r.from_state AND j.owner = r.owner AND j.token = r.token "
            + "RETURNING j.id, j.tenant), "
            + "history AS (INSERT INTO job_attempts (job_id, started_at, finished_at, duration_us, attempt, status, "
            + "tenant, node, outcome, target, detail) "
            + "SELECT r.id, r.started_at, r.ended_at, r.duration_us, r.attempt, r.status, done.tenant, r.node, "
            + "r.outcome, r.target, r.detail FROM done JOIN r ON r.id = done.id "
            + "WHERE r.attempt IS NOT NULL AND r.outcome <> 'success') "
            + "SELECT id FROM done";

    /**
     * Every node's attempts ended since a time, in end order: the rows of job_attempts through their index on the end,
     * and the successes kept in the jobs' rows through {@code jobs_finished}, merged.
     */
    static final String ATTEMPTS_SINCE = "SELECT * FROM ("
            + "SELECT attempt, node, started_at, finished_at, outcome, status, target, detail, duration_us, job_id, "
            + "tenant FROM job_attempts WHERE finished_at >= ? "
            + "UNION ALL SELECT attempts, last_node, last_started_at, finished_at, last_outcome, last_status, "
            + "last_target, NULL, last_duration_us, id, tenant FROM jobs "
            + "WHERE finished_at IS NOT NULL AND finished_at >= ? AND last_outcome = 'success') AS a "
            + "ORDER BY finished_at, job_id LIMIT ?";

    /** A job's successful last attempt, from its row, in the columns of {@link #ATTEMPTS}; none unless it succeeded. */
    static final String SUCCESS_OF_JOB = "SELECT attempts, last_node, last_started_at, finished_at, last_outcome, "
            + "last_status, last_target, NULL::text, last_duration_us FROM jobs WHERE id = ? "
            + "AND last_outcome = 'success' AND finished_at IS NOT NULL AND attempts > ?";

    static final String ATTEMPTS = "SELECT attempt, node, started_at, finished_at, outcome, status, target, detail, "
            + "duration_us FROM job_attempts WHERE job_id = ? AND attempt > ? ORDER BY attempt LIMIT ?";

    static final String CANCEL = "UPDATE jobs AS j SET state = '" + Transition.CANCEL.to().name() + "', "
            + "owner = NULL, token = j.token + 1, updated_at = r.now, finished_at = r.now "
            + "FROM unnest(?::uuid[], ?::text[], ?::bigint[]) AS r(id, tenant, now) "
            + "WHERE j.id = r.id AND j.state = '" + Transition.CANCEL.from().name() + "' "
            + "AND (r.tenant IS NULL OR j.tenant = r.tenant) "
            + "RETURNING " + JobRows.columnsOf("j");

    static final String RESCHEDULE = "UPDATE jobs AS j SET due_at = r.due_at, owner = r.owner, "
            + "token = j.token + 1, updated_at = r.now "
            + "FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::text[], ?::bigint[]) "
            + "AS r(id, tenant, due_at, owner, now) "
            + "WHERE j.id = r.id AND j.state = '" + SCHEDULED + "' AND (r.tenant IS NULL OR j.tenant = r.tenant) "
            + "RETURNING " + JobRows.columnsOf("j");

    /**
     * A retry by hand: unowned, due when asked, the used attempts kept (numbers continue) and fresh ones added; the
     * last error stays until an attempt replaces it.
     */
    static final String RETRY_FAILED = "UPDATE jobs AS j SET state = '" + Transition.RETRY_BY_HAND.to().name() + "', "
            + "due_at = r.due_at, owner = NULL, finished_at = NULL, token = j.token + 1, "
            + "max_attempts = j.attempts + r.fresh_attempts, retried_at = r.now, retried_by = r.retried_by, "
            + "updated_at = r.now "
            + "FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::integer[], ?::text[], ?::bigint[]) "
            + "AS r(id, tenant, due_at, fresh_attempts, retried_by, now) "
            + "WHERE j.id = r.id AND j.state = '" + Transition.RETRY_BY_HAND.from().name() + "' "
            + "AND (r.tenant IS NULL OR j.tenant = r.tenant) "
            + "RETURNING " + JobRows.columnsOf("j");

    /**
     * Renews the lease and records when, and the server epoch of the node's presence mark (null when the node holds
     * none: a rescue then leaves it to its lease). Parameters: node, lease_until, renewed_at, presence epoch.
     */
    static final String HEARTBEAT = "INSERT INTO nodes (node, lease_until, renewed_at, presence_epoch) "
            + "VALUES (?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET lease_until = excluded.lease_until, "
            + "renewed_at = excluded.renewed_at, presence_epoch = excluded.presence_epoch";

    /** Records the SCHEDULED claims a node holds ({@link #claimShare}). Parameters: claims, node. */
    static final String RECORD_CLAIMS = "UPDATE nodes SET claims = ? WHERE node = ?";

    /**
     * Takes a yield off a node's recorded claims, so that the other nodes size their share by what it holds now,
     * not by what it held at its last count. Parameters: yielded, node.
     */
    static final String YIELDED_CLAIMS = "UPDATE nodes SET claims = greatest(claims - ?, 0) WHERE node = ?";

    /**
     * The live nodes, the claims they recorded, and the unowned SCHEDULED jobs due by a time (the partial index
     * jobs_claimable). Parameters: due before, now.
     */
    static final String CLAIM_SHARE = "SELECT count(*), coalesce(sum(claims), 0), "
            + "(SELECT count(*) FROM jobs WHERE state = '" + SCHEDULED + "' AND owner IS NULL AND due_at <= ?) "
            + "FROM nodes WHERE lease_until > ?";

    /**
     * Hands back {@code count} of a node's SCHEDULED claims due after a time, the latest due first: the node keeps
     * the jobs it is closest to firing, and its timer the entries it will hand on soonest. The inner SELECT
     * locks nothing; the UPDATE checks owner and state again on each row's latest version, after any transaction
     * that held it, so a job cancelled or rescued meanwhile is left as it is. Parameters: now, node, keep through,
     * count, node.
     */
    static final String YIELD = "UPDATE jobs AS j SET owner = NULL, token = j.token + 1, updated_at = ? "
            + "WHERE j.id = ANY (ARRAY(SELECT id FROM jobs WHERE owner = ? AND state = '" + SCHEDULED + "' "
            + "AND due_at > ? ORDER BY due_at DESC LIMIT ?)) "
            + "AND j.owner = ? AND j.state = '" + SCHEDULED + "' RETURNING j.id, j.due_at";

    /** The running server's life, in microseconds since the epoch: its start time, new at every restart. */
    static final String SERVER_EPOCH = "(extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint";

    /**
     * The key of node {@code %s}'s presence lock ({@link PresenceKeeper#LOCK} computes the same from the store's
     * schema, which is this connection's {@code current_schema()}).
     */
    static String presenceKey(String node) {
        return "hashtextextended('hourglass presence ' || current_schema() || ' ' || " + node + ", 0)";
    }

    /**
     * True when the node of nodes row {@code n} died: it recorded a presence mark taken in the server's current
     * life ({@link PresenceKeeper}), has not renewed its lease since the parameter ({@link RescueParams#silentSince}),
     * and the mark's lock is free, since the session that held it ended. The lock is
     * then taken by this transaction, to its end, so that the node cannot take it back while its claims are handed
     * back (a node that is alive after all, whose session alone broke, waits for this rescue to commit). A mark of an
     * earlier life says nothing: a server restart ended every session, and live nodes have not yet taken theirs
     * back. CASE tries the lock only after the epoch matched.
     */
    private static final String PRESENCE_GONE = "(CASE WHEN n.presence_epoch = " + SERVER_EPOCH
            + " AND n.renewed_at < ?::bigint THEN "
            + "pg_try_advisory_xact_lock(" + presenceKey("n.node") + ") ELSE false END)";

    /**
     * The advisory lock that keeps a node's lease renewal and a rescue of its claims apart (see {@link #heartbeat}
     * and {@link #rescueExpired}): a transaction-level lock keyed by schema and node, so two deployments in two
     * schemas of one database do not meet, freed by the COMMIT or ROLLBACK. Only ever <i>tried</i>
     * ({@code pg_try_advisory_xact_lock}), never waited for, so it cannot take part in a deadlock or make a node's
     * single writer wait for a node that is stuck. Two node names whose hashes collide only make one renewal or
     * rescue wait a round. {@code %s} is the SQL expression of the node name.
     */
    private static String tryNodeLock(String node) {
        return "pg_try_advisory_xact_lock(hashtextextended('hourglass node ' || current_schema() || ' ' || "
                + node + ", 0))";
    }

    static final String TRY_LOCK_NODE = "SELECT " + tryNodeLock("?::text");

    /** The given nodes whose lock this transaction got (each tried once, in the order given; none waits). */
    static final String TRY_LOCK_NODES = "SELECT o.node FROM unnest(?::text[]) AS o(node) WHERE "
            + tryNodeLock("o.node");

    /**
     * Of the given nodes, those whose lease ran out by now or that died ({@link #PRESENCE_GONE}), or all of them
     * with {@code allOtherNodes}. Read after their locks were taken: a statement under READ COMMITTED sees every
     * commit made before it began, so a renewal that committed while the rescue was looking elsewhere is seen here.
     * Parameters: nodes, allOtherNodes, now, silentSince.
     */
    static final String STILL_EXPIRED = "SELECT o.node FROM unnest(?::text[]) AS o(node) WHERE ?::boolean "
            + "OR NOT EXISTS (SELECT 1 FROM nodes AS n WHERE n.node = o.node AND n.lease_until >= ?::bigint) "
            + "OR EXISTS (SELECT 1 FROM nodes AS n WHERE n.node = o.node AND " + PRESENCE_GONE + ")";

    /**
     * The candidates of a rescue: every owner of a job except the rescuer and, unless {@code allOtherNodes} (2nd
     * parameter), except the nodes with a live lease (lease_until &gt;= now, inclusive) that did not die
     * ({@link #PRESENCE_GONE}); and every nodes row but the rescuer's whose lease ran out or whose node died (or any,
     * with {@code allOtherNodes}), owning jobs or not, so that it gets deleted. An owner without a nodes row counts
     * as expired: it cannot renew. The distinct owners come from a loose index
     * scan of {@code jobs_owned} (a recursive CTE: one index seek per owner, and there are as many owners as
     * nodes), where {@code SELECT DISTINCT owner} would read the index entry of every claimed job. Parameters:
     * rescuer, allOtherNodes, now, silentSince, rescuer, allOtherNodes, now, silentSince.
     */
    static final String EXPIRED_OWNERS = "WITH RECURSIVE owners(owner) AS ("
            + "(SELECT owner FROM jobs WHERE owner IS NOT NULL ORDER BY owner LIMIT 1) "
            + "UNION ALL "
            + "SELECT (SELECT j.owner FROM jobs AS j WHERE j.owner > o.owner ORDER BY j.owner LIMIT 1) "
            + "FROM owners AS o WHERE o.owner IS NOT NULL) "
            + "SELECT o.owner FROM owners AS o WHERE o.owner IS NOT NULL AND o.owner IS DISTINCT FROM ?::text "
            + "AND (?::boolean OR NOT EXISTS (SELECT 1 FROM nodes AS n WHERE n.node = o.owner "
            + "AND n.lease_until >= ?::bigint) "
            + "OR EXISTS (SELECT 1 FROM nodes AS n WHERE n.node = o.owner AND " + PRESENCE_GONE + ")) "
            + "UNION "
            + "SELECT n.node FROM nodes AS n WHERE n.node IS DISTINCT FROM ?::text "
            + "AND (?::boolean OR n.lease_until < ?::bigint OR " + PRESENCE_GONE + ")";

    /**
     * Hands back every claim of the given owners, in one statement: a SCHEDULED job becomes unowned; a RUNNING job
     * goes back to SCHEDULED due now with its attempt counted, or, when {@code fail_exhausted} and its attempts are
     * used up, to FAILED. Either way its token increments, so the old owner's late start or finish is refused.
     * Parameters: fail_exhausted, now, error (null keeps the last error), owners, owners again (the picking
     * subquery takes them as its own parameter, not from {@code p}, so that it runs once, as an init plan).
     *
     * <p>The rows are picked and locked before the UPDATE reads them, so it sees their latest committed version.
     * {@link #HAND_BACK} (a rescue) picks them {@code FOR UPDATE SKIP LOCKED}: a row that another transaction holds
     * (typically the owner's last transaction, cut off by the network before its COMMIT, which holds its locks
     * until the server's idle-transaction timeout) is left for a later rescue instead of stalling this node's only
     * writer. {@link #RELEASE} (a node handing back its own claims as it stops) waits for such a row instead, at
     * most the lock timeout: no later round of the stopping node would take it, and left alone it would fire only
     * after the lease ran out.
     */
    static final String HAND_BACK = handBackSql(" SKIP LOCKED");

    /** {@link #HAND_BACK} that waits for locked rows (see there). */
    static final String RELEASE = handBackSql("");

    private static String handBackSql(String lockWait) {
        return "UPDATE jobs AS j SET "
                + "state = CASE WHEN j.state = '" + Transition.RESCUE.from().name() + "' THEN "
                + "(CASE WHEN p.fail_exhausted AND j.attempts >= j.max_attempts THEN '" + Transition.FAIL.to().name()
                + "' ELSE '" + Transition.RESCUE.to().name() + "' END) ELSE j.state END, "
                + "due_at = CASE WHEN j.state = '" + Transition.RESCUE.from().name() + "' "
                + "AND NOT (p.fail_exhausted AND j.attempts >= j.max_attempts) THEN p.now ELSE j.due_at END, "
                + "finished_at = CASE WHEN j.state = '" + Transition.RESCUE.from().name() + "' "
                + "AND p.fail_exhausted AND j.attempts >= j.max_attempts THEN p.now ELSE j.finished_at END, "
                + "last_error = CASE WHEN j.state = '" + Transition.RESCUE.from().name() + "' "
                + "THEN COALESCE(p.error, j.last_error) ELSE j.last_error END, "
                + "owner = NULL, token = j.token + 1, updated_at = p.now "
                + "FROM (SELECT ?::boolean AS fail_exhausted, ?::bigint AS now, ?::text AS error, "
                + "?::text[] AS owners) AS p "
                + "WHERE j.id = ANY (ARRAY(SELECT h.id FROM jobs AS h WHERE h.owner = ANY (?::text[]) "
                + "AND h.state IN ('" + SCHEDULED + "', '" + Transition.RESCUE.from().name() + "') "
                + "FOR UPDATE" + lockWait + ")) "
                + "AND j.owner = ANY (p.owners) AND j.state IN ('" + SCHEDULED + "', '"
                + Transition.RESCUE.from().name() + "')";
    }

    /** The nodes rows of the given nodes; only rows this transaction holds the node lock of. */
    static final String DELETE_NODES = "DELETE FROM nodes WHERE node = ANY (?::text[])";

    /**
     * Oldest finished first, through {@code jobs_finished} (the state test guards against a stray finished_at),
     * skipping rows another node is pruning, deleted by primary key (ANY (ARRAY(...)), as in {@link #CLAIM}); and, in the same statement, remembers the largest id deleted so that
     * {@code lastJobId()} still seeds the id generator past it. The deleted jobs' attempts go with them: the history follows
     * the job's retention.
     */
    static final String PRUNE = "WITH doomed AS ("
            + "DELETE FROM jobs WHERE id = ANY (ARRAY(SELECT id FROM jobs WHERE finished_at IS NOT NULL "
            + "AND finished_at < ? AND state IN (" + TERMINAL + ") ORDER BY finished_at LIMIT ? "
            + "FOR UPDATE SKIP LOCKED)) RETURNING id), "
            + "history AS (DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM doomed)), "
            + "raised AS (INSERT INTO id_high_water (id, job_id) "
            + "SELECT 1, d.id FROM doomed AS d ORDER BY d.id DESC LIMIT 1 "
            + "ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id WHERE excluded.job_id > id_high_water.job_id) "
            + "SELECT count(*) FROM doomed";

    private final Connection connection;
    private final String storeName;
    private final String insertSql;
    private final String findByKeysSql;
    /** Where handed-back claims are announced; null in a caller's transaction (it only inserts). */
    private final NewJobChannel channel;
    /** The server epoch of each node's presence mark held by this process (null: none held), for heartbeats. */
    private final Function<String, Long> presenceEpochs;
    private boolean active = true;

    /** A transaction of the store, on its own connection, whose search path leads to the store's tables. */
    PostgresTx(Connection connection, String storeName, NewJobChannel channel, Function<String, Long> presenceEpochs) {
        this.connection = connection;
        this.storeName = storeName;
        this.insertSql = INSERT;
        this.findByKeysSql = FIND_BY_IDEMPOTENCY_KEYS;
        this.channel = channel;
        this.presenceEpochs = presenceEpochs;
    }

    /**
     * A caller's transaction, for {@link #insert} only: its connection's search path is the caller's, so the
     * statements name the store's table in full ({@code "schema".jobs}).
     */
    PostgresTx(Connection connection, String storeName, String qualifiedJobsTable) {
        this.connection = connection;
        this.storeName = storeName;
        this.insertSql = insertInto(qualifiedJobsTable);
        this.findByKeysSql = findByIdempotencyKeysIn(qualifiedJobsTable);
        this.channel = null;
        this.presenceEpochs = node -> null;
    }

    /** Called when the transaction ends: any later use is a bug in the caller. */
    void end() {
        active = false;
    }

    private PreparedStatement statement(String sql) throws SQLException {
        if (!active) {
            throw new IllegalStateException("this StoreTx belongs to a write() that has returned");
        }
        // The driver keeps server-side prepared statements per connection, keyed by the SQL text.
        return connection.prepareStatement(sql);
    }

    private StoreException failed(String what, SQLException e) {
        return PostgresJobStore.storeException(storeName, what, e);
    }

    // ---------------------------------------------------------------------------------------------------------
    // array parameters

    private Array uuids(List<JobId> ids) throws SQLException {
        UUID[] values = new UUID[ids.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = JobRows.uuid(ids.get(i));
        }
        return connection.createArrayOf("uuid", values);
    }

    private Array texts(List<String> values) throws SQLException {
        return connection.createArrayOf("text", values.toArray(new String[0]));
    }

    private Array bigints(List<Long> values) throws SQLException {
        return connection.createArrayOf("int8", values.toArray(new Long[0]));
    }

    private Array integers(List<Integer> values) throws SQLException {
        return connection.createArrayOf("int4", values.toArray(new Integer[0]));
    }

    private Array byteas(List<byte[]> values) throws SQLException {
        return connection.createArrayOf("bytea", values.toArray(new byte[0][]));
    }

    private static <T, V> List<V> map(List<T> items, Function<T, V> field) {
        List<V> values = new ArrayList<>(items.size());
        for (T item : items) {
            values.add(field.apply(item));
        }
        return values;
    }

    /**
     * Cuts {@code items} into consecutive segments in which no job id appears twice (almost always one segment:
     * the whole batch). Running the segments in order has the effect of running the elements one by one.
     */
    static <T> List<List<T>> segments(List<T> items, Function<T, JobId> id) {
        List<List<T>> segments = new ArrayList<>(1);
        Set<JobId> seen = new HashSet<>();
        int start = 0;
        for (int i = 0; i < items.size(); i++) {
            if (!seen.add(id.apply(items.get(i)))) {
                segments.add(items.subList(start, i));
                seen.clear();
                seen.add(id.apply(items.get(i)));
                start = i;
            }
        }
        if (start < items.size()) {
            segments.add(items.subList(start, items.size()));
        }
        return segments;
    }

    // ---------------------------------------------------------------------------------------------------------

    private record IdempotencyKey(String tenant, String key) {}

    @Override
    public List<InsertResult> insert(List<NewJob> jobs) {
        if (jobs.isEmpty()) {
            return List.of();
        }
        StoreValues.checkEach(jobs, StoreValues::insert);
        try {
            // Within the batch, only the first job of each (tenant, key) is sent; the later ones are resolved
            // against it below, exactly as if the batch had been inserted one job at a time.
            Map<IdempotencyKey, NewJob> firstByKey = new HashMap<>();
            List<NewJob> sent = new ArrayList<>(jobs.size());
            for (NewJob job : jobs) {
                if (job.idempotencyKey() == null
                        || firstByKey.putIfAbsent(new IdempotencyKey(job.tenant(), job.idempotencyKey()), job) == null) {
                    sent.add(job);
                }
            }
            Set<JobId> inserted = new HashSet<>();
            try (PreparedStatement insert = statement(insertSql)) {
                insert.setArray(1, uuids(map(sent, NewJob::id)));
                insert.setArray(2, texts(map(sent, NewJob::tenant)));
                insert.setArray(3, texts(map(sent, NewJob::handler)));
                insert.setArray(4, texts(map(sent, NewJob::target)));
                insert.setArray(5, byteas(map(sent, NewJob::payload)));
                insert.setArray(6, bigints(map(sent, j -> millis(j.dueAt()))));
                insert.setArray(7, bigints(map(sent, j -> millis(j.createdAt()))));
                insert.setArray(8, integers(map(sent, NewJob::maxAttempts)));
                insert.setArray(9, bigints(map(sent, j -> j.backoff().initial().toMillis())));
                insert.setArray(10, bigints(map(sent, j -> j.backoff().max().toMillis())));
                insert.setArray(11, bigints(map(sent, j -> millisOrNull(j.timeout()))));
                insert.setArray(12, texts(map(sent, NewJob::idempotencyKey)));
                insert.setArray(13, byteas(map(sent, NewJob::requestHash)));
                insert.setArray(14, texts(map(sent, NewJob::owner)));
                insert.setArray(15, texts(map(sent, j -> j.traceParent() == null ? null : j.traceParent().header())));
                try (ResultSet rs = insert.executeQuery()) {
                    while (rs.next()) {
                        inserted.add(JobRows.jobId(rs.getObject(1, UUID.class)));
                    }
                }
            }

            // The earlier job of every key that was not inserted here: in the table (one query for all of them)
            // or earlier in this batch.
            Map<IdempotencyKey, Job> earlier = new HashMap<>();
            List<NewJob> skipped = new ArrayList<>();
            for (NewJob job : sent) {
                if (inserted.contains(job.id())) {
                    if (job.idempotencyKey() != null) {
                        earlier.put(new IdempotencyKey(job.tenant(), job.idempotencyKey()), job.toJob());
                    }
                } else {
                    skipped.add(job);
                }
            }
            if (!skipped.isEmpty()) {
                try (PreparedStatement find = statement(findByKeysSql)) {
                    find.setArray(1, texts(map(skipped, NewJob::tenant)));
                    find.setArray(2, texts(map(skipped, NewJob::idempotencyKey)));
                    for (Job job : JobRows.query(find)) {
                        earlier.put(new IdempotencyKey(job.tenant(), job.idempotencyKey()), job);
                    }
                }
            }

            List<InsertResult> results = new ArrayList<>(jobs.size());
            for (NewJob job : jobs) {
                if (inserted.contains(job.id()) && firstByKeyIs(firstByKey, job)) {
                    results.add(new InsertResult.Created(job.toJob()));
                    continue;
                }
                Job existing = job.idempotencyKey() == null ? null
                        : earlier.get(new IdempotencyKey(job.tenant(), job.idempotencyKey()));
                results.add(StoreTxRules.notInserted("PostgreSQL store " + storeName, job, existing));
            }
            return results;
        } catch (SQLException e) {
            throw failed("insert of " + jobs.size() + " jobs", e);
        }
    }

    /** True unless {@code job} is a later job of the batch with the key of an earlier one (which was the one sent). */
    private static boolean firstByKeyIs(Map<IdempotencyKey, NewJob> firstByKey, NewJob job) {
        return job.idempotencyKey() == null
                || firstByKey.get(new IdempotencyKey(job.tenant(), job.idempotencyKey())) == job;
    }

    @Override
    public List<Job> claimDue(ClaimDueParams params) {
        String owner = params.owner();
        Instant dueBefore = params.dueBefore();
        int limit = params.limit();
        Instant now = params.now();
        StoreValues.claimDue(params);
        try (PreparedStatement claim = statement(CLAIM)) {
            claim.setString(1, owner);
            claim.setLong(2, millis(now));
            claim.setLong(3, millis(dueBefore));
            claim.setInt(4, limit);
            List<Job> claimed = JobRows.query(claim);
            claimed.sort(StoreTxRules.CLAIM_ORDER);
            return claimed;
        } catch (SQLException e) {
            throw failed("claim of due jobs", e);
        }
    }

    @Override
    public List<Optional<Job>> start(List<StartRun> runs) {
        StoreValues.checkEach(runs, StoreValues::start);
        List<Optional<Job>> results = new ArrayList<>(runs.size());
        try {
            for (List<StartRun> segment : segments(runs, StartRun::id)) {
                Map<JobId, Job> started = new HashMap<>();
                try (PreparedStatement start = statement(START)) {
                    start.setArray(1, uuids(map(segment, StartRun::id)));
                    start.setArray(2, texts(map(segment, StartRun::owner)));
                    start.setArray(3, bigints(map(segment, StartRun::fencingToken)));
                    start.setArray(4, bigints(map(segment, r -> millis(r.now()))));
                    for (Job job : JobRows.query(start)) {
                        started.put(job.id(), job);
                    }
                }
                for (StartRun run : segment) {
                    results.add(Optional.ofNullable(started.get(run.id())));
                }
            }
            return results;
        } catch (SQLException e) {
            throw failed("start of " + runs.size() + " runs", e);
        }
    }

    @Override
    public List<Boolean> finish(List<FinishRun> runs) {
        if (runs.isEmpty()) {
            return List.of();
        }
        StoreTxRules.requireNextDueTimes(runs);
        StoreValues.checkEach(runs, StoreValues::finish);
        List<Boolean> results = new ArrayList<>(runs.size());
        try {
            for (List<FinishRun> segment : segments(runs, FinishRun::id)) {
                Set<JobId> finished = new HashSet<>();
                try (PreparedStatement finish = statement(FINISH)) {
                    finish.setArray(1, uuids(map(segment, FinishRun::id)));
                    finish.setArray(2, texts(map(segment, FinishRun::owner)));
                    finish.setArray(3, bigints(map(segment, FinishRun::fencingToken)));
                    finish.setArray(4, texts(map(segment, r -> Transition.finishingIn(r.to()).from().name())));
                    finish.setArray(5, texts(map(segment, r -> Transition.finishingIn(r.to()).to().name())));
                    finish.setArray(6, bigints(map(segment, r -> StoreTxRules.retry(r)
                            ? millisOrNull(r.dueAt()) : null)));
                    finish.setArray(7, texts(map(segment, r -> StoreTxRules.retry(r) ? r.nextOwner() : null)));
                    finish.setArray(8, bigints(map(segment, r -> millis(r.now()))));
                    finish.setArray(9, bigints(map(segment, r -> StoreTxRules.retry(r)
                            ? null : millisOrNull(r.now()))));
                    finish.setArray(10, texts(map(segment, r -> StoreValues.diagnostic(r.error()))));
                    finish.setArray(11, integers(map(segment, r -> r.attempt() == null ? null : r.attempt().attempt())));
                    finish.setArray(12, texts(map(segment, r -> r.attempt() == null ? null : r.attempt().node())));
                    finish.setArray(13, bigints(map(segment, r -> r.attempt() == null ? null
                            : millis(r.attempt().startedAt()))));
                    finish.setArray(14, bigints(map(segment, r -> r.attempt() == null ? null
                            : millis(r.attempt().finishedAt()))));
                    finish.setArray(15, texts(map(segment, r -> r.attempt() == null ? null
                            : r.attempt().outcome().label())));
                    finish.setArray(16, integers(map(segment, r -> r.attempt() == null || r.attempt().status() == 0
                            ? null : r.attempt().status())));
                    finish.setArray(17, texts(map(segment, r -> r.attempt() == null ? null : r.attempt().target())));
                    finish.setArray(18, texts(map(segment, r -> r.attempt() == null ? null
                            : StoreValues.diagnostic(r.attempt().detail()))));
                    finish.setArray(19, bigints(map(segment, r -> r.attempt() == null ? null
                            : AttemptRows.micros(r.attempt().duration()))));
                    try (ResultSet rs = finish.executeQuery()) {
                        while (rs.next()) {
                            finished.add(JobRows.jobId(rs.getObject(1, UUID.class)));
                        }
                    }
                }
                for (FinishRun run : segment) {
                    results.add(finished.contains(run.id()));
                }
            }
            return results;
        } catch (SQLException e) {
            throw failed("finish of " + runs.size() + " runs", e);
        }
    }

    @Override
    public List<Boolean> putTargetStates(List<TargetState> states) {
        List<Boolean> results = new ArrayList<>(states.size());
        try {
            for (TargetState state : states) {
                String sql = state.version() == 1 ? TargetStateRows.INSERT_FIRST : TargetStateRows.REPLACE_PREVIOUS;
                try (PreparedStatement write = statement(sql)) {
                    if (state.version() == 1) {
                        TargetStateRows.bindInsert(write, state);
                    } else {
                        TargetStateRows.bindReplace(write, state);
                    }
                    results.add(write.executeUpdate() == 1);
                }
            }
            return results;
        } catch (SQLException e) {
            throw failed("write of " + states.size() + " target states", e);
        }
    }

    @Override
    public List<ChangeResult> cancel(List<CancelRequest> requests) {
        StoreValues.checkEach(requests, StoreValues::cancel);
        List<ChangeResult> results = new ArrayList<>(requests.size());
        try {
            for (List<CancelRequest> segment : segments(requests, CancelRequest::id)) {
                Map<JobId, Job> changed;
                try (PreparedStatement cancel = statement(CANCEL)) {
                    cancel.setArray(1, uuids(map(segment, CancelRequest::id)));
                    cancel.setArray(2, texts(map(segment, CancelRequest::tenant)));
                    cancel.setArray(3, bigints(map(segment, r -> millis(r.now()))));
                    changed = byId(JobRows.query(cancel));
                }
                resolve(segment, CancelRequest::id, CancelRequest::tenant, changed, results);
            }
            return results;
        } catch (SQLException e) {
            throw failed("cancel of " + requests.size() + " jobs", e);
        }
    }

    @Override
    public List<ChangeResult> reschedule(List<RescheduleRequest> requests) {
        StoreValues.checkEach(requests, StoreValues::reschedule);
        List<ChangeResult> results = new ArrayList<>(requests.size());
        try {
            for (List<RescheduleRequest> segment : segments(requests, RescheduleRequest::id)) {
                Map<JobId, Job> changed;
                try (PreparedStatement reschedule = statement(RESCHEDULE)) {
                    reschedule.setArray(1, uuids(map(segment, RescheduleRequest::id)));
                    reschedule.setArray(2, texts(map(segment, RescheduleRequest::tenant)));
                    reschedule.setArray(3, bigints(map(segment, r -> millis(r.dueAt()))));
                    reschedule.setArray(4, texts(map(segment, RescheduleRequest::owner)));
                    reschedule.setArray(5, bigints(map(segment, r -> millis(r.now()))));
                    changed = byId(JobRows.query(reschedule));
                }
                resolve(segment, RescheduleRequest::id, RescheduleRequest::tenant, changed, results);
            }
            return results;
        } catch (SQLException e) {
            throw failed("reschedule of " + requests.size() + " jobs", e);
        }
    }

    /**
     * Retried jobs are unowned: like the claims a release hands back, they are announced on the store's channel
     * (delivered only if this transaction commits), so that a node claims those due soon at once rather than at its
     * next horizon round.
     */
    @Override
    public List<ChangeResult> retryFailed(List<RetryRequest> requests) {
        StoreValues.checkEach(requests, StoreValues::retryFailed);
        List<ChangeResult> results = new ArrayList<>(requests.size());
        try {
            Instant earliestDue = null;
            for (List<RetryRequest> segment : segments(requests, RetryRequest::id)) {
                Map<JobId, Job> changed;
                try (PreparedStatement retry = statement(RETRY_FAILED)) {
                    retry.setArray(1, uuids(map(segment, RetryRequest::id)));
                    retry.setArray(2, texts(map(segment, RetryRequest::tenant)));
                    retry.setArray(3, bigints(map(segment, r -> millis(r.dueAt()))));
                    retry.setArray(4, integers(map(segment, RetryRequest::freshAttempts)));
                    retry.setArray(5, texts(map(segment, RetryRequest::by)));
                    retry.setArray(6, bigints(map(segment, r -> millis(r.now()))));
                    changed = byId(JobRows.query(retry));
                }
                for (Job job : changed.values()) {
                    if (earliestDue == null || job.dueAt().isBefore(earliestDue)) {
                        earliestDue = job.dueAt();
                    }
                }
                resolve(segment, RetryRequest::id, RetryRequest::tenant, changed, results);
            }
            if (earliestDue != null) {
                announce(earliestDue);
            }
            return results;
        } catch (SQLException e) {
            throw failed("retry of " + requests.size() + " failed jobs", e);
        }
    }

    /**
     * Announces unowned jobs, the earliest due at {@code earliestDue}, on the store's channel, so that the nodes
     * claim those due soon at once rather than at their next horizon round. Delivered only if this transaction
     * commits; nothing in a caller's transaction (no channel).
     */
    private void announce(Instant earliestDue) throws SQLException {
        if (channel == null) {
            return;
        }
        try (PreparedStatement notify = statement("SELECT pg_notify(?, ?)")) {
            notify.setString(1, channel.name());
            notify.setString(2, NewJobChannel.payload(earliestDue));
            notify.execute();
        }
    }

    private static Map<JobId, Job> byId(List<Job> jobs) {
        Map<JobId, Job> map = new HashMap<>();
        for (Job job : jobs) {
            map.put(job.id(), job);
        }
        return map;
    }

    /**
     * The results of one segment of cancels, reschedules or retries. Why a request changed nothing (the job is in another
     * state, or not this tenant's, or absent) is read in one query for all of them, right after the segment's
     * update, so each sees the job as the earlier elements of the batch left it.
     */
    private <T> void resolve(List<T> segment, Function<T, JobId> id, Function<T, String> tenant,
            Map<JobId, Job> changed, List<ChangeResult> results) throws SQLException {
        List<JobId> unchanged = new ArrayList<>();
        for (T request : segment) {
            if (!changed.containsKey(id.apply(request))) {
                unchanged.add(id.apply(request));
            }
        }
        Map<JobId, Job> current = Map.of();
        if (!unchanged.isEmpty()) {
            try (PreparedStatement find = statement(FIND_BY_IDS)) {
                find.setArray(1, uuids(unchanged));
                current = byId(JobRows.query(find));
            }
        }
        for (T request : segment) {
            Job job = changed.get(id.apply(request));
            if (job != null) {
                results.add(new ChangeResult.Changed(job));
                continue;
            }
            results.add(StoreTxRules.unchanged(current.get(id.apply(request)), tenant.apply(request)));
        }
    }

    /**
     * Renews under the node's lock ({@link #tryNodeLock}), held to the end of this transaction: while a rescuer
     * holds it, the rescuer found this node's lease run out and is handing its claims back, so the renewal is
     * refused (false) rather than committed between the rescuer's check and its hand-back. Never waits.
     */
    @Override
    public boolean heartbeat(HeartbeatParams params) {
        String node = params.node();
        Instant leaseUntil = params.leaseUntil();
        Instant now = params.now();
        StoreValues.heartbeat(params);
        try {
            if (!tryLockNode(node)) {
                return false;
            }
            try (PreparedStatement heartbeat = statement(HEARTBEAT)) {
                heartbeat.setString(1, node);
                heartbeat.setLong(2, millis(leaseUntil));
                heartbeat.setLong(3, millis(now));
                Long presenceEpoch = presenceEpochs.apply(node);
                if (presenceEpoch == null) {
                    heartbeat.setNull(4, Types.BIGINT);
                } else {
                    heartbeat.setLong(4, presenceEpoch);
                }
                heartbeat.executeUpdate();
            }
            return true;
        } catch (SQLException e) {
            throw failed("heartbeat of " + node, e);
        }
    }

    private boolean tryLockNode(String node) throws SQLException {
        try (PreparedStatement lock = statement(TRY_LOCK_NODE)) {
            lock.setString(1, node);
            try (ResultSet rs = lock.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    @Override
    public ClaimShare claimShare(ClaimShareParams params) {
        StoreValues.claimShare(params);
        long now = millis(params.now());
        try {
            try (PreparedStatement record = statement(RECORD_CLAIMS)) {
                record.setLong(1, params.claims());
                record.setString(2, params.node());
                record.executeUpdate();
            }
            try (PreparedStatement count = statement(CLAIM_SHARE)) {
                count.setLong(1, millis(params.dueBefore()));
                count.setLong(2, now);
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    return new ClaimShare(rs.getInt(1), rs.getLong(2), rs.getLong(3));
                }
            }
        } catch (SQLException e) {
            throw failed("claim share of " + params.node(), e);
        }
    }

    /**
     * Yielded jobs are unowned: like the claims a release hands back, they are announced on the store's channel
     * (delivered only if this transaction commits), so that the other nodes claim them at once.
     */
    @Override
    public List<JobId> yieldClaims(YieldParams params) {
        StoreValues.yieldClaims(params);
        try {
            List<JobId> yielded = new ArrayList<>(params.count());
            long earliestDue = Long.MAX_VALUE;
            try (PreparedStatement yield = statement(YIELD)) {
                yield.setLong(1, millis(params.now()));
                yield.setString(2, params.node());
                yield.setLong(3, millis(params.keepThrough()));
                yield.setInt(4, params.count());
                yield.setString(5, params.node());
                try (ResultSet rs = yield.executeQuery()) {
                    while (rs.next()) {
                        yielded.add(JobRows.jobId(rs.getObject(1, UUID.class)));
                        earliestDue = Math.min(earliestDue, rs.getLong(2));
                    }
                }
            }
            if (!yielded.isEmpty()) {
                try (PreparedStatement recorded = statement(YIELDED_CLAIMS)) {
                    recorded.setLong(1, yielded.size());
                    recorded.setString(2, params.node());
                    recorded.executeUpdate();
                }
            }
            if (!yielded.isEmpty()) {
                announce(Instant.ofEpochMilli(earliestDue));
            }
            return yielded;
        } catch (SQLException e) {
            throw failed("yield of " + params.count() + " claims of " + params.node(), e);
        }
    }

    /**
     * Hands back the node's own claims. Its row is deleted only under its lock: without it a rescuer is deleting
     * the row right now, and the delete would wait for that rescuer's transaction.
     */
    @Override
    public int release(ReleaseParams params) {
        String node = params.node();
        Instant now = params.now();
        StoreValues.release(params);
        try {
            boolean locked = tryLockNode(node);
            int released = handBack(RELEASE, List.of(node), now, false, null);
            if (locked) {
                try (PreparedStatement delete = statement(DELETE_NODES)) {
                    delete.setArray(1, texts(List.of(node)));
                    delete.executeUpdate();
                }
            }
            if (released > 0) {
                // A graceful stop: wake the other nodes so they claim these jobs now, not at their next horizon
                // round (up to a load interval later: a lateness spike at every rolling restart).
                announce(now);
            }
            return released;
        } catch (SQLException e) {
            throw failed("release of " + node, e);
        }
    }

    /**
     * Four steps, none of which waits for another node:
     * <ol>
     *   <li>the candidates: owners and nodes rows whose lease ran out (one statement, {@link #EXPIRED_OWNERS});</li>
     *   <li>their node locks, tried: a node whose lock is taken is renewing its lease (or being rescued by another
     *       node) right now, and is left out of this rescue;</li>
     *   <li>the leases of the locked ones read again ({@link #STILL_EXPIRED}): a renewal that committed after step
     *       1 but before step 2 is seen here, and keeps the node's claims. From here to the COMMIT, no renewal of
     *       these nodes can commit: it needs the lock;</li>
     *   <li>their claims handed back ({@link #HAND_BACK}, skipping rows another transaction holds) and their nodes
     *       rows deleted.</li>
     * </ol>
     * Without steps 2 and 3, a node that renewed between the check and the hand-back, and started a job, would have
     * that job handed to another node and run twice while it lives.
     */
    @Override
    public int rescueExpired(RescueParams params) {
        Instant now = params.now();
        String rescuer = params.rescuer();
        boolean allOtherNodes = params.allOtherNodes();
        StoreValues.rescue(params);
        long silentSince = millis(params.silentSince());
        try {
            List<String> candidates;
            try (PreparedStatement owners = statement(EXPIRED_OWNERS)) {
                owners.setString(1, rescuer);
                owners.setBoolean(2, allOtherNodes);
                owners.setLong(3, millis(now));
                owners.setLong(4, silentSince);
                owners.setString(5, rescuer);
                owners.setBoolean(6, allOtherNodes);
                owners.setLong(7, millis(now));
                owners.setLong(8, silentSince);
                candidates = readNodes(owners);
            }
            if (candidates.isEmpty()) {
                return 0;
            }
            List<String> locked;
            try (PreparedStatement lock = statement(TRY_LOCK_NODES)) {
                lock.setArray(1, texts(candidates));
                locked = readNodes(lock);
            }
            if (locked.isEmpty()) {
                return 0;
            }
            List<String> expired;
            try (PreparedStatement recheck = statement(STILL_EXPIRED)) {
                recheck.setArray(1, texts(locked));
                recheck.setBoolean(2, allOtherNodes);
                recheck.setLong(3, millis(now));
                recheck.setLong(4, silentSince);
                expired = readNodes(recheck);
            }
            if (expired.isEmpty()) {
                return 0;
            }
            int rescued = handBack(HAND_BACK, expired, now, true, StoreTxRules.LEASE_EXPIRED);
            try (PreparedStatement delete = statement(DELETE_NODES)) {
                delete.setArray(1, texts(expired));
                delete.executeUpdate();
            }
            return rescued;
        } catch (SQLException e) {
            throw failed("rescue of expired claims", e);
        }
    }

    /** The node names a query returns in its first column. */
    private static List<String> readNodes(PreparedStatement query) throws SQLException {
        List<String> nodes = new ArrayList<>();
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                nodes.add(rs.getString(1));
            }
        }
        return nodes;
    }

    /** Hands back the claims of {@code owners} by {@code sql} ({@link #HAND_BACK} or {@link #RELEASE}). */
    private int handBack(String sql, List<String> owners, Instant now, boolean failExhausted, String error)
            throws SQLException {
        try (PreparedStatement handBack = statement(sql)) {
            Array ownerArray = texts(owners);
            handBack.setBoolean(1, failExhausted);
            handBack.setLong(2, millis(now));
            handBack.setString(3, error);
            handBack.setArray(4, ownerArray);
            handBack.setArray(5, ownerArray);
            return handBack.executeUpdate();
        }
    }

    @Override
    public int pruneFinished(PruneParams params) {
        Instant finishedBefore = params.finishedBefore();
        int limit = params.limit();
        StoreValues.prune(params);
        try (PreparedStatement prune = statement(PRUNE)) {
            prune.setLong(1, millis(finishedBefore));
            prune.setInt(2, limit);
            try (ResultSet rs = prune.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        } catch (SQLException e) {
            throw failed("prune of finished jobs", e);
        }
    }
}
