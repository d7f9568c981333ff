package dev.hourglass.core.engine;

import dev.hourglass.core.model.JobId;

/**
 * A claimed job waiting in memory for its due time. Only what firing needs: the rest of the job stays in the store
 * and comes back with the start write. The timer is a cache: firing an entry still has to win the start
 * compare-and-set on (owner, fencing token) in the store.
 */
record TimerEntry(JobId id, long dueMillis, long fencingToken) {}
