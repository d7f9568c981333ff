package dev.hourglass.core.model;

import static dev.hourglass.core.model.JobState.CANCELLED;
import static dev.hourglass.core.model.JobState.FAILED;
import static dev.hourglass.core.model.JobState.RUNNING;
import static dev.hourglass.core.model.JobState.SCHEDULED;
import static dev.hourglass.core.model.JobState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JobStateTest {

    /** The whole table, written out once more by hand: any change to JobState must change this test too. */
    private static final Set<String> ALLOWED = Set.of(
            "SCHEDULED->RUNNING", "SCHEDULED->CANCELLED",
            "RUNNING->SUCCEEDED", "RUNNING->SCHEDULED", "RUNNING->FAILED", "RUNNING->CANCELLED",
            "FAILED->SCHEDULED");

    @ParameterizedTest
    @EnumSource(JobState.class)
    void everyPairIsAllowedOrRefusedExactlyAsTheTableSays(JobState from) {
        for (JobState to : JobState.values()) {
            boolean expected = ALLOWED.contains(from + "->" + to);
            assertThat(from.canMoveTo(to)).as(from + " -> " + to).isEqualTo(expected);
        }
    }

    @Test
    void noStateMovesToItself() {
        for (JobState s : JobState.values()) {
            assertThat(s.canMoveTo(s)).as(s.name()).isFalse();
        }
    }

    @Test
    void succeededAndCancelledAreFinalFailedCanBeRetriedByHand() {
        assertThat(SUCCEEDED.allowedNext()).isEmpty();
        assertThat(CANCELLED.allowedNext()).isEmpty();
        assertThat(FAILED.allowedNext()).containsExactly(SCHEDULED);
        assertThat(EnumSet.allOf(JobState.class)).filteredOn(JobState::isTerminal)
                .containsExactlyInAnyOrder(SUCCEEDED, FAILED, CANCELLED);
    }

    @Test
    void everyNamedTransitionIsInTheTable() {
        for (Transition t : Transition.values()) {
            assertThat(t.from().canMoveTo(t.to())).as(t.name()).isTrue();
        }
        assertThat(Transition.START.from()).isEqualTo(SCHEDULED);
        assertThat(Transition.START.to()).isEqualTo(RUNNING);
        assertThat(Transition.CANCEL.from()).isEqualTo(SCHEDULED);
    }

    @Test
    void finishingTransitionsStartFromRunning() {
        for (JobState to : EnumSet.of(SUCCEEDED, SCHEDULED, FAILED, CANCELLED)) {
            assertThat(Transition.finishingIn(to).from()).isEqualTo(RUNNING);
            assertThat(Transition.finishingIn(to).to()).isEqualTo(to);
        }
        assertThatThrownBy(() -> Transition.finishingIn(RUNNING)).isInstanceOf(IllegalArgumentException.class);
    }
}
