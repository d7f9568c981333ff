package dev.hourglass.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL server the suite runs on: scratch schemas (created, then dropped with everything in them), raw
 * connections and connection pools inside one of them. Every system under test gets fresh schemas, so no system
 * sees another's rows, indexes or dead tuples.
 */
record PgServer(String jdbcUrl, String user, String password) {

    /** A new schema name, {@code hgb_<label>_<random>}: a run killed half-way leaves only hgb_* schemas behind. */
    static String schemaName(String label) {
        String clean = label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        return "hgb_" + clean.substring(0, Math.min(clean.length(), 40)) + "_" + suffix;
    }

    void createSchema(String schema) {
        execute(null, "CREATE SCHEMA " + schema);
    }

    /**
     * Drops the schema and everything in it. Bounded: a connection left behind (a caller stuck in a call) could
     * hold a lock on a table; after 30 s the schema stays, named in a progress line, and the suite goes on.
     */
    void dropSchema(String schema) {
        try (Connection c = connect(null); Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = '30s'");
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException e) {
            Report.progress("could not drop schema %s (%s); drop it by hand", schema, e.getMessage());
        }
    }

    /**
     * Flushes dirty pages now, so that a checkpoint triggered by the previous system's writes does not land in the
     * middle of the next system's measurement. Needs superuser (or pg_checkpoint); without it, says so and goes on.
     */
    void checkpoint() {
        try {
            execute(null, "CHECKPOINT");
        } catch (IllegalStateException e) {
            Report.progress("CHECKPOINT refused (%s); measurements may include a checkpoint", e.getMessage());
        }
    }

    String version() {
        try (Connection c = connect(null); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SHOW server_version")) {
            return rs.next() ? rs.getString(1) : "?";
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reach PostgreSQL at " + safeUrl() + ": " + e.getMessage(), e);
        }
    }

    /** A plain connection (autocommit on), with {@code schema} as its search path when not null. */
    Connection connect(String schema) throws SQLException {
        return DriverManager.getConnection(urlFor(schema), user, password);
    }

    /** A HikariCP pool of {@code size} connections whose search path is {@code schema}. */
    HikariDataSource pool(String schema, int size, String name) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(urlFor(schema));
        config.setUsername(user);
        if (password != null) {
            config.setPassword(password);
        }
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size); // all connections open before the clock starts
        return new HikariDataSource(config);
    }

    /** The URL with {@code currentSchema} added: the driver sets the search path in the startup packet. */
    String urlFor(String schema) {
        if (schema == null) {
            return jdbcUrl;
        }
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    String safeUrl() {
        int query = jdbcUrl.indexOf('?');
        return query < 0 ? jdbcUrl : jdbcUrl.substring(0, query) + "?...";
    }

    void execute(String schema, String sql) {
        try (Connection c = connect(schema); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "PgServer[" + safeUrl() + ", user=" + user + "]";
    }
}
