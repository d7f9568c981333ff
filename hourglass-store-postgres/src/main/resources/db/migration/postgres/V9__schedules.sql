-- Hourglass PostgreSQL schema, version 9: recurring schedules and the runs they have created (hourglass-schedules,
-- JdbcScheduleStore; docs/recurring.md). Never edit a released migration, add V10__... instead.
--
-- The same tables and checks as the SQLite schema (db/migration/sqlite/V7__schedules.sql), in PostgreSQL's types.
-- A schedule is a definition (JSON text: always read and replaced whole, read by the schedules module only) and a
-- state that the nodes' materializers advance with a compare-and-set on `version`, so that of two nodes looking at
-- the same schedule one writes and the other reads again. Each run is an ordinary job; schedule_runs remembers which
-- job is which run. Times are epoch milliseconds in bigint, as in V1. Ids and names are COLLATE "C", as in V2.

CREATE TABLE schedules (
    id                   text    COLLATE "C" NOT NULL CONSTRAINT schedules_pkey PRIMARY KEY,
    tenant               text    COLLATE "C" NOT NULL,
    name                 text    COLLATE "C" NOT NULL CONSTRAINT schedules_name_not_empty CHECK (name <> ''),
    definition           text    NOT NULL,
    paused               boolean NOT NULL,
    version              bigint  NOT NULL CONSTRAINT schedules_version_positive CHECK (version >= 1),
    revision             bigint  NOT NULL CONSTRAINT schedules_revision_positive CHECK (revision >= 1),
    created_at           bigint  NOT NULL,
    updated_at           bigint  NOT NULL,
    materialized_through bigint,
    materialize_at       bigint,
    next_run_at          bigint,
    missed_runs          bigint  NOT NULL CONSTRAINT schedules_missed_runs_non_negative CHECK (missed_runs >= 0),
    skipped_runs         bigint  NOT NULL CONSTRAINT schedules_skipped_runs_non_negative CHECK (skipped_runs >= 0),
    CONSTRAINT schedules_tenant_name UNIQUE (tenant, name)
);

CREATE INDEX schedules_materialize ON schedules (materialize_at) WHERE materialize_at IS NOT NULL;

CREATE TABLE schedule_runs (
    schedule_id text   COLLATE "C" NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    nominal_at  bigint NOT NULL,
    job_id      text   COLLATE "C" NOT NULL,
    CONSTRAINT schedule_runs_pkey PRIMARY KEY (schedule_id, nominal_at)
);

CREATE TABLE schedule_keys (
    tenant          text  COLLATE "C" NOT NULL,
    idempotency_key text  COLLATE "C" NOT NULL,
    request_hash    bytea NOT NULL,
    schedule_id     text  COLLATE "C" NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    CONSTRAINT schedule_keys_pkey PRIMARY KEY (tenant, idempotency_key)
);
