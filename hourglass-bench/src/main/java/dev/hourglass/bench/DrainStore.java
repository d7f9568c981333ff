package dev.hourglass.bench;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The fresh, empty store one S2 drain runs on: opened once to write the jobs and once for the engine, its delivery
 * history counted by plain SQL once the engine is closed, and thrown away afterwards (scratch directory deleted,
 * schema dropped).
 */
interface DrainStore extends AutoCloseable {

    /**
     * The delivery history's attempts (the rows of {@code job_attempts} and the successful attempts kept in the jobs'
     * rows), and how many distinct jobs they belong to.
     */
    record HistoryRows(long rows, long jobs) {}

    /** Opens the store; each call a new instance on the same data. */
    JobStore open();

    /** Counts the delivery history; only while no engine holds the store. */
    HistoryRows historyRows();

    /** What the RESULT lines call the store. */
    String name();

    /** Deletes the data. */
    @Override
    void close();

    /** A SQLite file in a fresh scratch directory under {@code workDir}. */
    static DrainStore sqlite(Path workDir, String label) {
        Path dir = BenchEngines.scratch(workDir, label);
        Path file = dir.resolve("hourglass.db");
        return new DrainStore() {
            @Override
            public JobStore open() {
                return SqliteJobStore.open(file);
            }

            @Override
            public HistoryRows historyRows() {
                try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
                    return count(c, "job_seq", "seq"); // unique per job, as the jobs table's primary key
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot count the delivery history in " + file, e);
                }
            }

            @Override
            public String name() {
                return "sqlite";
            }

            @Override
            public void close() {
                BenchEngines.delete(dir);
            }
        };
    }

    /** A fresh schema ({@code hgb_<label>_<random>}) on the PostgreSQL server, dropped on close. */
    static DrainStore postgres(PgServer server, String label) {
        String schema = PgServer.schemaName(label);
        server.createSchema(schema);
        return new DrainStore() {
            @Override
            public JobStore open() {
                return PostgresJobStore.open(PostgresOptions.of(server.jdbcUrl(), server.user(), server.password())
                        .withSchema(schema));
            }

            @Override
            public HistoryRows historyRows() {
                try (Connection c = server.connect(schema)) {
                    return count(c, "job_id", "id");
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot count the delivery history in schema " + schema, e);
                }
            }

            @Override
            public String name() {
                return "postgres";
            }

            @Override
            public void close() {
                server.dropSchema(schema);
            }
        };
    }

    /** @param jobColumn how job_attempts names its job; {@code idColumn} the jobs table's id */
    private static HistoryRows count(Connection c, String jobColumn, String idColumn) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT job) FROM ("
                        + "SELECT " + jobColumn + " AS job FROM job_attempts UNION ALL "
                        + "SELECT " + idColumn + " FROM jobs WHERE last_outcome = 'success') AS history")) {
            rs.next();
            return new HistoryRows(rs.getLong(1), rs.getLong(2));
        }
    }
}
