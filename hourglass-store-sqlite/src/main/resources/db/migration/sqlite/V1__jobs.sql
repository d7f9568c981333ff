-- Hourglass SQLite schema, version 1. Applied by Flyway; never edit a released migration, add V2__... instead.
--
-- Lean on purpose: 10^7 rows must stay fast, so every index below serves one query of SqliteTx and partial
-- indexes keep each one as small as the rows it is for. Times are epoch milliseconds (INTEGER).
-- STRICT: a value of the wrong type is an error instead of being stored as whatever SQLite makes of it.

CREATE TABLE jobs (
    -- JobId.hi(): the UUIDv7's time-ordered high half, unique per store. As the rowid, inserts append to the
    -- table's b-tree and no separate id index is needed. Find by id = WHERE seq = ? AND id_lo = ?.
    seq                INTEGER PRIMARY KEY,
    -- JobId.lo(): the random half; checked on every lookup so ids cannot be guessed from the time.
    id_lo              INTEGER NOT NULL,
    tenant             TEXT    NOT NULL,
    handler            TEXT    NOT NULL,
    target             TEXT,
    payload            BLOB,
    state              TEXT    NOT NULL
        CONSTRAINT jobs_state_known CHECK (state IN ('SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    due_at             INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    -- Set when the job enters a terminal state; the retention clock for pruning.
    finished_at        INTEGER,
    attempts           INTEGER NOT NULL CONSTRAINT jobs_attempts_non_negative CHECK (attempts >= 0),
    max_attempts       INTEGER NOT NULL CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    backoff_initial_ms INTEGER NOT NULL,
    backoff_max_ms     INTEGER NOT NULL,
    timeout_ms         INTEGER,
    idem_key           TEXT,
    request_hash       BLOB,
    last_error         TEXT,
    -- The node holding the claim (SCHEDULED: in its timer; RUNNING: running it), and the fencing token it must
    -- present. NULL owner = free for the horizon loader to claim.
    owner              TEXT,
    token              INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The due-soon scan of claimDue: only free SCHEDULED jobs, by due time.
CREATE INDEX jobs_claimable ON jobs (due_at) WHERE state = 'SCHEDULED' AND owner IS NULL;

-- rescueExpired / release: the claims of one node (a horizon's worth of jobs, not the table).
CREATE INDEX jobs_owned ON jobs (owner) WHERE owner IS NOT NULL;

-- Idempotency: one job per (tenant, key).
CREATE UNIQUE INDEX jobs_idem ON jobs (tenant, idem_key) WHERE idem_key IS NOT NULL;

-- pruneFinished: terminal jobs, oldest first.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Node leases (heartbeats).
CREATE TABLE nodes (
    node        TEXT    PRIMARY KEY,
    lease_until INTEGER NOT NULL
) STRICT;

-- The largest job id ever stored, so lastJobId() survives pruning the newest jobs (one row, id = 1).
CREATE TABLE id_high_water (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    id_lo INTEGER NOT NULL
) STRICT;

-- The state machine of dev.hourglass.core.model.JobState#allowedNext, repeated so that no statement, however it
-- was written, can make a transition the table forbids. SqliteJobStoreTest checks every (from, to) pair against
-- the enum, so the two cannot drift apart.
CREATE TRIGGER jobs_state_machine
BEFORE UPDATE OF state ON jobs
WHEN OLD.state <> NEW.state AND NOT (
       (OLD.state = 'SCHEDULED' AND NEW.state IN ('RUNNING', 'CANCELLED'))
    OR (OLD.state = 'RUNNING'   AND NEW.state IN ('SUCCEEDED', 'SCHEDULED', 'FAILED', 'CANCELLED'))
    OR (OLD.state = 'FAILED'    AND NEW.state = 'SCHEDULED')
)
BEGIN
    SELECT RAISE(ABORT, 'illegal state transition');
END;
