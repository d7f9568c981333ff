package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.http.ApiHandler;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one list answer may cost: a page ends early, with a cursor, when its jobs would exceed the byte budget;
 * payloads are in a page only when asked for ({@code include=payload}). On a real server and a real SQLite file,
 * with jobs whose payloads together are several budgets.
 */
class ListBoundsTest {
    /** A payload of about 200 KiB: 40 of them are twice the page budget. */
    static final int PAYLOAD_CHARS = 200 * 1024;
    static final int JOBS = 40;

    @TempDir
    Path dir;

    private ServerFixture api;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void start() {
        api = ServerFixture.start(dir);
        for (int i = 0; i < JOBS; i++) {
            ids.add(api.schedule(largeJob(i)).get("id").asText());
        }
    }

    @AfterEach
    void stop() {
        api.close();
    }

    /** A job due in an hour whose payload is {@code {"n": i, "data": "<PAYLOAD_CHARS letters>"}}. */
    static String largeJob(int i) {
        return "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\"},"
                + " \"payload\": " + payload(i) + "}";
    }

    static String payload(int i) {
        return "{\"n\":" + i + ",\"data\":\"" + String.valueOf((char) ('a' + i % 26)).repeat(PAYLOAD_CHARS) + "\"}";
    }

    @Test
    void pagesWithPayloadsEndEarlyWithinTheBudgetAndTheirCursorsReturnEveryJobOnce() throws Exception {
        List<String> seen = new ArrayList<>();
        int pages = 0;
        String cursor = null;
        do {
            Response r = api.get("/v1/jobs?limit=1000&include=payload" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(r.status()).as(r.body().length() > 500 ? r.body().substring(0, 500) : r.body()).isEqualTo(200);
            assertThat(r.contentType()).startsWith("application/json");
            assertThat((long) r.body().getBytes(StandardCharsets.UTF_8).length).as("page %d's size", pages)
                    .isLessThanOrEqualTo(ApiHandler.DEFAULT_MAX_PAGE_BYTES + 1024);
            JsonNode page = r.json();
            for (JsonNode job : page.get("jobs")) {
                String id = job.get("id").asText();
                int n = ids.indexOf(id);
                assertThat(n).as("a job of this test: %s", id).isNotNegative();
                assertThat(ServerFixture.JSON.writeValueAsString(job.get("payload")))
                        .as("the payload of job %d", n).isEqualTo(payload(n));
                seen.add(id);
            }
            JsonNode next = page.get("nextCursor");
            cursor = next.isNull() ? null : next.asText();
            if (cursor != null) {
                assertThat(page.get("jobs").size()).as("a page that ends early").isBetween(1, JOBS - 1);
                assertThat(cursor).isEqualTo(seen.getLast());
            }
            pages++;
        } while (cursor != null);

        assertThat(pages).as("the budget cut the list into several pages").isGreaterThanOrEqualTo(2);
        assertThat(seen).as("every job exactly once, in creation order").containsExactlyElementsOf(ids);
    }

    @Test
    void withoutIncludeAPageLeavesPayloadsOutAndIsNotCutByThem() {
        Response r = api.get("/v1/jobs?limit=1000");

        assertThat(r.status()).isEqualTo(200);
        JsonNode page = r.json();
        assertThat(page.get("nextCursor").isNull()).isTrue();
        List<String> listed = new ArrayList<>();
        for (JsonNode job : page.get("jobs")) {
            assertThat(job.has("payload")).as("payload field of %s", job.get("id")).isFalse();
            assertThat(job.get("target").get("url").asText()).isEqualTo("http://127.0.0.1:9/hook");
            listed.add(job.get("id").asText());
        }
        assertThat(listed).containsExactlyElementsOf(ids);
        assertThat(r.body().length()).as("no payload bytes").isLessThan(JOBS * 1024);

        // The job itself still carries its payload.
        Response one = api.get("/v1/jobs/" + ids.get(3));
        assertThat(one.json().get("payload").get("n").asInt()).isEqualTo(3);
    }

    @Test
    void aSmallLimitStillEndsAtTheLimitWithPayloads() {
        Response r = api.get("/v1/jobs?limit=2&include=payload");

        JsonNode page = r.json();
        assertThat(page.get("jobs")).hasSize(2);
        assertThat(page.get("jobs").get(1).get("payload").get("n").asInt()).isEqualTo(1);
        assertThat(page.get("nextCursor").asText()).isEqualTo(ids.get(1));
    }

    @Test
    void includeNamesOnlyThePayload() {
        for (String bad : List.of("include=target", "include=payload,target", "include=payload,",
                "include=PAYLOAD", "include=payload&include=payload")) {
            Response r = api.get("/v1/jobs?" + bad);
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.contentType()).as(bad).isEqualTo("application/problem+json");
            assertThat(r.json().get("errors").findValuesAsText("field")).as(bad).containsExactly("include");
        }
        Response empty = api.get("/v1/jobs?include=&limit=1");
        assertThat(empty.status()).as("an empty value means not given").isEqualTo(200);
        assertThat(empty.json().get("jobs").get(0).has("payload")).isFalse();
    }
}
