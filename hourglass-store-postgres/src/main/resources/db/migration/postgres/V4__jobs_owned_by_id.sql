-- Hourglass PostgreSQL schema, version 4: the claims of one node in id order, for JobStore.claimsOf (a node pages
-- through its own SCHEDULED claims after a claim whose commit answer was lost). Never edit a released migration, add
-- V5__... instead.
--
-- jobs_owned was on (owner) alone: a page "owner = ? AND id > ? ORDER BY id LIMIT ?" then read and sorted every claim
-- of the owner (a horizon's worth, up to maxTimerEntries) to return a thousand. On (owner, id) a page is one range of
-- the index, read in order and cut at LIMIT. The index keeps its name and its predicate, so the statements that used
-- it still do: release and rescueExpired hand back "owner = ANY (...)" (a prefix of the new index) and the loose scan
-- of distinct owners seeks "owner > ? ORDER BY owner LIMIT 1" (its leading column); PostgresJobStoreTest checks those
-- plans. The cost: 16 more bytes per index entry (the uuid), only for claimed jobs.
--
-- Built before the old index is dropped, so the exclusive lock that DROP INDEX takes (it blocks reads too) is held
-- only from the drop to this migration's commit, not while the index is built. The build itself blocks writes
-- (CREATE INDEX takes a SHARE lock): it reads the claimed jobs only, a horizon's worth per node, so it is short.
CREATE INDEX jobs_owned_v4 ON jobs (owner, id) WHERE owner IS NOT NULL;
DROP INDEX jobs_owned;
ALTER INDEX jobs_owned_v4 RENAME TO jobs_owned;
