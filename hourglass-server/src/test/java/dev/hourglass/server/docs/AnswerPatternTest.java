package dev.hourglass.server.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules by which a doc's answer is compared with the server's: each one can tell a wrong answer. */
class AnswerPatternTest {
    private static final String JOB = "{\"id\":\"019ac1f2-aaaa-7bbb-8ccc-0123456789ab\",\"state\":\"SCHEDULED\","
            + "\"dueAt\":\"2026-12-06T21:00:00.123Z\",\"attempts\":0,\"payload\":{\"amount\":19.90}}";

    private final Map<String, String> placeholders = new HashMap<>();

    private List<String> match(String pattern, String actual) throws IOException {
        return AnswerPattern.match(AnswerPattern.parse(pattern), AnswerPattern.JSON.readTree(actual), placeholders);
    }

    @Test
    void fieldsShownMustMatchAndAnEllipsisAllowsTheOthers() throws IOException {
        assertThat(match("{\"state\":\"SCHEDULED\",…}", JOB)).isEmpty();
        assertThat(match("{\"state\":\"CANCELLED\",…}", JOB)).singleElement().asString()
                .startsWith("$.state: expected \"CANCELLED\"");
        assertThat(match("{\"status\":\"SCHEDULED\",…}", JOB)).singleElement().asString()
                .startsWith("$.status: missing");
    }

    @Test
    void withoutAnEllipsisTheFieldsShownAreAllTheFields() throws IOException {
        assertThat(match("{\"id\":\"…\",\"state\":\"SCHEDULED\",\"dueAt\":\"…\",\"attempts\":0}", JOB))
                .singleElement().asString().startsWith("$.payload: not shown in the docs");
    }

    @Test
    void severalEllipsesInOneObjectAndInNestedOnes() throws IOException {
        assertThat(match("{…,\"attempts\":0,…,\"payload\":{…}}", JOB)).isEmpty();
    }

    @Test
    void aQuotedEllipsisIsAnyValueButNullABareOneAnything() throws IOException {
        assertThat(match("{\"revokedAt\":\"…\"}", "{\"revokedAt\":\"2026-12-06T21:00:00Z\"}")).isEmpty();
        assertThat(match("{\"revokedAt\":\"…\"}", "{\"revokedAt\":null}")).isNotEmpty();
        assertThat(match("{\"nextCursor\":…}", "{\"nextCursor\":null}")).isEmpty();
        assertThat(match("{\"nextCursor\":…}", "{}")).as("the field must be there").isNotEmpty();
    }

    @Test
    void numbersMatchDigitForDigit() throws IOException {
        assertThat(match("{…,\"payload\":{\"amount\":19.90}}", JOB)).isEmpty();
        assertThat(match("{…,\"payload\":{\"amount\":19.9}}", JOB)).isNotEmpty();
    }

    @Test
    void idsAndTimesMatchByShape() throws IOException {
        assertThat(match("{…,\"dueAt\":\"2030-01-01T00:00:00.000Z\"}", JOB)).isEmpty();
        assertThat(match("{…,\"dueAt\":\"2030-01-01T00:00:00Z\"}", JOB)).as("three fraction digits").isNotEmpty();
        assertThat(AnswerPattern.shape("/v1/jobs/0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30").matcher(
                "/v1/jobs/019ac1f2-aaaa-7bbb-8ccc-0123456789ab").matches()).isTrue();
        assertThat(AnswerPattern.shape("/v1/jobs/0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30").matcher(
                "/v1/jobs/42").matches()).isFalse();
    }

    @Test
    void aPlaceholderTakesTheAnswersValueAndKeepsIt() throws IOException {
        assertThat(match("{\"id\":\"019ac1f2-…\",…}", JOB)).isEmpty();
        assertThat(placeholders).containsEntry("019ac1f2-…", "019ac1f2-aaaa-7bbb-8ccc-0123456789ab");
        assertThat(match("{\"id\":\"019ac1f2-…\",…}", "{\"id\":\"0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30\"}"))
                .singleElement().asString().contains("stood for 019ac1f2-aaaa-7bbb-8ccc-0123456789ab earlier");
    }

    @Test
    void anIdWrittenOutIsAPlaceholderToo() throws IOException {
        assertThat(match("{\"id\":\"0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30\",…}", JOB)).isEmpty();
        assertThat(placeholders).containsEntry("0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30",
                "019ac1f2-aaaa-7bbb-8ccc-0123456789ab");
        assertThat(match("{\"id\":\"0193a8f2-5c1e-7b3a-9d4f-2e8c1a6b7f30\"}", "{\"id\":\"42\"}")).isNotEmpty();
    }

    @Test
    void arraysMatchElementByElementOrByTheirStart() throws IOException {
        JsonNode page = AnswerPattern.JSON.readTree("{\"jobs\":[{\"id\":\"a\"},{\"id\":\"b\"}]}");
        assertThat(AnswerPattern.match(AnswerPattern.parse("{\"jobs\":[…]}"), page, placeholders)).isEmpty();
        assertThat(AnswerPattern.match(AnswerPattern.parse("{\"jobs\":[{\"id\":\"a\"},…]}"), page, placeholders))
                .isEmpty();
        assertThat(AnswerPattern.match(AnswerPattern.parse("{\"jobs\":[{\"id\":\"a\"}]}"), page, placeholders))
                .singleElement().asString().startsWith("$.jobs: expected 1 elements");
    }

    @Test
    void aPatternThatIsNotJsonIsRefused() {
        assertThatThrownBy(() -> AnswerPattern.parse("{…job…}")).isInstanceOf(IllegalArgumentException.class);
    }
}
