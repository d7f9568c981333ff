-- Hourglass PostgreSQL schema, version 8: claims spread across nodes. Never edit a released migration, add V9__...
-- instead.
--
-- claims is how many SCHEDULED jobs the node said it holds, once or twice a horizon round: each node sizes its claims
-- to a fair share of the near-term work (the live nodes' claims and the unowned jobs due soon, over the live nodes)
-- from these rows, without counting the jobs table's claimed rows every round. Not indexed, so the write stays a HOT
-- update.
ALTER TABLE nodes ADD COLUMN claims bigint NOT NULL DEFAULT 0;
