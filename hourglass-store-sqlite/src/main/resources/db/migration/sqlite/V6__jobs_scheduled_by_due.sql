-- Hourglass SQLite schema, version 6: the SCHEDULED jobs by due time, with their tenant, for the pending-jobs gauges.
--
-- The gauges count the jobs due within the next hour every few seconds (overdue ones included, whichever node holds
-- them): a range of this index, as long as that hour's jobs, never the whole table. The rest (due later) is counted
-- seldom. The tenant makes it covering: the count reads no table row. Inserts and starts touch it; finishes do not.
CREATE INDEX jobs_scheduled_by_due ON jobs (due_at, tenant) WHERE state = 'SCHEDULED';
