package dev.hourglass.store.sqlite;

import dev.hourglass.core.store.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive claim of one process on a store file: an OS lock on {@code <file>.lock} and one on the database file
 * itself ({@link DatabaseFileLock}), both held for the lifetime of the store. The lock file names the holder's pid;
 * the database file's lock is what a deleted or replaced lock file cannot take away. SQLite's own locking only serialises transactions; this lock makes the store {@code exclusive()}, so
 * a node opening it may take over every claim left in the file without waiting for leases to expire. The OS drops
 * the lock when the process dies, so a {@code kill -9} never leaves a stale lock behind. The holder writes its pid
 * into the file so that the error seen by a second process names it.
 *
 * <p>The lock file is never deleted: deleting it would let a third process lock a fresh file while the second
 * one still holds (a lock on) the old, unlinked one.
 */
final class StoreLock implements AutoCloseable {
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;
    private final DatabaseFileLock databaseLock;

    private StoreLock(Path lockFile, FileChannel channel, FileLock lock, DatabaseFileLock databaseLock) {
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
        this.databaseLock = databaseLock;
    }

    static Path lockFileOf(Path dbFile) {
        return dbFile.resolveSibling(dbFile.getFileName() + ".lock");
    }

    static StoreLock acquire(Path dbFile) {
        Path lockFile = lockFileOf(dbFile);
        FileChannel channel;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StoreException("cannot open the lock file " + lockFile + ": " + e, e);
        }
        try {
            FileLock lock;
            boolean inThisProcess = false;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
                inThisProcess = true;
            }
            if (lock == null) {
                String holder = readHolder(channel);
                channel.close();
                throw new StoreException(dbFile + " is in use by another Hourglass "
                        + (inThisProcess ? "store in this process" : "process") + " (pid " + holder + ")");
            }
            DatabaseFileLock databaseLock;
            try {
                databaseLock = DatabaseFileLock.reserve(dbFile);
            } catch (RuntimeException e) {
                lock.release();
                channel.close();
                throw e;
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            try {
                channel.truncate(0);
                channel.write(ByteBuffer.wrap(pid), 0);
            } catch (IOException e) {
                databaseLock.close();
                throw e;
            }
            return new StoreLock(lockFile, channel, lock, databaseLock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new StoreException("cannot lock " + lockFile + ": " + e, e);
        }
    }

    private static String readHolder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).trim();
            return text.isEmpty() ? "unknown" : text;
        } catch (IOException e) {
            return "unknown"; // some systems do not let anyone read a locked region
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** Takes the OS lock on the database file itself: once the store's connections are open (see DatabaseFileLock). */
    void lockDatabase() {
        databaseLock.lock();
    }

    Path file() {
        return lockFile;
    }

    @Override
    public void close() {
        databaseLock.close();
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        } finally {
            closeQuietly(channel);
        }
    }
}
