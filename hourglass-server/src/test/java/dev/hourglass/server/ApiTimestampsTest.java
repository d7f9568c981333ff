package dev.hourglass.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every timestamp the HTTP API writes is RFC 3339 in UTC with exactly three fraction digits, on a create as on a
 * later read of the same thing: the same instant is the same text, so clients may compare timestamps as strings.
 */
class ApiTimestampsTest {
    /** {@code 2026-11-26T17:00:00.000Z}: UTC, exactly three fraction digits. */
    private static final String RFC3339_MILLIS = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z";

    @TempDir
    Path dir;

    @Test
    void adminAnswersCarryMillisecondTimestampsOnCreateReadUpdateAndKeyChanges() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            Response created = api.post("/v1/admin/tenants", "{\"name\": \"acme\"}", bearer(ADMIN_KEY));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            JsonNode c = created.json();
            assertTimestamps(c, "createdAt", "updatedAt");
            assertTimestamps(c.get("keys").get(0), "createdAt");

            JsonNode shown = api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY)).json();
            assertTimestamps(shown, "createdAt", "updatedAt");
            assertThat(shown.get("createdAt")).as("a create and a read say the same").isEqualTo(c.get("createdAt"));
            assertThat(shown.get("updatedAt")).isEqualTo(c.get("updatedAt"));
            assertThat(shown.get("keys").get(0).get("createdAt")).isEqualTo(c.get("keys").get(0).get("createdAt"));

            JsonNode listed = api.get("/v1/admin/tenants", bearer(ADMIN_KEY)).json().get("tenants");
            listed.forEach(t -> assertTimestamps(t, "createdAt", "updatedAt"));

            Response patched = api.patch("/v1/admin/tenants/acme", "{\"weight\": 2}", bearer(ADMIN_KEY));
            assertThat(patched.status()).as(patched.body()).isEqualTo(200);
            assertTimestamps(patched.json(), "createdAt", "updatedAt");
            assertThat(patched.json().get("createdAt")).isEqualTo(c.get("createdAt"));
            assertThat(api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY)).json().get("updatedAt"))
                    .isEqualTo(patched.json().get("updatedAt"));

            Response added = api.post("/v1/admin/tenants/acme/keys", "", bearer(ADMIN_KEY));
            assertThat(added.status()).as(added.body()).isEqualTo(201);
            assertTimestamps(added.json(), "createdAt");
            assertThat(added.json().get("revokedAt").isNull()).isTrue();

            Response revoked = api.delete("/v1/admin/tenants/acme/keys/" + added.json().get("id").asText(),
                    bearer(ADMIN_KEY));
            assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
            assertTimestamps(revoked.json(), "createdAt", "revokedAt");
            assertThat(revoked.json().get("createdAt")).isEqualTo(added.json().get("createdAt"));
            JsonNode keyAfter = api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY)).json().get("keys").get(1);
            assertThat(keyAfter.get("revokedAt")).isEqualTo(revoked.json().get("revokedAt"));
        }
    }

    @Test
    void jobAnswersCarryMillisecondTimestampsOnScheduleReadAndList() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            JsonNode job = api.schedule("{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", "
                    + "\"url\": \"http://127.0.0.1:9/hook\"}}");
            assertTimestamps(job, "dueAt", "createdAt", "updatedAt");
            JsonNode read = api.get("/v1/jobs/" + job.get("id").asText()).json();
            assertTimestamps(read, "dueAt", "createdAt", "updatedAt");
            assertThat(read.get("dueAt")).isEqualTo(job.get("dueAt"));
            assertThat(read.get("createdAt")).isEqualTo(job.get("createdAt"));
            api.allJobs().forEach(j -> assertTimestamps(j, "dueAt", "createdAt", "updatedAt"));
        }
    }

    /** The API formats instants in one place; a {@code toString()} would print 0, 3, 6 or 9 fraction digits. */
    @Test
    void theHttpApiFormatsNoInstantByToString() {
        noClasses().that().resideInAPackage("dev.hourglass.http..")
                .should().callMethod(Instant.class, "toString")
                .orShould().callMethod(OffsetDateTime.class, "toString")
                .orShould().callMethod(ZonedDateTime.class, "toString")
                .because("every timestamp the API writes goes through dev.hourglass.core.time.Rfc3339.format")
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("dev.hourglass.http"));
    }

    private static void assertTimestamps(JsonNode node, String... fields) {
        for (String field : fields) {
            assertThat(node.get(field)).as("%s in %s", field, node).isNotNull();
            assertThat(node.get(field).asText()).as(field).matches(RFC3339_MILLIS);
        }
    }
}
