package dev.hourglass.store.sqlite;

import static dev.hourglass.store.jdbc.EpochMillis.millis;
import static dev.hourglass.store.jdbc.EpochMillis.setMillisOrNull;
import static dev.hourglass.store.sqlite.JobRows.COLUMNS;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.model.Transition;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.ClaimDueParams;
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
import dev.hourglass.store.jdbc.AttemptRows;
import dev.hourglass.store.jdbc.StoreTxRules;
import dev.hourglass.store.jdbc.StoreValues;
import dev.hourglass.store.jdbc.TargetStateRows;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The writes of one SQLite transaction, on the store's single writer connection. Valid only inside the
 * {@link SqliteJobStore#write} call that created it; its statements come from the store's per-connection cache.
 *
 * <p>Every update is a compare-and-set whose expected state comes from {@link Transition#from()} (or, for the
 * changes that keep the state, from the {@link JobState} constant), bound as a parameter or, where a partial index
 * must match the query text, spliced in from the enum's {@code name()}. The fencing token increments on every
 * write that takes a claim away from its holder (claim, cancel, reschedule, release, rescue); a start and a finish
 * keep it, so a node that keeps the claim of a retry ({@code nextOwner} = itself) starts it again with the same
 * token.
 */
final class SqliteTx implements StoreTx {

    /** Prepares (or returns the cached) statement for SQL text, on the writer connection. */
    @FunctionalInterface
    interface Statements {
        PreparedStatement get(String sql) throws SQLException;
    }

    private static final String SCHEDULED = JobState.SCHEDULED.name();
    private static final String RUNNING = JobState.RUNNING.name();
    private static final List<String> TERMINAL = Arrays.stream(JobState.values())
            .filter(JobState::isTerminal).map(JobState::name).toList();

    static final String INSERT = "INSERT INTO jobs (seq, id_lo, tenant, handler, target, payload, state, due_at, "
            + "created_at, updated_at, attempts, max_attempts, backoff_initial_ms, backoff_max_ms, timeout_ms, "
            + "idem_key, request_hash, owner, token, trace_parent) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, 0, ?) "
            + "ON CONFLICT (tenant, idem_key) WHERE idem_key IS NOT NULL DO NOTHING";

    static final String FIND_BY_IDEMPOTENCY_KEY =
            "SELECT " + COLUMNS + " FROM jobs WHERE tenant = ? AND idem_key = ?";

    static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM jobs WHERE seq = ? AND id_lo = ?";

    /**
     * The due-soon scan. The inner SELECT repeats the predicate of the partial index {@code jobs_claimable}
     * literally (SQLite only uses a partial index when the query's WHERE implies the index's WHERE at prepare time,
     * which a bound {@code state = ?} would not), so it walks that index in due order and stops after LIMIT rows.
     * RETURNING does not preserve that order, so {@link #claimDue} sorts.
     */
    static final String CLAIM = "UPDATE jobs SET owner = ?, token = token + 1, updated_at = ? "
            + "WHERE seq IN (SELECT seq FROM jobs WHERE state = '" + Transition.START.from().name() + "' "
            + "AND owner IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?) RETURNING " + COLUMNS;

    static final String FINISH = "UPDATE jobs SET state = ?, due_at = COALESCE(?, due_at), owner = ?, "
            + "updated_at = ?, finished_at = ?, last_error = COALESCE(?, last_error), "
            + "last_outcome = COALESCE(?, last_outcome), last_target = COALESCE(?, last_target), "
            + "last_node = COALESCE(?, last_node), last_started_at = COALESCE(?, last_started_at), "
            + "last_status = CASE WHEN ? THEN ? ELSE last_status END, "
            + "last_duration_us = COALESCE(?, last_duration_us) "
            + "WHERE seq = ? AND id_lo = ? AND state = ? AND owner = ? AND token = ?";

    /**
     * The history row of an attempt that did not succeed, for a finish that won its compare-and-set, in the same
     * transaction. A successful attempt has none: FINISH keeps it in the job's row ({@code last_*}).
     */
    static final String RECORD_ATTEMPT = "INSERT INTO job_attempts (job_seq, job_lo, attempt, tenant, node, "
            + "started_at, finished_at, outcome, status, target, detail, duration_us) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    static final String ATTEMPTS = "SELECT attempt, node, started_at, finished_at, outcome, status, target, detail, "
            + "duration_us FROM job_attempts WHERE job_seq = ? AND job_lo = ? AND attempt > ? ORDER BY attempt LIMIT ?";

    /** A job's successful last attempt, from its row, in the columns of {@link #ATTEMPTS}; none unless it succeeded. */
    static final String SUCCESS_OF_JOB = "SELECT attempts, last_node, last_started_at, finished_at, last_outcome, "
            + "last_status, last_target, NULL, last_duration_us FROM jobs WHERE seq = ? AND id_lo = ? "
            + "AND last_outcome = 'success' AND finished_at IS NOT NULL AND attempts > ?";

    /**
     * Every node's attempts ended since a time, in end order: the rows of job_attempts through their index on the end,
     * and the successes kept in the jobs' rows through {@code jobs_finished}, merged.
     */
    static final String ATTEMPTS_SINCE = "SELECT * FROM ("
            + "SELECT attempt, node, started_at, finished_at, outcome, status, target, detail, duration_us, "
            + "job_seq, job_lo, tenant FROM job_attempts WHERE finished_at >= ?1 "
            + "UNION ALL SELECT attempts, last_node, last_started_at, finished_at, last_outcome, last_status, "
            + "last_target, NULL, last_duration_us, seq, id_lo, tenant FROM jobs "
            + "WHERE finished_at IS NOT NULL AND finished_at >= ?1 AND last_outcome = 'success') "
            + "ORDER BY finished_at LIMIT ?2";

    /** The history of the jobs a prune deleted, a job at a time through the primary key. */
    static final String PRUNE_ATTEMPTS = "DELETE FROM job_attempts WHERE job_seq = ? AND job_lo = ?";

    static final String CANCEL = "UPDATE jobs SET state = ?, owner = NULL, token = token + 1, updated_at = ?, "
            + "finished_at = ? WHERE seq = ? AND id_lo = ? AND state = ? AND (? IS NULL OR tenant = ?) "
            + "RETURNING " + COLUMNS;

    static final String RESCHEDULE = "UPDATE jobs SET due_at = ?, owner = ?, token = token + 1, updated_at = ? "
            + "WHERE seq = ? AND id_lo = ? AND state = ? AND (? IS NULL OR tenant = ?) RETURNING " + COLUMNS;

    /**
     * A retry by hand: unowned, due when asked, the used attempts kept (numbers continue) and fresh ones added; the
     * last error stays until an attempt replaces it.
     */
    static final String RETRY_FAILED = "UPDATE jobs SET state = ?, due_at = ?, owner = NULL, finished_at = NULL, "
            + "token = token + 1, max_attempts = attempts + ?, retried_at = ?, retried_by = ?, updated_at = ? "
            + "WHERE seq = ? AND id_lo = ? AND state = ? AND (? IS NULL OR tenant = ?) RETURNING " + COLUMNS;

    static final String HEARTBEAT = "INSERT INTO nodes (node, lease_until) VALUES (?, ?) "
            + "ON CONFLICT (node) DO UPDATE SET lease_until = excluded.lease_until";

    /** The first owner, then the next one after a given owner: each an O(log n) seek in {@code jobs_owned}. */
    static final String FIRST_OWNER =
            "SELECT owner FROM jobs WHERE owner IS NOT NULL ORDER BY owner LIMIT 1";
    static final String NEXT_OWNER = "SELECT owner FROM jobs WHERE owner > ? ORDER BY owner LIMIT 1";

    static final String LIVE_NODES = "SELECT node FROM nodes WHERE lease_until >= ?";

    static final String UNOWN_SCHEDULED = "UPDATE jobs SET owner = NULL, token = token + 1, updated_at = ? "
            + "WHERE owner = ? AND state = ?";

    /**
     * A RUNNING job of a node that is gone goes back to SCHEDULED, due now, with its attempt counted; or, when
     * {@code failExhausted} (the 4th parameter, 1 = yes) and its attempts are used up, to FAILED.
     */
    static final String HAND_BACK_RUNNING = "UPDATE jobs SET "
            + "state = CASE WHEN ?1 AND attempts >= max_attempts THEN ?2 ELSE ?3 END, "
            + "due_at = CASE WHEN ?1 AND attempts >= max_attempts THEN due_at ELSE ?4 END, "
            + "finished_at = CASE WHEN ?1 AND attempts >= max_attempts THEN ?4 ELSE NULL END, "
            + "last_error = COALESCE(?5, last_error), owner = NULL, token = token + 1, updated_at = ?4 "
            + "WHERE owner = ?6 AND state = ?7";

    static final String DELETE_NODE = "DELETE FROM nodes WHERE node = ?";
    static final String DELETE_EXPIRED_NODES = "DELETE FROM nodes WHERE lease_until < ? AND node IS NOT ?";
    static final String DELETE_OTHER_NODES = "DELETE FROM nodes WHERE node IS NOT ?";

    /** Oldest finished first, through {@code jobs_finished}; the state test guards against a stray finished_at. */
    static final String PRUNE = "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE finished_at IS NOT NULL "
            + "AND finished_at < ? AND state IN (" + TERMINAL.stream().map(s -> "?").collect(Collectors.joining(", "))
            + ") ORDER BY finished_at LIMIT ?) RETURNING seq, id_lo";

    static final String RAISE_HIGH_WATER = "INSERT INTO id_high_water (id, seq, id_lo) VALUES (1, ?, ?) "
            + "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, id_lo = excluded.id_lo "
            + "WHERE excluded.seq > id_high_water.seq";

    private final Statements statements;
    private final String storeName;
    /** The cached statements this transaction used: {@link #end} clears what they hold. */
    private final Set<PreparedStatement> used = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean active = true;

    SqliteTx(Statements statements, String storeName) {
        this.statements = statements;
        this.storeName = storeName;
    }

    /**
     * Called when the transaction ends, committed or not: any later use is a bug in the caller. Clears the batch and
     * the parameters of every cached statement it used, so that nothing an operation added (a row added to a batch
     * before a later row failed) can run again in another transaction, for another caller.
     *
     * @return false when a statement could not be cleared; the store must then not reuse its statements
     */
    boolean end() {
        active = false;
        boolean cleared = true;
        for (PreparedStatement statement : used) {
            try {
                statement.clearBatch();
                statement.clearParameters();
            } catch (SQLException e) {
                cleared = false;
            }
        }
        used.clear();
        return cleared;
    }

    /**
     * The cached statement for {@code sql}, empty: its batch and parameters cleared, whatever an earlier use left
     * (this and {@link #end} each suffice; both keep the invariant should the other be bypassed).
     */
    private PreparedStatement statement(String sql) throws SQLException {
        if (!active) {
            throw new IllegalStateException("this StoreTx belongs to a write() that has returned");
        }
        PreparedStatement statement = statements.get(sql);
        used.add(statement);
        statement.clearBatch();
        statement.clearParameters();
        return statement;
    }

    private StoreException failed(String what, SQLException e) {
        return SqliteJobStore.storeException(storeName, what, e);
    }

    // ---------------------------------------------------------------------------------------------------------

    @Override
    public List<InsertResult> insert(List<NewJob> jobs) {
        if (jobs.isEmpty()) {
            return List.of();
        }
        StoreValues.checkEach(jobs, StoreValues::insert);
        try {
            PreparedStatement insert = statement(INSERT);
            for (NewJob job : jobs) {
                insert.setLong(1, job.id().hi());
                insert.setLong(2, job.id().lo());
                insert.setString(3, job.tenant());
                insert.setString(4, job.handler());
                insert.setString(5, job.target());
                insert.setBytes(6, job.payload());
                insert.setString(7, JobState.SCHEDULED.name());
                insert.setLong(8, millis(job.dueAt()));
                insert.setLong(9, millis(job.createdAt()));
                insert.setLong(10, millis(job.createdAt()));
                insert.setInt(11, job.maxAttempts());
                insert.setLong(12, job.backoff().initial().toMillis());
                insert.setLong(13, job.backoff().max().toMillis());
                setMillisOrNull(insert, 14, job.timeout());
                insert.setString(15, job.idempotencyKey());
                insert.setBytes(16, job.requestHash());
                insert.setString(17, job.owner());
                insert.setString(18, job.traceParent() == null ? null : job.traceParent().header());
                insert.addBatch();
            }
            int[] inserted = insert.executeBatch();
            if (inserted.length != jobs.size()) {
                throw new StoreException("SQLite store " + storeName + ": insert batch of " + jobs.size()
                        + " returned " + inserted.length + " counts");
            }
            List<InsertResult> results = new ArrayList<>(jobs.size());
            for (int i = 0; i < jobs.size(); i++) {
                NewJob job = jobs.get(i);
                results.add(inserted[i] == 1 ? new InsertResult.Created(job.toJob()) : existing(job));
            }
            return results;
        } catch (SQLException e) {
            throw failed("insert of " + jobs.size() + " jobs", e);
        }
    }

    /** The insert of {@code job} was skipped: its idempotency key is taken (possibly earlier in this batch). */
    private InsertResult existing(NewJob job) throws SQLException {
        PreparedStatement find = statement(FIND_BY_IDEMPOTENCY_KEY);
        find.setString(1, job.tenant());
        find.setString(2, job.idempotencyKey());
        Job holder = job.idempotencyKey() == null ? null : JobRows.readOne(find);
        return StoreTxRules.notInserted("SQLite store " + storeName, job, holder);
    }

    @Override
    public List<Job> claimDue(ClaimDueParams params) {
        String owner = params.owner();
        Instant dueBefore = params.dueBefore();
        int limit = params.limit();
        Instant now = params.now();
        StoreValues.claimDue(params);
        try {
            PreparedStatement claim = statement(CLAIM);
            claim.setString(1, owner);
            claim.setLong(2, millis(now));
            claim.setLong(3, millis(dueBefore));
            claim.setInt(4, limit);
            List<Job> claimed;
            try (ResultSet rs = claim.executeQuery()) {
                claimed = JobRows.readAll(rs);
            }
            claimed.sort(StoreTxRules.CLAIM_ORDER);
            return claimed;
        } catch (SQLException e) {
            throw failed("claim of due jobs", e);
        }
    }

    /**
     * Starts are the hottest write (one per fired job), so they go in chunks: one UPDATE ... FROM (VALUES ...) per
     * chunk, which SQLite runs as a rowid lookup per row, and one result set per chunk instead of one per job (opening
     * a result set costs more than the update itself). Chunk sizes are a few fixed powers of four so that each
     * chunk's statement is prepared once and cached.
     */
    private static final int[] START_CHUNKS = {256, 64, 16, 4, 1};

    static String startChunkSql(int rows) {
        String values = String.join(", ", Collections.nCopies(rows, "(?, ?, ?, ?)"));
        return "UPDATE jobs SET state = '" + Transition.START.to().name() + "', attempts = attempts + 1, "
                + "updated_at = ? FROM (VALUES " + values + ") AS r "
                + "WHERE jobs.seq = r.column1 AND jobs.id_lo = r.column2 AND jobs.owner = r.column3 "
                + "AND jobs.token = r.column4 AND jobs.state = '" + Transition.START.from().name() + "' "
                + "RETURNING " + COLUMNS;
    }

    @Override
    public List<Optional<Job>> start(List<StartRun> runs) {
        StoreValues.checkEach(runs, StoreValues::start);
        List<Optional<Job>> results = new ArrayList<>(runs.size());
        try {
            int next = 0;
            while (next < runs.size()) {
                int left = runs.size() - next;
                int rows = START_CHUNKS[START_CHUNKS.length - 1];
                for (int size : START_CHUNKS) {
                    if (size <= left) {
                        rows = size;
                        break;
                    }
                }
                List<StartRun> chunk = runs.subList(next, next + rows);
                startChunk(chunk, results);
                next += rows;
            }
            return results;
        } catch (SQLException e) {
            throw failed("start of " + runs.size() + " runs", e);
        }
    }

    private void startChunk(List<StartRun> chunk, List<Optional<Job>> results) throws SQLException {
        PreparedStatement start = statement(startChunkSql(chunk.size()));
        // One "now" per chunk: the engine stamps every start of a batch within the same few microseconds.
        start.setLong(1, millis(chunk.getFirst().now()));
        int p = 2;
        for (StartRun run : chunk) {
            start.setLong(p++, run.id().hi());
            start.setLong(p++, run.id().lo());
            start.setString(p++, run.owner());
            start.setLong(p++, run.fencingToken());
        }
        Map<JobId, Job> started = new HashMap<>();
        try (ResultSet rs = start.executeQuery()) {
            while (rs.next()) {
                Job job = JobRows.read(rs);
                started.put(job.id(), job);
            }
        }
        for (StartRun run : chunk) {
            // remove(): a job listed twice in one chunk is started once and reported once.
            results.add(Optional.ofNullable(started.remove(run.id())));
        }
    }

    @Override
    public List<Boolean> finish(List<FinishRun> runs) {
        if (runs.isEmpty()) {
            return List.of();
        }
        StoreTxRules.requireNextDueTimes(runs);
        StoreValues.checkEach(runs, StoreValues::finish);
        try {
            PreparedStatement finish = statement(FINISH);
            for (FinishRun run : runs) {
                Transition transition = Transition.finishingIn(run.to());
                boolean retry = !transition.to().isTerminal();
                finish.setString(1, transition.to().name());
                setMillisOrNull(finish, 2, retry ? run.dueAt() : null);
                finish.setString(3, retry ? run.nextOwner() : null);
                finish.setLong(4, millis(run.now()));
                setMillisOrNull(finish, 5, retry ? null : run.now());
                finish.setString(6, StoreValues.diagnostic(run.error()));
                AttemptRecord attempt = run.attempt();
                boolean recorded = attempt != null;
                finish.setString(7, recorded ? attempt.outcome().label() : null);
                finish.setString(8, recorded ? attempt.target() : null);
                finish.setString(9, recorded ? attempt.node() : null);
                setMillisOrNull(finish, 10, recorded ? attempt.startedAt() : null);
                finish.setBoolean(11, recorded);
                if (recorded && attempt.status() != 0) {
                    finish.setInt(12, attempt.status());
                } else {
                    finish.setNull(12, Types.INTEGER);
                }
                if (recorded) {
                    finish.setLong(13, AttemptRows.micros(attempt.duration()));
                } else {
                    finish.setNull(13, Types.BIGINT);
                }
                finish.setLong(14, run.id().hi());
                finish.setLong(15, run.id().lo());
                finish.setString(16, transition.from().name());
                finish.setString(17, run.owner());
                finish.setLong(18, run.fencingToken());
                finish.addBatch();
            }
            int[] counts = finish.executeBatch();
            List<Boolean> results = new ArrayList<>(counts.length);
            for (int count : counts) {
                results.add(count == 1);
            }
            recordAttempts(runs, results);
            return results;
        } catch (SQLException e) {
            throw failed("finish of " + runs.size() + " runs", e);
        }
    }

    /** Writes the history rows of the finishes that won ({@code won}, in the order of {@code runs}). */
    private void recordAttempts(List<FinishRun> runs, List<Boolean> won) throws SQLException {
        PreparedStatement insert = null;
        for (int i = 0; i < runs.size(); i++) {
            AttemptRecord attempt = runs.get(i).attempt();
            if (attempt == null || attempt.succeeded() || !won.get(i)) {
                continue; // a success lives in the job's row (FINISH)
            }
            if (insert == null) {
                insert = statement(RECORD_ATTEMPT);
            }
            FinishRun run = runs.get(i);
            insert.setLong(1, run.id().hi());
            insert.setLong(2, run.id().lo());
            insert.setInt(3, attempt.attempt());
            insert.setString(4, run.tenant());
            insert.setString(5, attempt.node());
            insert.setLong(6, millis(attempt.startedAt()));
            insert.setLong(7, millis(attempt.finishedAt()));
            insert.setString(8, attempt.outcome().label());
            if (attempt.status() != 0) {
                insert.setInt(9, attempt.status());
            } else {
                insert.setNull(9, Types.INTEGER);
            }
            insert.setString(10, attempt.target());
            insert.setString(11, StoreValues.diagnostic(attempt.detail()));
            insert.setLong(12, AttemptRows.micros(attempt.duration()));
            insert.addBatch();
        }
        if (insert != null) {
            insert.executeBatch();
        }
    }

    @Override
    public List<Boolean> putTargetStates(List<TargetState> states) {
        List<Boolean> results = new ArrayList<>(states.size());
        try {
            for (TargetState state : states) {
                PreparedStatement write;
                if (state.version() == 1) {
                    write = statement(TargetStateRows.INSERT_FIRST);
                    TargetStateRows.bindInsert(write, state);
                } else {
                    write = statement(TargetStateRows.REPLACE_PREVIOUS);
                    TargetStateRows.bindReplace(write, state);
                }
                results.add(write.executeUpdate() == 1);
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
            for (CancelRequest request : requests) {
                PreparedStatement cancel = statement(CANCEL);
                cancel.setString(1, Transition.CANCEL.to().name());
                cancel.setLong(2, millis(request.now()));
                cancel.setLong(3, millis(request.now()));
                cancel.setLong(4, request.id().hi());
                cancel.setLong(5, request.id().lo());
                cancel.setString(6, Transition.CANCEL.from().name());
                cancel.setString(7, request.tenant());
                cancel.setString(8, request.tenant());
                Job changed = JobRows.readOne(cancel);
                results.add(changed != null ? new ChangeResult.Changed(changed) : unchanged(request.id(),
                        request.tenant()));
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
            for (RescheduleRequest request : requests) {
                PreparedStatement reschedule = statement(RESCHEDULE);
                reschedule.setLong(1, millis(request.dueAt()));
                reschedule.setString(2, request.owner());
                reschedule.setLong(3, millis(request.now()));
                reschedule.setLong(4, request.id().hi());
                reschedule.setLong(5, request.id().lo());
                reschedule.setString(6, SCHEDULED);
                reschedule.setString(7, request.tenant());
                reschedule.setString(8, request.tenant());
                Job changed = JobRows.readOne(reschedule);
                results.add(changed != null ? new ChangeResult.Changed(changed) : unchanged(request.id(),
                        request.tenant()));
            }
            return results;
        } catch (SQLException e) {
            throw failed("reschedule of " + requests.size() + " jobs", e);
        }
    }

    @Override
    public List<ChangeResult> retryFailed(List<RetryRequest> requests) {
        StoreValues.checkEach(requests, StoreValues::retryFailed);
        List<ChangeResult> results = new ArrayList<>(requests.size());
        try {
            for (RetryRequest request : requests) {
                PreparedStatement retry = statement(RETRY_FAILED);
                retry.setString(1, Transition.RETRY_BY_HAND.to().name());
                retry.setLong(2, millis(request.dueAt()));
                retry.setInt(3, request.freshAttempts());
                retry.setLong(4, millis(request.now()));
                retry.setString(5, request.by());
                retry.setLong(6, millis(request.now()));
                retry.setLong(7, request.id().hi());
                retry.setLong(8, request.id().lo());
                retry.setString(9, Transition.RETRY_BY_HAND.from().name());
                retry.setString(10, request.tenant());
                retry.setString(11, request.tenant());
                Job changed = JobRows.readOne(retry);
                results.add(changed != null ? new ChangeResult.Changed(changed) : unchanged(request.id(),
                        request.tenant()));
            }
            return results;
        } catch (SQLException e) {
            throw failed("retry of " + requests.size() + " failed jobs", e);
        }
    }

    /**
     * Why a cancel, reschedule or retry changed nothing: the job is in another state, or not this tenant's, or
     * absent.
     */
    private ChangeResult unchanged(JobId id, String tenant) throws SQLException {
        PreparedStatement find = statement(FIND_BY_ID);
        find.setLong(1, id.hi());
        find.setLong(2, id.lo());
        return StoreTxRules.unchanged(JobRows.readOne(find), tenant);
    }

    /** Always renews: the file is one process's, and its one writer runs rescues and renewals one at a time. */
    @Override
    public boolean heartbeat(HeartbeatParams params) {
        String node = params.node();
        Instant leaseUntil = params.leaseUntil();
        Instant now = params.now();
        StoreValues.heartbeat(params);
        try {
            PreparedStatement heartbeat = statement(HEARTBEAT);
            heartbeat.setString(1, node);
            heartbeat.setLong(2, millis(leaseUntil));
            heartbeat.executeUpdate();
            return true;
        } catch (SQLException e) {
            throw failed("heartbeat of " + node, e);
        }
    }

    @Override
    public int release(ReleaseParams params) {
        String node = params.node();
        Instant now = params.now();
        StoreValues.release(params);
        try {
            int released = handBack(node, now, false, null);
            PreparedStatement delete = statement(DELETE_NODE);
            delete.setString(1, node);
            delete.executeUpdate();
            return released;
        } catch (SQLException e) {
            throw failed("release of " + node, e);
        }
    }

    @Override
    public int rescueExpired(RescueParams params) {
        Instant now = params.now();
        String rescuer = params.rescuer();
        boolean allOtherNodes = params.allOtherNodes();
        StoreValues.rescue(params);
        try {
            // Owners whose claims are taken over: every owner of a job except the rescuer and, unless
            // allOtherNodes, except the nodes with a live lease. An owner without a nodes row counts as expired: it
            // cannot renew.
            Set<String> alive = new HashSet<>();
            if (!allOtherNodes) {
                PreparedStatement live = statement(LIVE_NODES);
                live.setLong(1, millis(now));
                try (ResultSet rs = live.executeQuery()) {
                    while (rs.next()) {
                        alive.add(rs.getString(1));
                    }
                }
            }
            int rescued = 0;
            for (String owner : owners()) {
                if (!owner.equals(rescuer) && !alive.contains(owner)) {
                    rescued += handBack(owner, now, true, StoreTxRules.LEASE_EXPIRED);
                }
            }
            PreparedStatement delete;
            if (allOtherNodes) {
                delete = statement(DELETE_OTHER_NODES);
                delete.setString(1, rescuer);
            } else {
                delete = statement(DELETE_EXPIRED_NODES);
                delete.setLong(1, millis(now));
                delete.setString(2, rescuer);
            }
            delete.executeUpdate();
            return rescued;
        } catch (SQLException e) {
            throw failed("rescue of expired claims", e);
        }
    }

    /**
     * The distinct owners of jobs, by a skip scan over {@code jobs_owned}: one index seek per owner (there are as
     * many as nodes), where {@code SELECT DISTINCT owner} would read every claimed job's index entry.
     */
    private List<String> owners() throws SQLException {
        List<String> owners = new ArrayList<>();
        String owner = nextOwner(statement(FIRST_OWNER));
        while (owner != null) {
            owners.add(owner);
            PreparedStatement next = statement(NEXT_OWNER);
            next.setString(1, owner);
            owner = nextOwner(next);
        }
        return owners;
    }

    private static String nextOwner(PreparedStatement query) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Hands back every claim of {@code owner}; returns the number of jobs changed. */
    private int handBack(String owner, Instant now, boolean failExhausted, String error) throws SQLException {
        PreparedStatement unown = statement(UNOWN_SCHEDULED);
        unown.setLong(1, millis(now));
        unown.setString(2, owner);
        unown.setString(3, SCHEDULED);
        int changed = unown.executeUpdate();

        PreparedStatement running = statement(HAND_BACK_RUNNING);
        running.setBoolean(1, failExhausted);
        running.setString(2, Transition.FAIL.to().name());
        running.setString(3, Transition.RESCUE.to().name());
        running.setLong(4, millis(now));
        if (error == null) {
            running.setNull(5, Types.VARCHAR);
        } else {
            running.setString(5, error);
        }
        running.setString(6, owner);
        running.setString(7, Transition.RESCUE.from().name());
        changed += running.executeUpdate();
        return changed;
    }

    @Override
    public int pruneFinished(PruneParams params) {
        Instant finishedBefore = params.finishedBefore();
        int limit = params.limit();
        StoreValues.prune(params);
        try {
            PreparedStatement prune = statement(PRUNE);
            int index = 1;
            prune.setLong(index++, millis(finishedBefore));
            for (String state : TERMINAL) {
                prune.setString(index++, state);
            }
            prune.setInt(index, limit);
            int deleted = 0;
            long maxSeq = Long.MIN_VALUE;
            long maxLo = 0;
            PreparedStatement history = null;
            try (ResultSet rs = prune.executeQuery()) {
                while (rs.next()) {
                    deleted++;
                    long seq = rs.getLong(1);
                    long lo = rs.getLong(2);
                    if (seq > maxSeq) {
                        maxSeq = seq;
                        maxLo = lo;
                    }
                    if (history == null) {
                        history = statement(PRUNE_ATTEMPTS);
                    }
                    history.setLong(1, seq);
                    history.setLong(2, lo);
                    history.addBatch();
                }
            }
            if (history != null) {
                // Attempts follow their job's retention: deleted in the transaction that deletes the job.
                history.executeBatch();
            }
            if (deleted > 0) {
                // Remember the largest id deleted, so that lastJobId() still seeds the id generator past it.
                PreparedStatement raise = statement(RAISE_HIGH_WATER);
                raise.setLong(1, maxSeq);
                raise.setLong(2, maxLo);
                raise.executeUpdate();
            }
            return deleted;
        } catch (SQLException e) {
            throw failed("prune of finished jobs", e);
        }
    }
}
