-- Hourglass PostgreSQL schema, version 6: the delivery history, what the dead-letter list filters on, and the state
-- of the watched targets, as in the SQLite schema (db/migration/sqlite/V6__delivery_history.sql). Never edit a
-- released migration, add V7__... instead.
--
-- job_attempts: one row per attempt whose outcome was recorded and was not a success (a successful attempt, always a
-- job's last, is kept in the job's row: see the columns last_* below), written in the same transaction as the
-- outcome. The primary key (job_id, attempt) serves the listing of one job's attempts; a job's attempt numbers never
-- repeat (a retry by hand continues them). Rows are deleted with their job when it is pruned: attempts follow the
-- job's retention. Insert-only until then, so the default fillfactor. Times are epoch milliseconds, as in jobs.
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

-- The last recorded attempt's node, start (epoch ms), HTTP status (NULL: none) and duration (µs): with last_outcome,
-- last_target and finished_at, the history's row of a successful last attempt, which has no row in job_attempts
-- (see the SQLite schema: a job's success is always its last attempt, and most jobs have no other).
ALTER TABLE jobs ADD COLUMN last_node text, ADD COLUMN last_started_at bigint, ADD COLUMN last_status integer,
    ADD COLUMN last_duration_us bigint;

-- Each tenant's target settings (dev.hourglass.tenancy.TargetSettings), as in the SQLite schema: the alarm thresholds
-- of its targets, whether a target alarming for long is paused and after how many seconds, and the URL its operations
-- events are sent to. NULL means the setting's default (every tenant that existed before this version). The checks
-- repeat TargetSettings, as V2's repeat Tenant and Quotas; clear_at is below raise_at only when both are set (a NULL
-- raise_at means the default, which TargetSettings compares). Nullable columns without defaults: the catalog changes,
-- the table is not rewritten (the checks read its handful of rows once).
ALTER TABLE tenants
    ADD COLUMN target_raise_at double precision
        CONSTRAINT tenants_target_raise_at_range CHECK (target_raise_at > 0 AND target_raise_at <= 1),
    ADD COLUMN target_clear_at double precision
        CONSTRAINT tenants_target_clear_at_range CHECK (target_clear_at >= 0 AND target_clear_at < 1),
    ADD COLUMN target_min_attempts bigint
        CONSTRAINT tenants_target_min_attempts_positive CHECK (target_min_attempts >= 1),
    ADD COLUMN target_consecutive_failures integer
        CONSTRAINT tenants_target_consecutive_failures_positive CHECK (target_consecutive_failures >= 1),
    ADD COLUMN target_auto_pause boolean,
    ADD COLUMN target_auto_pause_after_s integer
        CONSTRAINT tenants_target_auto_pause_after_range CHECK (target_auto_pause_after_s BETWEEN 60 AND 2592000),
    -- NULL: no operations webhook (it has no default).
    ADD COLUMN operations_webhook text,
    ADD CONSTRAINT tenants_target_clear_below_raise CHECK (target_clear_at < target_raise_at);
