package dev.hourglass.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.server.StartupException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration file: a .properties file whose every key must be a setting, each given once. */
class ConfigFileTest {
    @TempDir
    Path dir;

    private Path write(String text) throws Exception {
        return Files.writeString(dir.resolve("hourglass.properties"), text, StandardCharsets.UTF_8);
    }

    @Test
    void readsKeysCommentsAndBothSeparators() throws Exception {
        ConfigFile file = ConfigFile.load(write("""
                # a comment
                ! another
                port = 8081
                lease-ttl: 12s
                node-id=nœud-1
                jdbc-url=
                """));
        assertThat(file.get("port")).isEqualTo("8081");
        assertThat(file.get("lease-ttl")).isEqualTo("12s");
        assertThat(file.get("node-id")).as("UTF-8").isEqualTo("nœud-1");
        assertThat(file.get("jdbc-url")).as("blank: not given").isNull();
        assertThat(file.get("horizon")).isNull();
    }

    @Test
    void anUnknownKeyIsAnErrorNamingItAndTheNearestKnownOne() throws Exception {
        Path path = write("port=8081\nlease-tll=12s\n");
        assertThatThrownBy(() -> ConfigFile.load(path)).isInstanceOf(StartupException.class)
                .hasMessage("config file " + path + ": unknown key 'lease-tll' (did you mean 'lease-ttl'?)");
    }

    @Test
    void aFlagOrAVariableNameAsKeyPointsToTheKey() throws Exception {
        assertThatThrownBy(() -> ConfigFile.load(write("HOURGLASS_PORT=8081\n")))
                .hasMessageEndingWith("unknown key 'HOURGLASS_PORT' (did you mean 'port'?)");
        assertThatThrownBy(() -> ConfigFile.load(write("--horizon=8s\n")))
                .hasMessageEndingWith("unknown key '--horizon' (did you mean 'horizon'?)");
    }

    @Test
    void anUnknownKeyFarFromEveryKnownOneSaysWhereTheKeysAre() throws Exception {
        assertThatThrownBy(() -> ConfigFile.load(write("colour=blue\n")))
                .hasMessageEndingWith("unknown key 'colour'; the keys are the options of 'hourglass server --help' "
                        + "without '--'");
    }

    @Test
    void theFileCannotNameItself() throws Exception {
        assertThatThrownBy(() -> ConfigFile.load(write("config=/etc/other.properties\n")))
                .hasMessageContaining("unknown key 'config'");
    }

    @Test
    void aKeyGivenTwiceIsAnError() throws Exception {
        Path path = write("port=8081\nport=8082\n");
        assertThatThrownBy(() -> ConfigFile.load(path)).isInstanceOf(StartupException.class)
                .hasMessage("config file " + path + ": key 'port' is given twice");
    }

    @Test
    void aMissingFileIsOneLine() {
        Path missing = dir.resolve("nope.properties");
        assertThatThrownBy(() -> ConfigFile.load(missing)).isInstanceOf(StartupException.class)
                .hasMessage("config file " + missing + " does not exist");
    }

    @Test
    void aFileThatIsNotUtf8IsOneLine() throws Exception {
        Path path = Files.write(dir.resolve("latin1.properties"), "node-id=n\u00e9\n".getBytes(
                StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> ConfigFile.load(path)).hasMessage("config file " + path + " is not UTF-8 text");
    }

    @Test
    void aSecretInAFileOthersMayReadIsFlagged() throws Exception {
        Path path = write("admin-key=0123456789abcdef0123456789abcdef\n");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(ConfigFile.load(path).secretsReadableByOthers()).isTrue();
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        assertThat(ConfigFile.load(path).secretsReadableByOthers()).isFalse();
        Path noSecret = write("port=1\n");
        Files.setPosixFilePermissions(noSecret, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(ConfigFile.load(noSecret).secretsReadableByOthers()).isFalse();
    }
}
