package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every numeric field of every endpoint, sent numbers it cannot represent (exponents of nine digits, both signs,
 * numbers of thousands of digits): each answer is a 400 naming the field, within a bound far below what scaling
 * such a number costs, and nothing is stored or changed.
 */
class NumericFieldsTest {
    private static final String TARGET = "\"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\"}";
    private static final Duration BOUND = Duration.ofSeconds(2);

    /** Numbers no field accepts: huge and tiny exponents, long digit strings (beyond the parser's limit, too). */
    static final List<String> ABSURD = List.of("1e-30000000", "1e999999999", "-1e-999999999", "-1e999999999",
            "1e400", "1e-400", "1E+2147483647", "0.1e-2147483647", "9".repeat(900), "-" + "9".repeat(900),
            "9".repeat(5_000), "0." + "0".repeat(5_000) + "1", "1" + "0".repeat(950) + "e-999999999");

    @TempDir
    static Path dir;

    /** The longest request line the server reads ({@code docs/api.md}, 414 {@code uri-too-long}). */
    private static final int MAX_REQUEST_LINE = 4096;

    private static ServerFixture api;
    private static String jobId;
    private static String dueAt;
    /** The jobs the tests meant to create (the one to reschedule, and those a test accepts on purpose). */
    private static int created = 1;

    @BeforeAll
    static void start() {
        api = ServerFixture.start(dir);
        JsonNode job = api.schedule("{\"delaySeconds\": 3600, " + TARGET + "}");
        jobId = job.get("id").asText();
        dueAt = job.get("dueAt").asText();
        assertThat(api.post("/v1/admin/tenants", "{\"name\": \"acme\"}", bearer(ADMIN_KEY)).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @AfterEach
    void nothingChanged() {
        assertThat(api.allJobs()).hasSize(created);
        assertThat(api.get("/v1/jobs/" + jobId).json().get("dueAt").asText()).isEqualTo(dueAt);
        JsonNode tenants = api.get("/v1/admin/tenants", bearer(ADMIN_KEY)).json().get("tenants");
        assertThat(tenants.findValuesAsText("name")).containsExactlyInAnyOrder("default", "acme");
        JsonNode acme = api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY)).json();
        assertThat(acme.get("weight").asInt()).isEqualTo(1);
        assertThat(acme.get("quotas").get("maxDelaySeconds").asLong()).isEqualTo(315_360_000L);
        assertThat(acme.get("targets").get("raiseAt").asDouble()).isEqualTo(0.5);
        assertThat(acme.get("targets").get("autoPauseAfterSeconds").asLong()).isEqualTo(1_800);
    }

