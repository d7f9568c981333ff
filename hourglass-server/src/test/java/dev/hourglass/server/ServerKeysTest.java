package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.tenancy.ApiKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A weak admin key (or a malformed default key) is refused at start, before the store opens, with one line that
 * names the variable and the rule and never the key.
 */
class ServerKeysTest {
    @TempDir
    Path dir;

    @Test
    void theFixtureKeysMeetTheRules() {
        assertThat(ServerFixture.ADMIN_KEY).hasSizeGreaterThanOrEqualTo(ServerKeys.MIN_ADMIN_KEY_LENGTH);
        assertThat(ServerFixture.API_KEY).hasSizeGreaterThanOrEqualTo(ApiKeys.MIN_PRESET_LENGTH);
        ServerFixture.KEYS.check("admin", "default"); // does not throw
    }

    @Test
    void anAdminKeyShorterThan32CharactersIsRefusedBeforeTheStoreOpens() {
        String weak = "x".repeat(ServerKeys.MIN_ADMIN_KEY_LENGTH - 1);
        assertThatThrownBy(() -> HourglassServer.start(ServerFixture.config(dir)
                .withKeys(new ServerKeys(weak, ServerFixture.API_KEY))))
                .isInstanceOf(StartupException.class)
                .hasMessageStartingWith("HOURGLASS_ADMIN_KEY: the admin key must be at least 32 characters")
                .hasMessageNotContaining(weak)
                .message().doesNotContain("\n");
        assertThat(Files.exists(dir.resolve(ServerConfig.STORE_FILE))).as("refused before the store opens").isFalse();
    }

    @Test
    void anAdminKeyWithCharactersABearerTokenCannotCarryIsRefused() {
        String spaced = "correct horse battery staple and more words";
        assertThatThrownBy(() -> HourglassServer.start(ServerFixture.config(dir)
                .withKeys(new ServerKeys(spaced, null))))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("HOURGLASS_ADMIN_KEY")
                .hasMessageNotContaining("horse");
    }

    @Test
    void anAdminKeyOf32CharactersOpensTheAdminApi() {
        String key = "0123456789abcdef0123456789abcdef";
        assertThat(key).hasSize(ServerKeys.MIN_ADMIN_KEY_LENGTH);
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir)
                .withKeys(new ServerKeys(key, ServerFixture.API_KEY)))) {
            assertThat(api.get("/v1/admin/tenants", bearer(key)).status()).isEqualTo(200);
        }
    }

    @Test
    void aTooShortDefaultApiKeyIsRefusedBeforeTheStoreOpens() {
        assertThatThrownBy(() -> HourglassServer.start(ServerFixture.config(dir)
                .withKeys(new ServerKeys(ServerFixture.ADMIN_KEY, "hgk_short"))))
                .isInstanceOf(StartupException.class)
                .hasMessageStartingWith("HOURGLASS_DEFAULT_API_KEY: an API key must be 22 to 256 characters")
                .hasMessageNotContaining("hgk_short");
        assertThat(Files.exists(dir.resolve(ServerConfig.STORE_FILE))).isFalse();
    }
}
