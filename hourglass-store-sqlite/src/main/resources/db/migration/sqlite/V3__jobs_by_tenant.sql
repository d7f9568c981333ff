-- Hourglass SQLite schema, version 3: a tenant's jobs in id order, for GET /v1/jobs (list) of one tenant.
--
-- Without it a list walks the whole table in id order and filters by tenant, so one tenant's page could cost a scan of
-- every other tenant's jobs: 10^7 rows read to show 10. Tenant and seq never change after the insert, so state changes
-- (start, finish, cancel) never touch this index; only inserts and pruning do.
CREATE INDEX jobs_by_tenant ON jobs (tenant, seq);
