-- Hourglass SQLite schema, version 7: recurring schedules and the runs they have created (hourglass-schedules,
-- JdbcScheduleStore; docs/recurring.md). Never edit a released migration, add V8__... instead.
--
-- A schedule is a definition (what to run and when, kept as JSON: it is always read and replaced whole and only the
-- schedules module reads it) and a state the materializer advances with a compare-and-set on `version`. Each run is
-- an ordinary job; schedule_runs remembers which job is which run, so that a pause or a change can cancel the runs
-- not yet started and the overlap rule can find a run's predecessor. Times are epoch milliseconds. STRICT, as in V1.

CREATE TABLE schedules (
    id                   TEXT    PRIMARY KEY,
    tenant               TEXT    NOT NULL,
    name                 TEXT    NOT NULL CONSTRAINT schedules_name_not_empty CHECK (name <> ''),
    definition           TEXT    NOT NULL,
    paused               INTEGER NOT NULL CONSTRAINT schedules_paused_boolean CHECK (paused IN (0, 1)),
    version              INTEGER NOT NULL CONSTRAINT schedules_version_positive CHECK (version >= 1),
    -- Goes up when the runs to come are replaced (a change of the definition, a resume): part of each run's
    -- idempotency key, so that a replaced run and its replacement are different jobs.
    revision             INTEGER NOT NULL CONSTRAINT schedules_revision_positive CHECK (revision >= 1),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    -- The nominal time of the latest run created; NULL before the first.
    materialized_through INTEGER,
    -- When the materializer must look at the schedule next; NULL while paused or after its last run.
    materialize_at       INTEGER,
    next_run_at          INTEGER,
    missed_runs          INTEGER NOT NULL CONSTRAINT schedules_missed_runs_non_negative CHECK (missed_runs >= 0),
    skipped_runs         INTEGER NOT NULL CONSTRAINT schedules_skipped_runs_non_negative CHECK (skipped_runs >= 0),
    -- A name is unique within its tenant.
    CONSTRAINT schedules_tenant_name UNIQUE (tenant, name)
) STRICT;

-- The materializer's scan: the schedules whose next look is due.
CREATE INDEX schedules_materialize ON schedules (materialize_at) WHERE materialize_at IS NOT NULL;

CREATE TABLE schedule_runs (
    schedule_id TEXT    NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    nominal_at  INTEGER NOT NULL,
    -- The run's job (its id as text); the job keeps its own state.
    job_id      TEXT    NOT NULL,
    PRIMARY KEY (schedule_id, nominal_at)
) STRICT, WITHOUT ROWID;

-- The Idempotency-Key of the call that created a schedule, and a digest of its request: the same key with the same
-- request finds the schedule again, with another request is a conflict.
CREATE TABLE schedule_keys (
    tenant          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    schedule_id     TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant, idempotency_key)
) STRICT, WITHOUT ROWID;
