package dev.hourglass.core.store;

/**
 * The store could not be reached: no connection within the store's timeout, the connection broke, or the server
 * did not answer in time; or it cannot write at all (a full disk, an I/O error), whatever is written. Unlike other {@link StoreException}s this says nothing about the operations themselves,
 * so retrying them one by one is pointless: the engine fails the whole batch and tries again with the next one.
 *
 * <p>{@link #outcomeUnknown()} is true when the connection failed while the commit was under way: the transaction
 * may or may not have been committed. A store throws this only from the commit itself; a failure before the commit
 * was sent means the transaction was rolled back (nothing of it is kept).
 */
public class StoreUnavailableException extends StoreException {
    private final boolean outcomeUnknown;

    public StoreUnavailableException(String message, Throwable cause, boolean outcomeUnknown) {
        super(message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    /** True when the write may have been committed although it failed (the answer to its commit was lost). */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
