-- Hourglass SQLite schema, version 2: tenants and their API keys (the server's multi-tenant mode, read through
-- SqliteTenantStore). Applied by Flyway; never edit a released migration, add V3__... instead.
--
-- Admin data, off the hot path: a handful of rows per tenant, written by admin calls and read into the server's
-- memory. So the only indexes are the lookups the store makes. Times are epoch milliseconds (INTEGER), as in V1.
-- STRICT, as in V1: a value of the wrong type is an error instead of being stored as whatever SQLite makes of it.
--
-- jobs.tenant does not reference tenants on purpose: a single-tenant install has jobs of a tenant that has no row
-- here, and the jobs of a V1 file must survive this migration untouched.

CREATE TABLE tenants (
    -- Compared byte by byte (SQLite's BINARY collation), so list() is in Java's String order for the names
    -- Tenant allows.
    name                 TEXT    PRIMARY KEY,
    -- The range checks repeat dev.hourglass.core.tenant.Tenant and Quotas#validate, so that no statement, however
    -- it was written, can store a tenant the records would refuse to build when it is read back.
    weight               INTEGER NOT NULL CONSTRAINT tenants_weight_range CHECK (weight BETWEEN 1 AND 1000),
    max_pending_jobs     INTEGER NOT NULL CONSTRAINT tenants_max_pending_jobs_positive CHECK (max_pending_jobs >= 1),
    schedules_per_second INTEGER NOT NULL
        CONSTRAINT tenants_schedules_per_second_positive CHECK (schedules_per_second >= 1),
    schedule_burst       INTEGER NOT NULL CONSTRAINT tenants_schedule_burst_positive CHECK (schedule_burst >= 1),
    max_payload_bytes    INTEGER NOT NULL
        CONSTRAINT tenants_max_payload_bytes_non_negative CHECK (max_payload_bytes >= 0),
    -- Quotas.maxDelay in milliseconds.
    max_delay_ms         INTEGER NOT NULL CONSTRAINT tenants_max_delay_positive CHECK (max_delay_ms >= 1),
    max_in_flight        INTEGER NOT NULL CONSTRAINT tenants_max_in_flight_positive CHECK (max_in_flight >= 1),
    -- One secret per line, newest first. A list in one column rather than a table: it is always read and
    -- replaced whole, and Tenant refuses secrets that are blank or contain a line break, so the lines split back
    -- into exactly the list that was written.
    webhook_secrets      TEXT    NOT NULL CONSTRAINT tenants_webhook_secrets_not_empty CHECK (webhook_secrets <> ''),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

-- Only hashes: the key itself is shown once, when issued, and never stored.
CREATE TABLE api_keys (
    -- The public identifier, for listing and revoking.
    id         TEXT    PRIMARY KEY,
    -- Enforced on the store's writer connection, which turns foreign_keys on (SQLite's default is off).
    tenant     TEXT    NOT NULL CONSTRAINT api_keys_tenant_exists REFERENCES tenants (name),
    -- Lowercase hex SHA-256 of the key. UNIQUE: authentication finds the key by it (findKeyByHash).
    hash       TEXT    NOT NULL CONSTRAINT api_keys_hash_unique UNIQUE,
    created_at INTEGER NOT NULL,
    -- NULL while the key is valid; once set, never changed (a second revocation keeps the first time).
    revoked_at INTEGER
) STRICT;

-- keys(tenant): a tenant's keys, oldest first.
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
