package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpHeaders;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The contract check itself: it passes what the contract describes and fails what it does not. */
class ApiContractTest {
    private static final String ID = "0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30";
    private static final String JOB = """
            {"id":"%s","state":"SCHEDULED","dueAt":"2030-11-26T17:00:00.000Z",
             "createdAt":"2026-11-26T16:58:03.412Z","updatedAt":"2026-11-26T16:58:03.412Z","attempts":0,
             "maxAttempts":8,"target":{"type":"webhook","url":"https://example.com/hook"},"payload":null}
            """.formatted(ID);
    private static final String WRONG_STATE = """
            {"type":"urn:hourglass:problem:wrong-state","title":"Job not scheduled","status":409,
             "detail":"job is CANCELLED","jobId":"%s","state":"CANCELLED"}""".formatted(ID);

    @Test
    void passesWhatTheContractDescribes() {
        assertThatCode(() -> ApiContract.check("POST", "/v1/jobs", 201,
                headers("Content-Type", "application/json", "Location", "/v1/jobs/" + ID), JOB))
                .doesNotThrowAnyException();
        assertThatCode(() -> ApiContract.check("DELETE", "/v1/jobs/" + ID, 409,
                headers("Content-Type", "application/problem+json"), WRONG_STATE)).doesNotThrowAnyException();
        assertThatCode(() -> ApiContract.check("GET", "/v2/nothing", 404, headers("Content-Type",
                "application/problem+json"), problem("not-found", 404))).doesNotThrowAnyException();
    }

    @Test
    void failsABodyThatBreaksItsSchema() {
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs/" + ID, 200,
                headers("Content-Type", "application/json"), JOB.replace("\"attempts\":0", "\"attempts\":-1")))
                .isInstanceOf(AssertionError.class).hasMessageContaining("attempts");
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs/" + ID, 200,
                headers("Content-Type", "application/json"), JOB.replace("\"payload\":null", "\"extra\":1")))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void failsAMissingRequiredHeader() {
        assertThatThrownBy(() -> ApiContract.check("POST", "/v1/jobs", 201,
                headers("Content-Type", "application/json"), JOB))
                .isInstanceOf(AssertionError.class).hasMessageContaining("Location");
        assertThatThrownBy(() -> ApiContract.check("GET", "/readyz", 503, headers("Content-Type",
                "application/problem+json", "Retry-After", "soon"), problem("store-unavailable", 503)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("Retry-After");
    }

    @Test
    void failsAStatusOrProblemTypeTheOperationDoesNotList() {
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs/" + ID, 418,
                headers("Content-Type", "application/problem+json"), problem("not-found", 418)))
                .isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs/" + ID, 404,
                headers("Content-Type", "application/problem+json"), problem("not-found", 404)))
                .as("a job path answers job-not-found, not not-found").isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs/" + ID, 500,
                headers("Content-Type", "application/problem+json"), problem("internal", 500)))
                .as("a 500 is never part of the contract").isInstanceOf(AssertionError.class);
    }

    @Test
    void failsAWrongMediaTypeAndAProblemWhoseStatusIsNotTheAnswers() {
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs?state=%zz", 400,
                headers("Content-Type", "text/html"), "<h1>URISyntaxException thrown</h1>"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("text/html");
        assertThatThrownBy(() -> ApiContract.check("GET", "/v1/jobs", 400, headers("Content-Type",
                "application/problem+json"), problem("invalid-request", 409)))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void anUnlistedMethodMayAnswerOnly405WithAllow() {
        assertThatCode(() -> ApiContract.check("PUT", "/v1/jobs", 405, headers("Content-Type",
                "application/problem+json", "Allow", "GET, POST"), problem("method-not-allowed", 405)))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> ApiContract.check("PUT", "/v1/jobs", 405, headers("Content-Type",
                "application/problem+json"), problem("method-not-allowed", 405)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("Allow");
        assertThatThrownBy(() -> ApiContract.check("PUT", "/v1/jobs", 200, headers("Content-Type",
                "application/json"), JOB)).isInstanceOf(AssertionError.class);
    }

    private static String problem(String slug, int status) {
        return "{\"type\":\"urn:hourglass:problem:" + slug + "\",\"title\":\"t\",\"status\":" + status
                + ",\"detail\":\"d\"}";
    }

    private static HttpHeaders headers(String... namesAndValues) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put(namesAndValues[i], List.of(namesAndValues[i + 1]));
        }
        return HttpHeaders.of(map, (name, value) -> true);
    }
}
