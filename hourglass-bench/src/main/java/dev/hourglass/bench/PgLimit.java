package dev.hourglass.bench;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What PostgreSQL itself does on this machine with Hourglass's own table (created by the store's migration, so the
 * same columns, indexes, constraints and state-machine trigger), from one connection, {@value #BATCH} rows per
 * statement. Three loops, each bounded in time:
 * <ul>
 *   <li>insert: {@code INSERT ... SELECT FROM unnest(arrays)}, one durable commit (synchronous_commit on) per
 *       statement: the ceiling of S1;</li>
 *   <li>claim: {@code UPDATE ... WHERE id = ANY (ARRAY(SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)) RETURNING *},
 *       lazy commit (synchronous_commit off, as Hourglass's claims);</li>
 *   <li>lifecycle: claim, then start (SCHEDULED to RUNNING) and finish (RUNNING to SUCCEEDED) of the same rows, each
 *       a lazy commit: the three writes every job of S2 costs, with nothing else around them.</li>
 * </ul>
 */
final class PgLimit {
    static final int BATCH = 1_000;
    private static final String NODE = "limit";

    private static final String INSERT = "INSERT INTO jobs (id, tenant, handler, payload, state, due_at, created_at, "
            + "updated_at, attempts, max_attempts, backoff_initial_ms, backoff_max_ms, token) "
            + "SELECT r.id, 'default', 'noop', r.payload, 'SCHEDULED', r.due_at, ?, ?, 0, 5, 1000, 3600000, 0 "
            + "FROM unnest(?::uuid[], ?::bytea[], ?::bigint[]) AS r(id, payload, due_at)";
    private static final String CLAIM = "UPDATE jobs SET owner = ?, token = token + 1, updated_at = ? "
            + "WHERE id = ANY (ARRAY(SELECT id FROM jobs WHERE state = 'SCHEDULED' AND owner IS NULL "
            + "AND due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED)) RETURNING *";
    private static final String START = "UPDATE jobs SET state = 'RUNNING', attempts = attempts + 1, updated_at = ? "
            + "WHERE id = ANY (?::uuid[]) AND state = 'SCHEDULED' AND owner = ?";
    private static final String FINISH = "UPDATE jobs SET state = 'SUCCEEDED', owner = NULL, updated_at = ?, "
            + "finished_at = ? WHERE id = ANY (?::uuid[]) AND state = 'RUNNING' AND owner = ?";

    private PgLimit() {}

    static PgFigures.Limit run(Report report, PgServer server, Duration perLoop) throws Exception {
        String schema = PgServer.schemaName("limit");
        server.createSchema(schema);
        try {
            // The store's own migration builds the table; closed at once, the loops below use plain JDBC.
            PostgresJobStore.open(PostgresOptions.of(server.jdbcUrl(), server.user(), server.password())
                    .withSchema(schema)).close();
            server.checkpoint();
            try (Connection c = server.connect(schema)) {
                c.setAutoCommit(false);
                long t0 = System.nanoTime();
                long inserted = insertLoop(c, perLoop);
                double insertRate = inserted / ((System.nanoTime() - t0) / 1e9);
                Report.progress("limit: %,d rows inserted, %,.0f rows/s", inserted, insertRate);
                t0 = System.nanoTime();
                long claimed = claimLoop(c, perLoop, inserted / 2);
                double claimRate = claimed / ((System.nanoTime() - t0) / 1e9);
                Report.progress("limit: %,d rows claimed, %,.0f rows/s", claimed, claimRate);
                t0 = System.nanoTime();
                long cycled = lifecycleLoop(c, perLoop);
                double lifecycleRate = cycled / ((System.nanoTime() - t0) / 1e9);
                Report.progress("limit: %,d rows claimed+started+finished, %,.0f rows/s", cycled, lifecycleRate);
                PgFigures.Limit figures = new PgFigures.Limit(BATCH, insertRate, claimRate, lifecycleRate);
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("batch", BATCH);
                line.put("insert_rows_per_s", insertRate);
                line.put("claim_rows_per_s", claimRate);
                line.put("claim_start_finish_rows_per_s", lifecycleRate);
                report.result("pg-limit", line);
                return figures;
            }
        } finally {
            server.dropSchema(schema);
        }
    }

    private static long insertLoop(Connection c, Duration limit) throws SQLException {
        JobIdGenerator ids = new JobIdGenerator(InstantSource.system());
        byte[] payload = HourglassOnPg.PAYLOAD;
        long end = System.nanoTime() + limit.toNanos();
        long rows = 0;
        try (PreparedStatement insert = c.prepareStatement(INSERT)) {
            while (System.nanoTime() < end) {
                long now = System.currentTimeMillis();
                UUID[] idArray = new UUID[BATCH];
                byte[][] payloads = new byte[BATCH][];
                Long[] dues = new Long[BATCH];
                for (int i = 0; i < BATCH; i++) {
                    JobId id = ids.next();
                    idArray[i] = new UUID(id.hi(), id.lo());
                    payloads[i] = payload;
                    dues[i] = now; // due at once: the claim loops below take them
                }
                insert.setLong(1, now);
                insert.setLong(2, now);
                insert.setArray(3, c.createArrayOf("uuid", idArray));
                insert.setArray(4, c.createArrayOf("bytea", payloads));
                insert.setArray(5, c.createArrayOf("int8", dues));
                insert.executeUpdate();
                c.commit();
                rows += BATCH;
            }
        }
        return rows;
    }

    private static long claimLoop(Connection c, Duration limit, long atMost) throws SQLException {
        long end = System.nanoTime() + limit.toNanos();
        long rows = 0;
        try (PreparedStatement claim = c.prepareStatement(CLAIM)) {
            while (System.nanoTime() < end && rows < atMost) {
                lazy(c);
                List<UUID> ids = claim(claim);
                c.commit();
                if (ids.isEmpty()) {
                    break;
                }
                rows += ids.size();
            }
        }
        return rows;
    }

    private static long lifecycleLoop(Connection c, Duration limit) throws SQLException {
        long end = System.nanoTime() + limit.toNanos();
        long rows = 0;
        try (PreparedStatement claim = c.prepareStatement(CLAIM);
                PreparedStatement start = c.prepareStatement(START);
                PreparedStatement finish = c.prepareStatement(FINISH)) {
            while (System.nanoTime() < end) {
                lazy(c);
                List<UUID> ids = claim(claim);
                c.commit();
                if (ids.isEmpty()) {
                    break;
                }
                Array idArray = c.createArrayOf("uuid", ids.toArray());
                lazy(c);
                start.setLong(1, System.currentTimeMillis());
                start.setArray(2, idArray);
                start.setString(3, NODE);
                start.executeUpdate();
                c.commit();
                lazy(c);
                long now = System.currentTimeMillis();
                finish.setLong(1, now);
                finish.setLong(2, now);
                finish.setArray(3, idArray);
                finish.setString(4, NODE);
                finish.executeUpdate();
                c.commit();
                rows += ids.size();
            }
        }
        return rows;
    }

    /** Claims up to a batch of due rows, reading every column back as the store's claim does. */
    private static List<UUID> claim(PreparedStatement claim) throws SQLException {
        long now = System.currentTimeMillis();
        claim.setString(1, NODE);
        claim.setLong(2, now);
        claim.setLong(3, now);
        claim.setInt(4, BATCH);
        List<UUID> ids = new ArrayList<>(BATCH);
        try (ResultSet rs = claim.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getObject("id", UUID.class));
                rs.getBytes("payload");
            }
        }
        return ids;
    }

    /** This transaction commits without waiting for the WAL flush, as the store's LAZY writes do. */
    private static void lazy(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL synchronous_commit = off");
        }
    }
}
