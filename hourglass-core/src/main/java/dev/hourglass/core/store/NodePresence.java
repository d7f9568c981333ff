package dev.hourglass.core.store;

/**
 * A node's mark of life in a shared store, held for as long as the node runs ({@link JobStore#holdPresence}). The
 * store drops the mark by itself the moment the node's process dies, so other nodes rescue a dead node's claims at
 * their next round instead of waiting for its lease to run out. The lease still covers what the mark cannot see: a
 * node cut off by the network or hung, whose connections stay open.
 *
 * <p>The price of the early rescue: while the mark is not held, other nodes may take this node's claims at any
 * moment, RUNNING ones too. So a node whose mark {@link #lapsed()} starts nothing until it holds the mark again.
 */
public interface NodePresence extends AutoCloseable {

    /** No mark: the store has none (an exclusive store, or one that cannot tell a dead session). */
    NodePresence NONE = new NodePresence() {
        @Override
        public boolean lapsed() {
            return false;
        }

        @Override
        public void close() {}
    };

    /**
     * True while the mark was held and is not now (its connection broke and has not been restored): other nodes may
     * count this node as dead and hand its claims to themselves. False while it is held, and when it never was (the
     * node then depends on its lease alone). Safe from any thread; never blocks.
     */
    boolean lapsed();

    /** Drops the mark: call after the node handed back its claims. Idempotent, never throws. */
    @Override
    void close();
}
