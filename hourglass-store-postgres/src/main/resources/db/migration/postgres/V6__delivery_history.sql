-- Hourglass PostgreSQL schema, version 6: the delivery history, what the dead-letter list filters on, and the state
-- of the watched targets, as in the SQLite schema (db/migration/sqlite/V6__delivery_history.sql). Never edit a
-- released migration, add V7__... instead.
--
-- job_attempts: one row per attempt whose outcome was recorded, written in the same transaction as the outcome (so
-- a row exists exactly when the job's state says the attempt ended). The primary key (job_id, attempt) serves the
-- listing of one job's attempts; a job's attempt numbers never repeat (a retry by hand continues them). Rows are
-- deleted with their job when it is pruned: attempts follow the job's retention. Insert-only until then, so the
-- default fillfactor. Times are epoch milliseconds, as in jobs.
CREATE TABLE job_attempts (
    job_id      uuid    NOT NULL,
    started_at  bigint  NOT NULL,
    finished_at bigint  NOT NULL,
    duration_us bigint  NOT NULL,
    attempt     integer NOT NULL CONSTRAINT job_attempts_attempt_positive CHECK (attempt >= 1),
    -- The receiver's HTTP status, NULL when it answered none.
    status      integer,
    tenant      text    NOT NULL,
    node        text    NOT NULL,
    outcome     text    NOT NULL CONSTRAINT job_attempts_outcome_known CHECK (outcome IN
        ('success', 'http_error', 'timeout', 'connect_error', 'refused', 'handler_error')),
    -- The target the attempt went to, as the delivery names it (a webhook's origin: scheme://host:port; an
    -- in-process handler's name).
    target      text,
    -- A bounded excerpt of the error or of the receiver's answer to a failure; NULL on success.
    detail      text,
    CONSTRAINT job_attempts_pkey PRIMARY KEY (job_id, attempt)
);

-- The target monitor reads the attempts recorded since it last looked, of every node (and, at start, those of its
-- window): a range of this index. Attempts are recorded in finish order, so the index grows at its right edge.
CREATE INDEX job_attempts_by_finish ON job_attempts (finished_at);

-- The state of each watched target, shared by the nodes: whether it is alarming (since when), and whether it is paused
-- (by whom, since when). Every change is a compare-and-set on version, so of several nodes that see the same
-- transition one writes it and sends its event; an alarm survives restarts and failover.
CREATE TABLE target_states (
    since      bigint NOT NULL,
    paused_at  bigint,
    version    bigint NOT NULL,
    updated_at bigint NOT NULL,
    tenant     text   NOT NULL,
    target     text   NOT NULL,
    level      text   NOT NULL CONSTRAINT target_states_level_known CHECK (level IN ('HEALTHY', 'ALARMING')),
    paused     text   CONSTRAINT target_states_paused_known CHECK (paused IS NULL OR paused IN ('AUTO', 'MANUAL')),
    paused_by  text,
    CONSTRAINT target_states_pkey PRIMARY KEY (tenant, target)
);

-- How the job's last recorded attempt ended and where it went: what GET /v1/jobs?state=FAILED filters on, without a
-- join. Who retried a FAILED job by hand, and when (NULL: never). Nullable columns without defaults: the catalog
-- changes, the table is not rewritten.
ALTER TABLE jobs ADD COLUMN last_outcome text, ADD COLUMN last_target text, ADD COLUMN retried_at bigint,
    ADD COLUMN retried_by text;
