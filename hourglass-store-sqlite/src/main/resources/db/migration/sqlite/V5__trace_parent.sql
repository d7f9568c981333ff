-- Hourglass SQLite schema, version 5: the trace context of the call that scheduled a job (its W3C traceparent,
-- 55 characters, or NULL), which every attempt of the job continues. Never edit a released migration, add V6__...
-- instead.
--
-- The store writes only values the engine validated (dev.hourglass.core.model.TraceParent) and validates them again
-- when it reads a row: a value written by hand that is not a traceparent reads as none. So no CHECK here, and adding
-- the column is a change of the schema only: the rows are not rewritten, and every existing job reads as untraced.
ALTER TABLE jobs ADD COLUMN trace_parent TEXT;
