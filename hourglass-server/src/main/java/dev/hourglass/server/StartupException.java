package dev.hourglass.server;

/**
 * The server cannot start as configured: the port is taken, the data directory is unusable, the store is locked by
 * another process. The message is one line a person can act on; the command line prints it and exits with code 2.
 */
public final class StartupException extends RuntimeException {
    public StartupException(String message) {
        super(message);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
