package dev.hourglass.core.store;

/** The store could not do what was asked (unreachable, disk full, corrupt). Nothing of the failed write is kept. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
