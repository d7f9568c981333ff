package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.http.OpenApiContract;
import dev.hourglass.server.ServerFixture.Response;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server serves its OpenAPI contract at {@code GET /v1/openapi.yaml}, to anyone, as the jar holds it. */
class OpenApiContractTest {
    @TempDir
    static Path dir;

    private static ServerFixture api;

    @BeforeAll
    static void start() {
        api = ServerFixture.start(dir);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void theContractIsServedAsYamlWithoutAKey() throws IOException {
        Response r = api.get(OpenApiContract.PATH, "Authorization", "");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/yaml");
        assertThat(r.body()).startsWith("openapi: 3.1.").contains("/v1/jobs:", "webhooks:", "securitySchemes:");
        try (InputStream in = OpenApiContract.class.getResourceAsStream(OpenApiContract.RESOURCE)) {
            assertThat(r.body()).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aKeyIsNotNeededButDoesNoHarm() {
        assertThat(api.get(OpenApiContract.PATH).status()).isEqualTo(200);
    }

    @Test
    void onlyGetIsAllowed() {
        Response r = api.post(OpenApiContract.PATH, "{}");

        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("Allow")).isEqualTo("GET");
        assertThat(r.contentType()).isEqualTo("application/problem+json");
    }
}
