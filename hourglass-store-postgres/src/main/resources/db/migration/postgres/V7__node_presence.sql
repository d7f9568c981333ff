-- Hourglass PostgreSQL schema, version 7: crash detection. Never edit a released migration, add V8__... instead.
--
-- A node holds a session-level advisory lock for as long as it runs (its presence mark, see PresenceKeeper), and its
-- heartbeat records here the life of the server it took the mark in: pg_postmaster_start_time() in microseconds.
-- When the node's process dies, PostgreSQL ends its session and frees the lock; a rescuer that finds the lock free
-- and this epoch equal to the server's current one rescues the node's claims at once, not when its lease runs out.
-- NULL: the node holds no mark (an older version, or its mark is being taken back), and only its lease counts.
-- renewed_at (epoch ms, the store's clock) is when the node last renewed its lease: a node whose mark is gone counts
-- as dead only after a grace of two load intervals without a renewal, since a live node whose connections were all
-- cut at once loses its mark too, and its next renewal records that it holds none. Neither column is indexed, so a
-- heartbeat stays a HOT update.
ALTER TABLE nodes ADD COLUMN presence_epoch bigint;
ALTER TABLE nodes ADD COLUMN renewed_at bigint;
