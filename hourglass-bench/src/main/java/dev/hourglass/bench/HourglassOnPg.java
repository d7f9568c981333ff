package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Hourglass on the PostgreSQL store: {@code nodes} engines in this JVM, each with its own {@link PostgresJobStore}
 * (its own pool of 8) on the same schema and its own node id, as separate processes would run. Callers are split
 * across the nodes; due jobs go to whichever node claims them.
 */
final class HourglassOnPg implements PgSystem {
    static final byte[] PAYLOAD = "{\"to\":\"user@example.com\",\"template\":\"reminder\"}"
            .getBytes(StandardCharsets.UTF_8);
    private static final String HANDLER = "noop";
    private static final int PRELOAD_BATCH = 5_000;

    private final PostgresJobStore[] stores;
    private final Hourglass[] engines;
    private final Firings firings;
    private final CommitStats[] commits;
    private final JobRequest request = JobRequest.of(HANDLER, PAYLOAD);

    private HourglassOnPg(PostgresJobStore[] stores, Firings firings) {
        this.stores = stores;
        this.engines = new Hourglass[stores.length];
        this.firings = firings;
        this.commits = new CommitStats[stores.length];
        for (int i = 0; i < stores.length; i++) {
            commits[i] = new CommitStats();
        }
    }

    static Contender contender(int nodes) {
        String config = "PostgresJobStore, pool 8 per node, engine defaults (horizon 30 s, load every 1 s, "
                + "512 in flight, group commit up to 2,000); " + (nodes == 1 ? "1 node" : nodes + " nodes in one JVM, "
                + "each its own store on the same schema, distinct node ids");
        return new Contender(nodes == 1 ? "hourglass" : "hourglass-" + nodes,
                nodes == 1 ? "Hourglass, 1 node" : "Hourglass, " + nodes + " nodes", config, nodes, false,
                (server, schema, firings) -> open(server, schema, firings, nodes));
    }

    static HourglassOnPg open(PgServer server, String schema, Firings firings, int nodes) {
        PostgresJobStore[] stores = new PostgresJobStore[nodes];
        try {
            for (int i = 0; i < nodes; i++) {
                stores[i] = PostgresJobStore.open(
                        PostgresOptions.of(server.jdbcUrl(), server.user(), server.password()).withSchema(schema));
            }
        } catch (RuntimeException e) {
            for (PostgresJobStore s : stores) {
                if (s != null) {
                    s.close();
                }
            }
            throw e;
        }
        return new HourglassOnPg(stores, firings);
    }

    /** Straight into the store, unclaimed (owner null), as jobs scheduled long ago would be: the insert path is S1's. */
    @Override
    public void preload(List<Instant> dueTimes) {
        InstantSource wall = InstantSource.system();
        JobIdGenerator ids = new JobIdGenerator(wall);
        for (int from = 0; from < dueTimes.size(); from += PRELOAD_BATCH) {
            List<NewJob> batch = new ArrayList<>(PRELOAD_BATCH);
            Instant now = wall.instant();
            for (Instant due : dueTimes.subList(from, Math.min(dueTimes.size(), from + PRELOAD_BATCH))) {
                batch.add(new NewJob(ids.next(), "default", HANDLER, null, PAYLOAD, due, now, 5, Backoff.DEFAULT,
                        null, null, null, null, null));
            }
            stores[0].write(Durability.FSYNC, tx -> tx.insert(batch));
        }
    }

    /** Builds the engines at the same moment (each build runs a first claim round), as nodes started together. */
    @Override
    public void start() {
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (int i = 0; i < engines.length; i++) {
            int node = i;
            starts.add(CompletableFuture.runAsync(() -> engines[node] = Hourglass.builder()
                    .store(stores[node])
                    .config(EngineConfig.defaults("bench-" + (char) ('a' + node)))
                    .metrics(commits[node])
                    .handler(HANDLER, ctx -> {
                        firings.fired(ctx.dueAt(), node);
                        return Outcome.succeeded();
                    })
                    .build(), Thread.ofPlatform().name("start-node-" + node)::start));
        }
        CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).join();
    }

    @Override
    public void schedule(int caller, Instant dueAt) {
        engines[caller % engines.length].schedule(request, When.at(dueAt));
    }

    @Override
    public String workSinceLastCall() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < commits.length; i++) {
            s.append(i == 0 ? "" : "; ").append(commits.length == 1 ? "" : "node " + (char) ('a' + i) + ": ")
                    .append(commits[i].summaryAndReset());
        }
        return s.toString();
    }

    @Override
    public void close() {
        for (int i = 0; i < stores.length; i++) {
            if (engines[i] != null) {
                engines[i].close(); // hands back claims, then closes its store
            } else {
                stores[i].close();
            }
        }
    }
}
