package dev.hourglass.store.jdbc;

/** The SQL databases Hourglass stores run on. */
public enum SqlDialect {
    /** The embedded store: one file, one writer. */
    SQLITE,
    /** The shared store of a cluster. */
    POSTGRESQL
}
