package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A webhook URL that could never be delivered (the client would refuse it, or no connection could be made, at every
 * attempt) is refused when the job is scheduled: 400 on {@code target.url} naming the rule, nothing stored. URLs
 * at the edges of each rule are accepted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebhookUrlRulesTest {
    @TempDir
    static Path dir;
    private ServerFixture api;
    private int accepted;

    @BeforeAll
    void start() {
        api = ServerFixture.start(dir);
    }

    @AfterAll
    void stop() {
        api.close();
    }

    private Response schedule(String url) {
        String json = ServerFixture.JSON.getNodeFactory().textNode(url).toString();
        return api.post("/v1/jobs", "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": " + json
                + "}}");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "http://user:p%40ss@127.0.0.1:19050/ok          | user info",
        "http://user@127.0.0.1:19050/ok                 | user info",
        "http://@127.0.0.1:19050/ok                     | user info",
        "http://127.0.0.1:0/ok                          | port",
        "http://127.0.0.1:65536/ok                      | port",
        "http://127.0.0.1:99999/ok                      | port",
        "http://127.0.0.1:4294967297/ok                 | port",
        "ftp://127.0.0.1/ok                             | http",
        "ws://127.0.0.1/ok                              | http",
        "mailto:a@example.com                           | http",
        "/relative/path                                 | http",
        "http:///ok                                     | host",
        "http://:8080/ok                                | host",
        "http://exa_mple.com/ok                         | host",
        "http:example.com                               | host",
        "http://127.0.0.1:19050/ok#frag                 | fragment",
        "http://127.0.0.1:19050/ok#                     | fragment",
        "http://127.0.0.1:19050/%zz                     | valid URL",
        "http://127.0.0.1:19050/%4                      | valid URL",
        "http://127.0.0.1:19050/a b                     | ASCII",
        "http://127.0.0.1:19050/caf\u00e9                    | ASCII",
        "http://b\u00fccher.example/                         | ASCII"})
    void anUndeliverableUrlIsRefusedOnTargetUrl(String url, String rule) {
        JsonNode p = BadInputTest.assertFieldProblem(schedule(url), 400, "target.url");
        assertThat(p.get("detail").asText()).contains(rule);
        assertThat(api.allJobs()).hasSize(accepted);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x09, 0x0a, 0x1f, 0x7f, 0x85, 0xd800})
    void aControlOrNonAsciiCharacterIsRefused(int c) {
        String escaped = String.format("\\u%04x", c); // as a JSON escape: the server decodes it
        Response r = api.post("/v1/jobs", "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", "
                + "\"url\": \"http://127.0.0.1:19050/a" + escaped + "b\"}}");
        JsonNode p = BadInputTest.assertFieldProblem(r, 400, "target.url");
        assertThat(p.get("detail").asText()).contains("ASCII");
        assertThat(api.allJobs()).hasSize(accepted);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example/",
        "http://a..b/"})
    void aHostNameThatCanNeverResolveIsRefused(String url) {
        BadInputTest.assertFieldProblem(schedule(url), 400, "target.url");
        assertThat(api.allJobs()).hasSize(accepted);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"http://127.0.0.1:1/ok", "http://127.0.0.1:65535/ok", "HTTP://127.0.0.1/ok",
        "https://127.0.0.1:8443/ok?a=1&b=%20x", "http://localhost./ok", "http://[::1]:9/ok",
        "http://127.0.0.1:/ok"})
    void aUrlAtTheEdgeOfEveryRuleIsAccepted(String url) {
        Response r = schedule(url);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        accepted++;
        assertThat(r.json().get("target").get("url").asText()).isEqualTo(url);
    }
}
