-- Hourglass PostgreSQL schema, version 10: the queue connections a tenant's jobs may deliver to (docs/queues.md).
-- Never edit a released migration, add V11__... instead.
--
-- Connection names separated by commas ('mq,orders-kafka'); NULL, as in every row older than this version, means
-- every connection the server has. An empty string means none.
ALTER TABLE tenants ADD COLUMN queue_connections TEXT;
