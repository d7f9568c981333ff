package dev.hourglass.bench;

/**
 * A system in the PostgreSQL suite and the configuration it runs with.
 *
 * @param id short name for the command line and RESULT lines
 * @param label name in the final table
 * @param config the settings, as printed in the output and the docs
 * @param nodes how many nodes (engines) it runs, each its own handler slot in {@link Firings}
 * @param slow true for a system too slow for the full S2 count: it drains a smaller batch (the rate is compared)
 * @param opener opens it on a fresh schema
 */
record Contender(String id, String label, String config, int nodes, boolean slow, PgSystem.Opener opener) {}
