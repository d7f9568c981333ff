package dev.hourglass.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WebhookUrlsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "http://u:p@example.com/        | user info",
        "http://example.com:0/          | port",
        "http://example.com:65536/      | port",
        "http://example.com:9999999999/ | port",
        "gopher://example.com/          | http",
        "http://example.com/#top        | fragment",
        "http://example.com/%g0         | valid URL",
        "http://exa mple.com/           | ASCII",
        "http:///x                      | host"})
    void namesTheRuleAUrlBreaks(String url, String rule) {
        WebhookUrls.Checked checked = WebhookUrls.check(url);
        assertThat(checked.ok()).isFalse();
        assertThat(checked.url()).isNull();
        assertThat(checked.refusal()).contains(rule);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://example.com", "https://EXAMPLE.com:443/a?b=c%20d", "http://[2001:db8::1]:8080/",
        "http://203.0.113.7:1/x", "http://example.com.:65535/"})
    void acceptsADeliverableUrl(String url) {
        WebhookUrls.Checked checked = WebhookUrls.check(url);
        assertThat(checked.ok()).as(checked.refusal()).isTrue();
        assertThat(checked.url().toString()).isEqualTo(url);
    }

    @Test
    void boundsTheLengthOfTheUrlAndOfItsHostName() {
        assertThat(WebhookUrls.check("http://example.com/" + "a".repeat(WebhookUrls.MAX_LENGTH)).refusal())
                .contains("2048");
        String longName = ("a".repeat(60) + ".").repeat(5) + "com";
        assertThat(WebhookUrls.check("http://" + longName + "/").refusal()).contains("253");
        assertThat(WebhookUrls.check("http://" + "a".repeat(64) + ".com/").refusal()).contains("63");
    }
}