    /** A request template with {@code N} where the number goes, and the field it is refused on. */
    record Case(String field, String method, String path, String template) {}

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        String schedule = "/v1/jobs";
        cases.add(new Case("delaySeconds", "POST", schedule, "{\"delaySeconds\": N, " + TARGET + "}"));
        cases.add(new Case("runAt", "POST", schedule, "{\"runAt\": N, " + TARGET + "}"));
        cases.add(new Case("maxAttempts", "POST", schedule, "{\"delaySeconds\": 5, \"maxAttempts\": N, " + TARGET
                + "}"));
        cases.add(new Case("timeoutSeconds", "POST", schedule, "{\"delaySeconds\": 5, \"timeoutSeconds\": N, "
                + TARGET + "}"));
        cases.add(new Case("backoff.initialSeconds", "POST", schedule, "{\"delaySeconds\": 5, \"backoff\": "
                + "{\"initialSeconds\": N, \"maxSeconds\": 1}, " + TARGET + "}"));
        cases.add(new Case("backoff.maxSeconds", "POST", schedule, "{\"delaySeconds\": 5, \"backoff\": "
                + "{\"initialSeconds\": 1, \"maxSeconds\": N}, " + TARGET + "}"));
        cases.add(new Case("delaySeconds", "RESCHEDULE", null, "{\"delaySeconds\": N}"));
        cases.add(new Case("runAt", "RESCHEDULE", null, "{\"runAt\": N}"));
        cases.add(new Case("limit", "GET", "/v1/jobs?limit=", "N"));
        cases.add(new Case("weight", "POST", "/v1/admin/tenants", "{\"name\": \"evil\", \"weight\": N}"));
        cases.add(new Case("weight", "PATCH", "/v1/admin/tenants/acme", "{\"weight\": N}"));
        for (String quota : List.of("maxPendingJobs", "schedulesPerSecond", "scheduleBurst", "maxPayloadBytes",
                "maxDelaySeconds", "maxInFlight")) {
            cases.add(new Case("quotas." + quota, "POST", "/v1/admin/tenants", "{\"name\": \"evil\", \"quotas\": {\""
                    + quota + "\": N}}"));
            cases.add(new Case("quotas." + quota, "PATCH", "/v1/admin/tenants/acme", "{\"quotas\": {\"" + quota
                    + "\": N}}"));
        }
        for (String setting : List.of("raiseAt", "clearAt", "minAttempts", "consecutiveFailures",
                "autoPauseAfterSeconds")) {
            cases.add(new Case("targets." + setting, "POST", "/v1/admin/tenants", "{\"name\": \"evil\", "
                    + "\"targets\": {\"" + setting + "\": N}}"));
            cases.add(new Case("targets." + setting, "PATCH", "/v1/admin/tenants/acme", "{\"targets\": {\""
                    + setting + "\": N}}"));
        }
        return cases;
    }

    static Stream<Arguments> everyFieldWithEveryAbsurdNumber() {
        return cases().stream().flatMap(c -> ABSURD.stream().map(n -> Arguments.of(c, n)));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("everyFieldWithEveryAbsurdNumber")
    void isRefusedNamingTheFieldInBoundedTime(Case c, String number) {
        String body = c.template().replace("N", number);
        Response r = timed(() -> switch (c.method()) {
            case "GET" -> api.get(c.path() + body);
            case "PATCH" -> api.patch(c.path(), body, bearer(ADMIN_KEY));
            case "RESCHEDULE" -> api.post("/v1/jobs/" + jobId + "/reschedule", body);
            default -> c.path().startsWith("/v1/admin") ? api.post(c.path(), body, bearer(ADMIN_KEY))
                    : api.post(c.path(), body);
        });
        if (c.method().equals("GET") && (c.path() + body).length() > MAX_REQUEST_LINE) {
            // A query that long never reaches the API: the HTTP server refuses the request line first.
            BadInputTest.assertFieldProblem(r, 414, "path");
        } else {
            BadInputTest.assertFieldProblem(r, 400, c.field());
        }
    }

    @Test
    void numbersInsideThePayloadAreKeptAsWrittenWithoutArithmetic() {
        String payload = "{\"tiny\": 1e-999999999, \"huge\": 1e999999999, \"long\": " + "7".repeat(900) + "}";
        Response r = timed(() -> api.post("/v1/jobs", "{\"delaySeconds\": 60, " + TARGET + ", \"payload\": "
                + payload + "}"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        created++;
        String id = r.json().get("id").asText();
        String stored = timed(() -> api.get("/v1/jobs/" + id)).body();
        assertThat(stored).containsIgnoringCase("1e-999999999").containsIgnoringCase("1e+999999999")
                .contains("7".repeat(900));
    }

    @Test
    void aBackoffWithinRangeIsRoundedUpToWholeMilliseconds() {
        Response r = api.post("/v1/jobs", "{\"delaySeconds\": 60, \"backoff\": {\"initialSeconds\": 0.0015, "
                + "\"maxSeconds\": 86400.000}, " + TARGET + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        created++;
    }

    private static <T> T timed(Supplier<T> call) {
        long start = System.nanoTime();
        T result = call.get();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("answer time").isLessThan(BOUND);
        return result;
    }
}
