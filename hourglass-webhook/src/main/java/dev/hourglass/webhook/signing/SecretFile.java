package dev.hourglass.webhook.signing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The generated webhook secret of a single-node server, kept in its data directory ({@value #NAME}, mode 600) so
 * that a restart signs with the same secret and receivers keep accepting deliveries. Created on the first start
 * without a configured secret; read on every later one.
 */
public final class SecretFile {
    public static final String NAME = "webhook-secret";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** The secret, where it is kept, and whether this start created it (then it is shown once). */
    public record Loaded(SigningSecret secret, Path file, boolean created) {}

    private SecretFile() {}

    /**
     * Reads {@code dir/webhook-secret}, or creates it with a new secret when there is none. The caller owns the
     * directory (the server holds the SQLite store's exclusive lock), so no other process creates it meanwhile.
     *
     * @throws IOException when the file cannot be read or written
     * @throws IllegalArgumentException when the file does not hold a {@code whsec_} secret
     */
    public static Loaded loadOrCreate(Path dir) throws IOException {
        Path file = dir.resolve(NAME).toAbsolutePath();
        if (Files.exists(file)) {
            return new Loaded(read(file), file, false);
        }
        SigningSecret secret = SigningSecret.generate();
        // Written to a private temporary file, then moved into place: the secret is never readable by others, not
        // even for a moment, and a crash never leaves a half-written file behind.
        Path tmp = Files.createTempFile(dir, NAME, ".tmp", ownerOnly(dir));
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                out.write(ByteBuffer.wrap((secret.encoded() + "\n").getBytes(StandardCharsets.US_ASCII)));
                out.force(true); // on disk before it is shown: a crash must not lose a secret already handed out
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return new Loaded(secret, file, true);
    }

    private static SigningSecret read(Path file) throws IOException {
        try {
            return SigningSecret.parse(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static FileAttribute<?>[] ownerOnly(Path dir) {
        return dir.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
    }
}
