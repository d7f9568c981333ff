package dev.hourglass.webhook.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretFileTest {
    @TempDir
    Path dir;

    @Test
    void createsAnOwnerOnlyFileOnceAndReadsItAfterwards() throws Exception {
        SecretFile.Loaded first = SecretFile.loadOrCreate(dir);
        assertThat(first.created()).isTrue();
        assertThat(first.file()).isEqualTo(dir.resolve("webhook-secret").toAbsolutePath());
        assertThat(Files.getPosixFilePermissions(first.file())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(first.file())).isEqualTo(first.secret().encoded() + "\n");
        try (var files = Files.list(dir)) {
            assertThat(files).as("no temporary file left").containsExactly(first.file());
        }

        SecretFile.Loaded again = SecretFile.loadOrCreate(dir);
        assertThat(again.created()).isFalse();
        assertThat(again.secret()).isEqualTo(first.secret());
    }

    @Test
    void aFileThatHoldsNoSecretIsRefusedNamingTheFile() throws Exception {
        Files.writeString(dir.resolve("webhook-secret"), "not a secret\n");
        assertThatThrownBy(() -> SecretFile.loadOrCreate(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("webhook-secret").hasMessageContaining("whsec_");
    }
}
