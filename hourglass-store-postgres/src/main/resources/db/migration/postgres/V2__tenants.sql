-- Hourglass PostgreSQL schema, version 2: tenants and their API keys (the server's multi-tenant mode, read through
-- PostgresTenantStore). Applied by Flyway in the store's schema; never edit a released migration, add V3__... instead.
--
-- The same tables and checks as the SQLite schema (db/migration/sqlite/V2__tenants.sql), in PostgreSQL's own
-- types. Times are epoch milliseconds in bigint, as in V1 (the store SPI keeps milliseconds, nothing finer).
-- Admin data, off the hot path: a handful of rows per tenant, written by admin calls and read into every node's
-- memory. So the only indexes are the lookups the store makes.
--
-- jobs.tenant does not reference tenants on purpose: a single-tenant install has jobs of a tenant that has no row
-- here, and the jobs of a V1 schema must survive this migration untouched.
--
-- Names and key ids are COLLATE "C" (byte order): list() and keys() promise String.compareTo order, which a
-- database whose default collation is a locale's (en_US skips punctuation) would not give; and equality under "C"
-- is plain byte equality, the cheapest there is.

CREATE TABLE tenants (
    -- The range checks repeat dev.hourglass.core.tenant.Tenant and Quotas#validate, so that no statement, however
    -- it was written, can store a tenant the records would refuse to build when it is read back.
    max_pending_jobs     bigint  NOT NULL CONSTRAINT tenants_max_pending_jobs_positive CHECK (max_pending_jobs >= 1),
    schedules_per_second bigint  NOT NULL
        CONSTRAINT tenants_schedules_per_second_positive CHECK (schedules_per_second >= 1),
    schedule_burst       bigint  NOT NULL CONSTRAINT tenants_schedule_burst_positive CHECK (schedule_burst >= 1),
    -- Quotas.maxDelay in milliseconds.
    max_delay_ms         bigint  NOT NULL CONSTRAINT tenants_max_delay_positive CHECK (max_delay_ms >= 1),
    created_at           bigint  NOT NULL,
    updated_at           bigint  NOT NULL,
    weight               integer NOT NULL CONSTRAINT tenants_weight_range CHECK (weight BETWEEN 1 AND 1000),
    max_payload_bytes    integer NOT NULL
        CONSTRAINT tenants_max_payload_bytes_non_negative CHECK (max_payload_bytes >= 0),
    max_in_flight        integer NOT NULL CONSTRAINT tenants_max_in_flight_positive CHECK (max_in_flight >= 1),
    name                 text    COLLATE "C" NOT NULL CONSTRAINT tenants_pkey PRIMARY KEY,
    -- Newest first. An array rather than a table: the list is always read and replaced whole. One-dimensional,
    -- never empty, no NULL element (array_ndims of an empty array is NULL, hence the cardinality check).
    webhook_secrets      text[]  NOT NULL CONSTRAINT tenants_webhook_secrets_valid CHECK (
        cardinality(webhook_secrets) >= 1 AND array_ndims(webhook_secrets) = 1
        AND array_position(webhook_secrets, NULL) IS NULL)
);

-- Only hashes: the key itself is shown once, when issued, and never stored.
CREATE TABLE api_keys (
    created_at bigint NOT NULL,
    -- NULL while the key is valid; once set, never changed (a second revocation keeps the first time).
    revoked_at bigint,
    -- The public identifier, for listing and revoking.
    id         text   COLLATE "C" NOT NULL CONSTRAINT api_keys_pkey PRIMARY KEY,
    tenant     text   COLLATE "C" NOT NULL CONSTRAINT api_keys_tenant_fkey REFERENCES tenants (name),
    -- Lowercase hex SHA-256 of the key. UNIQUE: authentication finds the key by it (findKeyByHash).
    hash       text   COLLATE "C" NOT NULL CONSTRAINT api_keys_hash_key UNIQUE
);

-- keys(tenant): a tenant's keys, oldest first. Also the index the foreign key's checks use.
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
