-- Hourglass SQLite schema, version 4: the named CHECK constraints of the PostgreSQL schema
-- (db/migration/postgres/V1__jobs.sql) that SQLite lacked, under the same names, so that a statement that breaks an
-- invariant is refused on both stores with the same words. Never edit a released migration, add V5__... instead.
--
--   jobs_terminal_holds_no_claim  a job in a terminal state holds no claim (owner is NULL)
--   jobs_running_has_owner        a running job always has the node that runs it
--   id_high_water_one_row         id_high_water has its one row (id = 1); V1 had the check, unnamed
--
-- The other CHECKs of the PostgreSQL schema are here already, under the same names (jobs_state_known,
-- jobs_attempts_non_negative, jobs_max_attempts_positive, tenants_*), except the webhook secrets: PostgreSQL keeps them
-- in an array (tenants_webhook_secrets_valid), SQLite in lines of text, whose own check is
-- tenants_webhook_secrets_not_empty (V2).
--
-- SQLite cannot add a constraint to a table, so each table is rebuilt the way SQLite documents
-- (https://www.sqlite.org/lang_altertable.html#otheralter): create the new table, copy every row, drop the old one,
-- rename the new one, then create again the indexes and the trigger that the drop took with it. Flyway runs this script
-- in one transaction: if anything fails, the file is left at version 3, untouched. Neither table takes part in a
-- foreign key, so foreign-key enforcement does not matter here.
--
-- The rows are copied as they are. The store never writes a row that breaks the new checks; a row written by hand that
-- does makes this migration fail, naming the constraint, and the store refuses to open until the row is put right
-- (for example: UPDATE jobs SET owner = NULL WHERE state NOT IN ('SCHEDULED', 'RUNNING')).
--
-- Cost: one pass over the table and one build of each index, in time proportional to the rows, before the store opens;
-- and disk room for a second copy of the table (written to the WAL) until the checkpoint at close. The copy keeps the
-- rowid (seq), so rows stay in id order.

CREATE TABLE jobs_v4 (
    -- As V1: see V1__jobs.sql for what each column holds.
    seq                INTEGER PRIMARY KEY,
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
    finished_at        INTEGER,
    attempts           INTEGER NOT NULL CONSTRAINT jobs_attempts_non_negative CHECK (attempts >= 0),
    max_attempts       INTEGER NOT NULL CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    backoff_initial_ms INTEGER NOT NULL,
    backoff_max_ms     INTEGER NOT NULL,
    timeout_ms         INTEGER,
    idem_key           TEXT,
    request_hash       BLOB,
    last_error         TEXT,
    owner              TEXT,
    token              INTEGER NOT NULL DEFAULT 0,
    -- Invariants of the store protocol, checked on every row write, as in PostgreSQL.
    CONSTRAINT jobs_terminal_holds_no_claim CHECK (owner IS NULL OR state IN ('SCHEDULED', 'RUNNING')),
    CONSTRAINT jobs_running_has_owner CHECK (owner IS NOT NULL OR state <> 'RUNNING')
) STRICT;

INSERT INTO jobs_v4 (seq, id_lo, tenant, handler, target, payload, state, due_at, created_at, updated_at, finished_at,
                     attempts, max_attempts, backoff_initial_ms, backoff_max_ms, timeout_ms, idem_key, request_hash,
                     last_error, owner, token)
SELECT seq, id_lo, tenant, handler, target, payload, state, due_at, created_at, updated_at, finished_at,
       attempts, max_attempts, backoff_initial_ms, backoff_max_ms, timeout_ms, idem_key, request_hash,
       last_error, owner, token
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_v4 RENAME TO jobs;

-- The indexes of V1 and V3, as they were.
CREATE INDEX jobs_claimable ON jobs (due_at) WHERE state = 'SCHEDULED' AND owner IS NULL;
CREATE INDEX jobs_owned ON jobs (owner) WHERE owner IS NOT NULL;
CREATE UNIQUE INDEX jobs_idem ON jobs (tenant, idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_by_tenant ON jobs (tenant, seq);

-- The state machine trigger of V1, as it was.
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

CREATE TABLE id_high_water_v4 (
    id    INTEGER PRIMARY KEY CONSTRAINT id_high_water_one_row CHECK (id = 1),
    seq   INTEGER NOT NULL,
    id_lo INTEGER NOT NULL
) STRICT;

INSERT INTO id_high_water_v4 (id, seq, id_lo) SELECT id, seq, id_lo FROM id_high_water;

DROP TABLE id_high_water;
ALTER TABLE id_high_water_v4 RENAME TO id_high_water;
