-- Hourglass PostgreSQL schema, version 3: a tenant's jobs in id order, for GET /v1/jobs (list) of one tenant.
--
-- Without it a list walks the primary key in id order and filters by tenant, so one tenant's page could cost a scan of
-- every other tenant's jobs. Tenant and id never change after the insert, so state changes never update this index
-- (and heap-only updates stay possible); only inserts and pruning do. On a large existing table this migration takes a
-- while (it reads every row) and blocks writes meanwhile: upgrade a large store in a quiet moment.
CREATE INDEX jobs_by_tenant ON jobs (tenant, id);
