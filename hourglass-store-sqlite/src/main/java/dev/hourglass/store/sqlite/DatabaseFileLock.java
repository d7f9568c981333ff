package dev.hourglass.store.sqlite;

import dev.hourglass.core.store.StoreException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An OS lock on one byte of the database file itself, far beyond the bytes SQLite locks, so that no second
 * Hourglass process can open the file while this one has it, even when {@code <file>.lock} was deleted.
 *
 * <p>SQLite's own locks cannot do this: in WAL mode a second process may read and write beside the first, and
 * {@code locking_mode=EXCLUSIVE} would shut out this store's own read connections. The byte locked here, at
 * {@link #POSITION} (2^62), is one SQLite never locks (its lock bytes sit at 1 GiB), so the two kinds of lock never
 * meet, and SQLite ignores it.
 *
 * <p>The lock is a POSIX record lock, which a process drops when it closes <em>any</em> descriptor of the file (the
 * migrations' connection, for one). So it is taken in two steps: {@link #reserve} before the store opens anything
 * (a second store in this JVM is refused there, by {@link #HELD}, before it could open and close the file), and
 * {@link #lock} once the store's connections are open, which then stay open until the store closes. A second
 * process that opens the file in between is refused by whichever of the two locks second. For the same reason no
 * other code of the process should open the file while the store has it (it would drop this lock on close).
 */
final class DatabaseFileLock implements AutoCloseable {
    static final long POSITION = 1L << 62;
    /** The files (by file key: device and inode) locked by stores of this JVM. */
    private static final Set<Object> HELD = ConcurrentHashMap.newKeySet();

    private final Path dbFile;
    private final Object key;
    private FileChannel channel;
    private FileLock lock;

    private DatabaseFileLock(Path dbFile, Object key) {
        this.dbFile = dbFile;
        this.key = key;
    }

    /** Claims {@code dbFile} within this JVM, creating it if needed; refused if a store of this JVM has it. */
    static DatabaseFileLock reserve(Path dbFile) {
        Object key;
        try {
            try {
                Files.createFile(dbFile); // SQLite takes an empty file as a new database
            } catch (FileAlreadyExistsException exists) {
                // the usual case
            }
            Object fileKey = Files.readAttributes(dbFile, BasicFileAttributes.class).fileKey();
            key = fileKey != null ? fileKey : dbFile.toRealPath().toString();
        } catch (IOException e) {
            throw new StoreException("cannot open " + dbFile + ": " + e, e);
        }
        if (!HELD.add(key)) {
            throw inUse(dbFile, "store in this process");
        }
        return new DatabaseFileLock(dbFile, key);
    }

    /** Takes the OS lock; refused if another process has it. Call once the store's connections are open. */
    void lock() {
        FileChannel opened = null;
        try {
            opened = FileChannel.open(dbFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock taken;
            try {
                taken = opened.tryLock(POSITION, 1, false);
            } catch (OverlappingFileLockException e) {
                throw inUse(dbFile, "user in this process");
            }
            if (taken == null) {
                throw inUse(dbFile, "process, although its lock file " + StoreLock.lockFileOf(dbFile).getFileName()
                        + " was free (deleted or replaced?)");
            }
            channel = opened;
            lock = taken;
        } catch (IOException | RuntimeException e) {
            if (opened != null) {
                try {
                    opened.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            if (e instanceof IOException io) {
                throw new StoreException("cannot lock " + dbFile + ": " + io, io);
            }
            throw (RuntimeException) e;
        }
    }

    private static StoreException inUse(Path dbFile, String holder) {
        return new StoreException(dbFile + " is in use by another Hourglass " + holder + "; a database file is "
                + "opened by one process at a time");
    }

    /** Releases the OS lock (if taken) and the claim within this JVM. */
    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.release();
            }
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing left to release
        } finally {
            HELD.remove(key);
        }
    }
}
