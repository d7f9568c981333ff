package dev.hourglass.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.StartupException;
import dev.hourglass.server.config.ResolvedSettings.Source;
import dev.hourglass.server.logging.LogFormat;
import dev.hourglass.server.logging.LogOptions;
import dev.hourglass.tenancy.TargetSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** Where each setting's value comes from, and how the values become a {@link ServerConfig}. */
class ServerSettingsTest {
    @TempDir
    Path dir;

    private Path file(String text) throws Exception {
        return Files.writeString(dir.resolve("hourglass-" + System.nanoTime() + ".properties"), text);
    }

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    /** Flag > env > file > default, for every setting that has all four (and env > file > default for the rest). */
    @TestFactory
    List<DynamicTest> everySettingTakesAFlagOverTheEnvOverTheFileOverTheDefault() {
        return Settings.ALL.stream().filter(s -> s.key() != null).map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            Path config = file(s.key() + "=from-file\n");
            Map<String, String> env = env(Settings.CONFIG.env(), config.toString(), s.env(), "from-env");
            Map<Setting, String> flags = s.flag() != null ? Map.of(s, "from-flag") : Map.of();

            if (s.flag() != null) {
                assertValue(ResolvedSettings.resolve(flags, env), s, "from-flag", Source.FLAG);
            }
            assertValue(ResolvedSettings.resolve(Map.of(), env), s, "from-env", Source.ENV);
            env.remove(s.env());
            assertValue(ResolvedSettings.resolve(Map.of(), env), s, "from-file", Source.FILE);
            env.remove(Settings.CONFIG.env());
            ResolvedSettings none = ResolvedSettings.resolve(Map.of(), env);
            assertValue(none, s, s.defaultValue(), s.defaultValue() != null ? Source.DEFAULT : Source.NONE);
        })).toList();
    }

    private static void assertValue(ResolvedSettings settings, Setting s, String text, Source source) {
        assertThat(settings.value(s).text()).as(s.name() + " from " + source).isEqualTo(text);
        assertThat(settings.value(s).source()).as(s.name()).isEqualTo(source);
    }

    @Test
    void aBlankValueCountsAsNotGivenAndTheNextSourceApplies() throws Exception {
        Path config = file("horizon=45s\n");
        ResolvedSettings s = ResolvedSettings.resolve(Map.of(Settings.HORIZON, " "),
                env(Settings.CONFIG.env(), config.toString(), "HOURGLASS_HORIZON", ""));
        assertValue(s, Settings.HORIZON, "45s", Source.FILE);
    }

    @Test
    void theConfigFlagWinsOverHourglassConfig() throws Exception {
        Path fromFlag = file("port=1111\n");
        Path fromEnv = file("port=2222\n");
        ResolvedSettings s = ResolvedSettings.resolve(Map.of(Settings.CONFIG, fromFlag.toString()),
                env("HOURGLASS_CONFIG", fromEnv.toString()));
        assertThat(s.text(Settings.PORT)).isEqualTo("1111");
        assertThat(s.file().path()).isEqualTo(fromFlag);
    }

    @Test
    void everyEngineSettingReachesTheEngineConfig() throws Exception {
        Path config = file("""
                node-id=node-7
                horizon=45s
                load-interval=500ms
                lease-ttl=PT3S
                max-timer-entries=1000
                max-in-flight=16
                commit-batch=100
                default-max-attempts=9
                default-backoff-initial=2s
                default-backoff-max=10m
                default-attempt-timeout=1m
                max-delay=30d
                max-payload-bytes=4096
                retention=2d
                shutdown-grace=0
                """);
        ServerConfig server = ServerSettings.toServerConfig(
                ResolvedSettings.resolve(Map.of(), env("HOURGLASS_CONFIG", config.toString())));
        assertThat(server.engine()).isEqualTo(new EngineConfig("node-7", Duration.ofSeconds(45),
                Duration.ofMillis(500), Duration.ofSeconds(3), 1000, 16, 100, 9,
                new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(10)), Duration.ofMinutes(1),
                Duration.ofDays(30), 4096, Duration.ofDays(2), Duration.ZERO));
    }

    @Test
    void withNothingGivenTheEngineHasTheLibraryDefaultsAndThisProcessNodeId() {
        ServerConfig server = ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(), Map.of()));
        assertThat(server.engine()).isEqualTo(EngineConfig.defaults(HourglassServer.defaultNodeId()));
        ServerConfig defaults = ServerConfig.defaults();
        assertThat(server.port()).isEqualTo(defaults.port());
        assertThat(server.bind()).isEqualTo(defaults.bind());
        assertThat(server.dataDir().normalize()).isEqualTo(defaults.dataDir());
        assertThat(server.maxBodyBytes()).isEqualTo(defaults.maxBodyBytes());
        assertThat(server.stopGrace()).isEqualTo(defaults.stopGrace());
        assertThat(server.storeTimeout()).isEqualTo(defaults.storeTimeout());
        assertThat(server.webhookConnectTimeout()).isEqualTo(defaults.webhookConnectTimeout());
        assertThat(server.postgres()).isNull();
    }

    @Test
    void everyServerAndPostgresSettingReachesTheServerConfig() throws Exception {
        Path config = file("""
                port=9090
                bind=0.0.0.0
                data=/var/lib/hourglass
                store=postgres
                jdbc-url=jdbc:postgresql://db:5432/app
                db-user=hourglass
                db-password=pw-from-file
                db-schema=jobs
                db-pool-size=12
                db-connect-timeout=2s
                db-socket-timeout=20s
                store-timeout=3s
                max-body-bytes=65536
                http-stop-grace=5s
                webhook-secret=whsec_0WcasmH8iDw+lQygKj54sVgujKPVrm4ikWvP9VQw2PA=
                webhook-allowlist=10.0.0.0/8
                webhook-connect-timeout=1s
                admin-key=0123456789abcdef0123456789abcdef
                default-api-key=hgk_0123456789abcdef0123456789
                """);
        ServerConfig server = ServerSettings.toServerConfig(
                ResolvedSettings.resolve(Map.of(), env("HOURGLASS_CONFIG", config.toString())));
        assertThat(server.port()).isEqualTo(9090);
        assertThat(server.bind()).isEqualTo("0.0.0.0");
        assertThat(server.dataDir()).isEqualTo(Path.of("/var/lib/hourglass"));
        assertThat(server.postgres().jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/app");
        assertThat(server.postgres().user()).isEqualTo("hourglass");
        assertThat(server.postgres().password()).isEqualTo("pw-from-file");
        assertThat(server.postgres().schema()).isEqualTo("jobs");
        assertThat(server.postgres().poolSize()).isEqualTo(12);
        assertThat(server.postgres().connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(server.postgres().socketTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(server.storeTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(server.maxBodyBytes()).isEqualTo(65536);
        assertThat(server.stopGrace()).isEqualTo(Duration.ofSeconds(5));
        assertThat(server.webhookSecrets()).hasSize(1);
        assertThat(server.webhookAllowlist().toString()).contains("10.0.0.0/8");
        assertThat(server.webhookConnectTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(server.keys().adminKey()).isEqualTo("0123456789abcdef0123456789abcdef");
        assertThat(server.keys().defaultApiKey()).isEqualTo("hgk_0123456789abcdef0123456789");
        server.validate();
    }

    @Test
    void errorsNameTheSettingAsItWasGiven() throws Exception {
        Path config = file("lease-ttl=soon\n");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_CONFIG", config.toString())))).isInstanceOf(StartupException.class)
                .hasMessage("lease-ttl in " + config + " must be " + DurationText.RULE + ", was 'soon'");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_LEASE_TTL", "-1s"))))
                .hasMessage("HOURGLASS_LEASE_TTL must be " + DurationText.RULE + ", was '-1s'");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                Map.of(Settings.MAX_IN_FLIGHT, "0"), Map.of())))
                .hasMessage("--max-in-flight must be an integer from 1 to 2147483647, was '0'");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                Map.of(Settings.HORIZON, "0s"), Map.of())))
                .hasMessage("--horizon must be a duration > 0, was '0s'");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                Map.of(Settings.STORE_TIMEOUT, "2d"), Map.of())))
                .hasMessage("--store-timeout must be a duration > 0 and at most 1d, was '2d'");
    }

    @Test
    void rulesSpanningSeveralSettingsNameTheOneTheyAreAbout() {
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                Map.of(Settings.LOAD_INTERVAL, "5s"), env("HOURGLASS_LEASE_TTL", "7s"))))
                .hasMessageStartingWith("HOURGLASS_LEASE_TTL: leaseTtl must be at least two load intervals");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                Map.of(Settings.HORIZON, "1s"), Map.of())))
                .hasMessageStartingWith("--load-interval: loadInterval must be shorter than horizon");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                Map.of(Settings.DEFAULT_BACKOFF_MAX, "500ms"), Map.of())))
                .hasMessageStartingWith("--default-backoff-max: backoff max must be >= initial");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(Settings.STORE,
                "postgres", Settings.JDBC_URL, "jdbc:postgresql://db/x", Settings.DB_POOL_SIZE, "2"), Map.of())))
                .hasMessage("--db-pool-size must be an integer from 3 to 1000, was '2'");
    }

    @Test
    void aSecretIsNeverInAnError() throws Exception {
        Path config = file("admin-key=hunter2\n");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_CONFIG", config.toString()))))
                .hasMessageStartingWith("admin-key in " + config + ": the admin key must be at least 32 characters")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_ADMIN_KEY", "hunter2"))))
                .hasMessageStartingWith("HOURGLASS_ADMIN_KEY: the admin key must be at least 32 characters");
    }

    /** docs/hourglass.properties, the example operators start from, is a file the server accepts. */
    @Test
    void theExampleConfigFileInDocsLoads() {
        Path example = Path.of("../docs/hourglass.properties");
        assertThat(example).exists();
        ResolvedSettings s = ResolvedSettings.resolve(Map.of(), env("HOURGLASS_CONFIG", example.toString()));
        ServerConfig config = ServerSettings.toServerConfig(s).validate();
        assertThat(s.file().values()).as("the example shows a value for every setting a file may hold")
                .containsOnlyKeys(Settings.BY_KEY.keySet().stream().filter(k -> !Settings.BY_KEY.get(k).secret())
                        .toList());
        assertThat(config.engine()).isNotNull();
    }

    @Test
    void theTargetSettingsAreTheDefaultsUnlessGivenAndAPauseIsWholeSecondsFromAMinuteToThirtyDays() {
        assertThat(ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(), Map.of())).targets())
                .isEqualTo(TargetSettings.DEFAULTS);

        ServerConfig config = ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(
                Settings.TARGET_AUTO_PAUSE, "true", Settings.TARGET_AUTO_PAUSE_AFTER, "2m"),
                env("HOURGLASS_OPERATIONS_WEBHOOK", "https://ops.example.com/hourglass")));
        assertThat(config.targets()).isEqualTo(TargetSettings.DEFAULTS.withAutoPause(true, 120)
                .withOperationsWebhook(URI.create("https://ops.example.com/hourglass")));
        assertThat(config.targets().policy().pauseAfter()).isEqualTo(Duration.ofMinutes(2));

        for (String after : List.of("59s", "2592000001ms", "31d", "90500ms")) {
            assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(
                    Map.of(Settings.TARGET_AUTO_PAUSE_AFTER, after), Map.of())))
                    .as(after).isInstanceOf(StartupException.class)
                    .hasMessageStartingWith("--target-auto-pause-after must be a whole number of seconds");
        }
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_OPERATIONS_WEBHOOK", "ftp://ops.example.com/x"))))
                .isInstanceOf(StartupException.class).hasMessageStartingWith("HOURGLASS_OPERATIONS_WEBHOOK must be");
    }

    @Test
    void theHttpServerSettingsReachTheConfigurationAndTlsNeedsBothFiles() throws Exception {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "not read here");
        Path key = Files.writeString(dir.resolve("key.pem"), "not read here");
        ServerConfig config = ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(
                Settings.MAX_HEADERS, "20", Settings.MAX_CONCURRENT_REQUESTS, "7", Settings.IDLE_TIMEOUT, "1500ms",
                Settings.TLS_CERT, cert.toString(), Settings.TLS_KEY, key.toString()), Map.of()));
        assertThat(config.http().maxHeaders()).isEqualTo(20);
        assertThat(config.http().maxConcurrentRequests()).isEqualTo(7);
        assertThat(config.http().idleTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.http().tls().privateKey()).isEqualTo(key);

        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(Settings.TLS_CERT,
                cert.toString()), Map.of()))).isInstanceOf(StartupException.class)
                .hasMessageContaining("--tls-cert").hasMessageContaining("--tls-key");
        assertThatThrownBy(() -> ServerSettings.toServerConfig(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_TLS_CERT", cert.toString(), "HOURGLASS_TLS_KEY", dir.resolve("none").toString()))))
                .isInstanceOf(StartupException.class).hasMessageContaining("none");
    }

    @Test
    void theLogSettingsAreTextWithoutAccessLogUnlessSaidOtherwiseAndRefuseOtherValues() throws Exception {
        assertThat(ServerSettings.logging(ResolvedSettings.resolve(Map.of(), Map.of())))
                .isEqualTo(new LogOptions(LogFormat.TEXT, false));
        assertThat(ServerSettings.logging(ResolvedSettings.resolve(Map.of(Settings.LOG_FORMAT, "json"),
                env("HOURGLASS_ACCESS_LOG", "true")))).isEqualTo(new LogOptions(LogFormat.JSON, true));
        assertThat(ServerSettings.logging(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_CONFIG", file("log-format=text\naccess-log=false\n").toString()))))
                .isEqualTo(new LogOptions(LogFormat.TEXT, false));

        assertThatThrownBy(() -> ServerSettings.logging(ResolvedSettings.resolve(Map.of(Settings.LOG_FORMAT, "xml"),
                Map.of()))).isInstanceOf(StartupException.class)
                .hasMessage("--log-format must be text or json, was 'xml'");
        assertThatThrownBy(() -> ServerSettings.logging(ResolvedSettings.resolve(Map.of(),
                env("HOURGLASS_ACCESS_LOG", "INFO")))).isInstanceOf(StartupException.class)
                .hasMessage("HOURGLASS_ACCESS_LOG must be true or false, was 'INFO'");
    }
}
