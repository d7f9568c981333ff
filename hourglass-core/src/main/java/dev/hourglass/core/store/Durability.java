package dev.hourglass.core.store;

/** How durable a commit must be before {@link JobStore#write} returns. */
public enum Durability {
    /**
     * On stable storage (fsync): used for everything acknowledged to a caller: inserts, cancels, reschedules.
     */
    FSYNC,
    /**
     * Visible to other processes and safe from a process crash, but it may be lost with the machine's power:
     * used for starts, finishes, claims and heartbeats, whose loss only makes a job run again (at-least-once).
     */
    LAZY
}
