-- Hourglass PostgreSQL schema, version 1. Applied by Flyway; never edit a released migration, add V2__... instead.
--
-- The same tables, indexes and state machine as the SQLite schema (db/migration/sqlite/V1__jobs.sql), in
-- PostgreSQL's own types. Every index serves one statement of PostgresTx; partial indexes keep each as small as the
-- rows it is for. Times are epoch milliseconds in bigint, as in SQLite: the same 8 bytes as timestamptz, no time
-- zone or JDBC timestamp conversion on the hot path, and the exact millisecond semantics the store SPI and the
-- conformance suite pin down (Instant <-> epoch ms, nothing finer). Readable when needed:
-- SELECT to_timestamp(due_at / 1000.0) FROM jobs.
--
-- Columns are ordered fixed-width and 8-byte aligned first, then variable-length, so rows carry no padding.
--
-- fillfactor 85: claims, starts and finishes change columns that indexes depend on (owner and state appear in the
-- partial-index predicates), so they cannot be HOT updates; but a page with free room still takes the new row
-- version on the same page, which keeps a job's versions together, spares the free-space map and the relation
-- extension lock, and lets page pruning reclaim the old version without waiting for VACUUM. The queue churns
-- (every job is updated 2-3 times and deleted after retention), so autovacuum runs on 2% of dead rows instead of
-- 20%: jobs_claimable must not fill up with dead entries that every claim would have to skip.

CREATE TABLE jobs (
    -- The UUIDv7 of JobId (hi = most significant 64 bits, lo = least). Time-ordered, so the primary key b-tree
    -- appends at its right edge instead of splitting pages all over; uuid order (bytewise) is JobId's order.
    id                 uuid    NOT NULL CONSTRAINT jobs_pkey PRIMARY KEY,
    due_at             bigint  NOT NULL,
    created_at         bigint  NOT NULL,
    updated_at         bigint  NOT NULL,
    -- Set when the job enters a terminal state; the retention clock for pruning.
    finished_at        bigint,
    backoff_initial_ms bigint  NOT NULL,
    backoff_max_ms     bigint  NOT NULL,
    timeout_ms         bigint,
    -- The fencing token the claim holder must present (see docs/state-machine.md).
    token              bigint  NOT NULL DEFAULT 0,
    attempts           integer NOT NULL CONSTRAINT jobs_attempts_non_negative CHECK (attempts >= 0),
    max_attempts       integer NOT NULL CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    state              text    NOT NULL
        CONSTRAINT jobs_state_known CHECK (state IN ('SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    tenant             text    NOT NULL,
    handler            text    NOT NULL,
    -- The node holding the claim (SCHEDULED: in its timer; RUNNING: running it). NULL = free to claim.
    owner              text,
    idem_key           text,
    target             text,
    last_error         text,
    request_hash       bytea,
    payload            bytea   NOT NULL,
    -- Invariants of the store protocol, checked on every row write: a job in a terminal state holds no claim,
    -- and a running job always has the node that runs it.
    CONSTRAINT jobs_terminal_holds_no_claim CHECK (owner IS NULL OR state IN ('SCHEDULED', 'RUNNING')),
    CONSTRAINT jobs_running_has_owner CHECK (owner IS NOT NULL OR state <> 'RUNNING')
) WITH (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- The due-soon scan of claimDue: only free SCHEDULED jobs, by due time. The claim spells this predicate out
-- literally so that the planner can prove it implies the index's, in generic plans too.
CREATE INDEX jobs_claimable ON jobs (due_at) WHERE state = 'SCHEDULED' AND owner IS NULL;

-- rescueExpired / release: the claims of one node, and the distinct owners (a loose index scan).
CREATE INDEX jobs_owned ON jobs (owner) WHERE owner IS NOT NULL;

-- Idempotency: one job per (tenant, key). The arbiter of INSERT ... ON CONFLICT (tenant, idem_key) WHERE ...
CREATE UNIQUE INDEX jobs_idem ON jobs (tenant, idem_key) WHERE idem_key IS NOT NULL;

-- pruneFinished: terminal jobs, oldest first.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Node leases (heartbeats): one row per node, rewritten every second. lease_until is not indexed, so a heartbeat
-- is a HOT update; half-empty pages give it room.
CREATE TABLE nodes (
    node        text   NOT NULL CONSTRAINT nodes_pkey PRIMARY KEY,
    lease_until bigint NOT NULL
) WITH (fillfactor = 50);

-- The largest job id ever stored, so lastJobId() survives pruning the newest jobs (one row, id = 1).
CREATE TABLE id_high_water (
    id     smallint NOT NULL CONSTRAINT id_high_water_pkey PRIMARY KEY CONSTRAINT id_high_water_one_row CHECK (id = 1),
    job_id uuid     NOT NULL
);

-- The state machine of dev.hourglass.core.model.JobState#allowedNext, repeated so that no statement, however it
-- was written, can make a transition the table forbids. PostgresJobStoreTest checks every (from, to) pair against
-- the enum, so the two cannot drift apart. The trigger's WHEN clause keeps the function off the updates that keep
-- the state (claims, reschedules, releases).
CREATE FUNCTION jobs_state_machine() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (
           (OLD.state = 'SCHEDULED' AND NEW.state IN ('RUNNING', 'CANCELLED'))
        OR (OLD.state = 'RUNNING'   AND NEW.state IN ('SUCCEEDED', 'SCHEDULED', 'FAILED', 'CANCELLED'))
        OR (OLD.state = 'FAILED'    AND NEW.state = 'SCHEDULED')
    ) THEN
        RAISE EXCEPTION 'illegal state transition % -> % of job %', OLD.state, NEW.state, OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_state_machine
BEFORE UPDATE OF state ON jobs
FOR EACH ROW
WHEN (OLD.state IS DISTINCT FROM NEW.state)
EXECUTE FUNCTION jobs_state_machine();
