package dev.hourglass.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs a peer's DDL script from the classpath. Both scripts (db-scheduler's table, Quartz's tables_postgres.sql
 * shipped inside its jar) are plain statements separated by ';' with '--' line comments and no function bodies,
 * so splitting on ';' is exact for them; a migration tool would be more machinery than the two files need.
 */
final class SqlScript {
    private SqlScript() {}

    static void run(PgServer server, String schema, String resource) {
        String text = read(resource);
        String withoutComments = text.lines().map(line -> {
            int comment = line.indexOf("--");
            return comment < 0 ? line : line.substring(0, comment);
        }).collect(Collectors.joining("\n"));
        List<String> statements = Arrays.stream(withoutComments.split(";"))
                .map(String::strip)
                .filter(s -> !s.isEmpty() && !s.equalsIgnoreCase("COMMIT")) // the connection autocommits
                .toList();
        try (Connection c = server.connect(schema); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot run " + resource + " in schema " + schema + ": "
                    + e.getMessage(), e);
        }
    }

    private static String read(String resource) {
        try (InputStream in = SqlScript.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no " + resource + " on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
