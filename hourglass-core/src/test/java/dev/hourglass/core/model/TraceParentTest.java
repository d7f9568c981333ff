package dev.hourglass.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceParentTest {
    private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void readsTheIdsAndFlagsOfAVersion00Header() {
        TraceParent parent = TraceParent.parse(VALID).orElseThrow();

        assertThat(parent.header()).isEqualTo(VALID);
        assertThat(parent.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(parent.parentId()).isEqualTo("00f067aa0ba902b7");
        assertThat(parent.flags()).isEqualTo("01");
        assertThat(parent.sampled()).isTrue();
        assertThat(TraceParent.parse(VALID.replace("-01", "-00")).orElseThrow().sampled()).isFalse();
    }

    @Test
    void optionalWhitespaceAroundTheFieldValueIsNotPartOfIt() {
        assertThat(TraceParent.parse(" " + VALID + "\t").orElseThrow().header()).isEqualTo(VALID);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // no flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // too long
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", // a later version, run on past its fields
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // a later version, too short
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // the forbidden version
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // not hex
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // wrong separator
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
    })
    void anInvalidHeaderIsNoContext(String header) {
        assertThat(TraceParent.parse(header)).isEmpty();
        assertThatThrownBy(() -> new TraceParent(header)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a W3C traceparent");
    }

    @Test
    void aLaterVersionIsReadAsVersion00AndKeptAsIt() {
        assertThat(TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .hasValue(new TraceParent(VALID));
        assertThat(TraceParent.parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-later"))
                .hasValue(new TraceParent(VALID));
        assertThatThrownBy(() -> new TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .as("the value itself is version 00").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noHeaderIsNoContext() {
        assertThat(TraceParent.parse(null)).isEmpty();
    }
}
