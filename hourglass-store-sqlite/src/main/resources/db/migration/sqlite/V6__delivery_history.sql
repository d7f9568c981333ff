-- Hourglass SQLite schema, version 6: the delivery history, what the dead-letter list filters on, and the state of
-- the watched targets. Never edit a released migration, add V7__... instead.
--
-- The delivery history is every attempt whose outcome was recorded, written in the same transaction as the outcome
-- (so the history holds an attempt exactly when the job's state says it ended). A job's successful attempt is always
-- its last, and most jobs have no other: it is kept in the job's own row (last_outcome = 'success', last_node,
-- last_started_at, last_status, last_duration_us, finished_at), which the outcome's update writes anyway, so the
-- common case adds no row. Every other attempt is a row of job_attempts.
--
-- job_attempts: one row per attempt that did not succeed. Keyed by (job, attempt) and clustered that way
-- (WITHOUT ROWID), so a job's attempts are one range of the b-tree; a job's attempt numbers never repeat (a retry by
-- hand continues them). Rows are deleted with their job when it is pruned: attempts follow the job's retention.
-- Times are epoch milliseconds, as in jobs.
CREATE TABLE job_attempts (
    job_seq     INTEGER NOT NULL,
    job_lo      INTEGER NOT NULL,
    attempt     INTEGER NOT NULL CONSTRAINT job_attempts_attempt_positive CHECK (attempt >= 1),
    tenant      TEXT    NOT NULL,
    node        TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CONSTRAINT job_attempts_outcome_known CHECK (outcome IN
        ('success', 'http_error', 'timeout', 'connect_error', 'refused', 'handler_error')),
    -- The receiver's HTTP status, NULL when it answered none.
    status      INTEGER,
    -- The target the attempt went to, as the delivery names it (a webhook's origin: scheme://host:port; an
    -- in-process handler's name).
    target      TEXT,
    -- A bounded excerpt of the error or of the receiver's answer to a failure; NULL on success.
    detail      TEXT,
    duration_us INTEGER NOT NULL,
    PRIMARY KEY (job_seq, attempt)
) STRICT, WITHOUT ROWID;

-- The target monitor reads the attempts recorded since it last looked, of every node (and, at start, those of its
-- window): a range of this index. Attempts are recorded in finish order, so the index grows at its right edge.
CREATE INDEX job_attempts_by_finish ON job_attempts (finished_at);

-- The state of each watched target, shared by the nodes: whether it is alarming (since when), and whether it is paused
-- (by whom, since when). Every change is a compare-and-set on version, so of several nodes that see the same
-- transition one writes it and sends its event; an alarm survives restarts and failover.
CREATE TABLE target_states (
    tenant     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    level      TEXT    NOT NULL CONSTRAINT target_states_level_known CHECK (level IN ('HEALTHY', 'ALARMING')),
    since      INTEGER NOT NULL,
    paused     TEXT    CONSTRAINT target_states_paused_known CHECK (paused IS NULL OR paused IN ('AUTO', 'MANUAL')),
    paused_at  INTEGER,
    paused_by  TEXT,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, target)
) STRICT, WITHOUT ROWID;

-- How the job's last recorded attempt ended and where it went: what GET /v1/jobs?state=FAILED filters on, without a
-- join. Who retried a FAILED job by hand, and when (NULL: never).
ALTER TABLE jobs ADD COLUMN last_outcome TEXT;
ALTER TABLE jobs ADD COLUMN last_target TEXT;
ALTER TABLE jobs ADD COLUMN retried_at INTEGER;
ALTER TABLE jobs ADD COLUMN retried_by TEXT;
-- The last recorded attempt's node, start (epoch ms), HTTP status (NULL: none) and duration (µs): with last_outcome,
-- last_target and finished_at, the history's row of a successful last attempt.
ALTER TABLE jobs ADD COLUMN last_node TEXT;
ALTER TABLE jobs ADD COLUMN last_started_at INTEGER;
ALTER TABLE jobs ADD COLUMN last_status INTEGER;
ALTER TABLE jobs ADD COLUMN last_duration_us INTEGER;

-- Each tenant's target settings (dev.hourglass.tenancy.TargetSettings): the alarm thresholds of its targets, whether a
-- target alarming for long is paused and after how many seconds, and the URL its operations events are sent to.
-- NULL means the setting's default (every tenant that existed before this version). The checks repeat TargetSettings,
-- as V2's repeat Tenant and Quotas, so that no row can hold settings the record would refuse to build; clear_at is
-- below raise_at only when both are set (a NULL raise_at means the default, which TargetSettings compares).
ALTER TABLE tenants ADD COLUMN target_raise_at REAL
    CONSTRAINT tenants_target_raise_at_range CHECK (target_raise_at > 0 AND target_raise_at <= 1);
ALTER TABLE tenants ADD COLUMN target_clear_at REAL
    CONSTRAINT tenants_target_clear_at_range CHECK (target_clear_at >= 0 AND target_clear_at < 1
        AND (target_raise_at IS NULL OR target_clear_at < target_raise_at));
ALTER TABLE tenants ADD COLUMN target_min_attempts INTEGER
    CONSTRAINT tenants_target_min_attempts_positive CHECK (target_min_attempts >= 1);
ALTER TABLE tenants ADD COLUMN target_consecutive_failures INTEGER
    CONSTRAINT tenants_target_consecutive_failures_positive CHECK (target_consecutive_failures >= 1);
-- 0 or 1 (SQLite has no boolean).
ALTER TABLE tenants ADD COLUMN target_auto_pause INTEGER
    CONSTRAINT tenants_target_auto_pause_boolean CHECK (target_auto_pause IN (0, 1));
ALTER TABLE tenants ADD COLUMN target_auto_pause_after_s INTEGER
    CONSTRAINT tenants_target_auto_pause_after_range CHECK (target_auto_pause_after_s BETWEEN 60 AND 2592000);
-- NULL: no operations webhook (it has no default).
ALTER TABLE tenants ADD COLUMN operations_webhook TEXT;
