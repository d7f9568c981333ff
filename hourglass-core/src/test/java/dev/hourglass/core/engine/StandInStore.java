package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.Claim;
import dev.hourglass.core.store.ClaimsOfParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreTx;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A stand-in store for engine unit tests that exercise one component against what a store does at one moment (a
 * write held on cue, a read that fails), which no real store does on cue. Every method a test does not override
 * refuses, or answers as an empty exclusive store; the real stores run the same components in the engine tests.
 */
abstract class StandInStore implements JobStore {

    @Override
    public <R> R write(Durability durability, Function<StoreTx, R> work) {
        throw new UnsupportedOperationException("write");
    }

    @Override
    public List<Claim> claimsOf(ClaimsOfParams params) {
        throw new UnsupportedOperationException("claimsOf");
    }

    @Override
    public Optional<Job> find(JobId id) {
        throw new UnsupportedOperationException("find");
    }

    @Override
    public JobPage list(JobQuery query) {
        throw new UnsupportedOperationException("list");
    }

    @Override
    public Optional<JobId> lastJobId() {
        return Optional.empty();
    }

    @Override
    public boolean exclusive() {
        return true;
    }

    @Override
    public void close() {}
}
