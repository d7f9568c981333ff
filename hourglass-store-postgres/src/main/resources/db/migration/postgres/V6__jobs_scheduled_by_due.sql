-- Hourglass PostgreSQL schema, version 6: the SCHEDULED jobs by due time, with their tenant, for the pending-jobs
-- gauges (the same index as the SQLite schema's version 6).
--
-- The gauges count the jobs due within the next hour every few seconds (overdue ones included, whichever node holds
-- them): an index-only range scan, as long as that hour's jobs, never the whole table. The rest (due later) is
-- counted seldom. State already appears in jobs_claimable's predicate, so this index costs no heap-only update that
-- was possible before. On a large existing table this migration reads every row and blocks writes meanwhile: upgrade
-- a large store in a quiet moment.
CREATE INDEX jobs_scheduled_by_due ON jobs (due_at, tenant) WHERE state = 'SCHEDULED';
