package dev.hourglass.recurring;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Over every zone the JDK knows and many random expressions, the runs {@link CronRecurrence} computes around a
 * daylight-saving change are exactly those a brute-force reading of the rules finds, minute by minute: strictly
 * increasing, each a match of the expression in its zone, none missing except as the gap rule says.
 */
class EveryZonePropertyTest {
    private static final String[] MINUTES = {"0", "30", "*/15", "0,45", "5-10", "*/7", "59"};
    private static final String[] HOURS = {"*", "*/2", "2", "1-3", "0,12", "23", "1", "0", "*/5", "0-4"};
    // "*" is weighted so that most windows hold runs; the special forms still come up hundreds of times.
    private static final String[] DAYS_OF_MONTH =
            {"*", "*", "*", "*", "*", "*", "1", "L", "L-2", "15W", "1-7", "LW", "2/3"};
    private static final String[] MONTHS = {"*", "*", "*", "*", "*", "3,4,10,11", "JAN-JUN", "SEP-DEC"};
    private static final String[] DAYS_OF_WEEK = {"*", "*", "*", "*", "*", "*", "MON-FRI", "SUN", "5L", "0#1",
        "SAT,SUN"};
    private static final Instant EARLIEST = Instant.parse("1980-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("2037-12-31T00:00:00Z");

    @Test
    void runsAroundTransitionsMatchABruteForceReadingOfTheRules() {
        Random random = new Random(20261207L);
        int checked = 0;
        int withRuns = 0;
        for (String zoneName : new TreeSet<>(ZoneId.getAvailableZoneIds())) {
            ZoneId zone = ZoneId.of(zoneName);
            List<ZoneOffsetTransition> transitions = transitionsBetween(zone.getRules(), EARLIEST, LATEST);
            for (int sample = 0; sample < 4; sample++) {
                String cron = String.join(" ", pick(random, MINUTES), pick(random, HOURS),
                        pick(random, DAYS_OF_MONTH), pick(random, MONTHS), pick(random, DAYS_OF_WEEK));
                DstGap gap = random.nextBoolean() ? DstGap.SHIFT : DstGap.SKIP;
                Instant centre = transitions.isEmpty()
                        ? EARLIEST.plus(Duration.ofDays(random.nextInt(20_000)))
                        : transitions.get(random.nextInt(transitions.size())).getInstant();
                Instant from = centre.minus(Duration.ofDays(2)).truncatedTo(ChronoUnit.HOURS);
                Instant to = centre.plus(Duration.ofDays(2));
                CronRecurrence recurrence = CronRecurrence.of(cron, zoneName, gap);
                List<Instant> actual = computed(recurrence, from, to);
                List<Instant> expected = bruteForce(recurrence, from, to);
                assertThat(actual).as("%s in %s (%s) around %s", cron, zoneName, gap, centre)
                        .isEqualTo(expected);
                checked++;
                if (!actual.isEmpty()) {
                    withRuns++;
                }
            }
        }
        assertThat(checked).isGreaterThan(2_000);
        assertThat(withRuns).as("samples with runs in their window, of " + checked).isGreaterThan(checked / 2);
    }

    private static List<Instant> computed(CronRecurrence recurrence, Instant from, Instant to) {
        List<Instant> runs = new ArrayList<>();
        Instant cursor = from.minusNanos(1);
        while (true) {
            Instant next = recurrence.nextAfter(cursor).orElse(Instant.MAX);
            if (!next.isBefore(to)) {
                return runs;
            }
            if (!runs.isEmpty()) {
                assertThat(next).isAfter(runs.getLast());
            }
            runs.add(next);
            cursor = next;
        }
    }

    /** Minute by minute: what the wall clock reads, which occurrence it is, and the gap's shifted times. */
    private static List<Instant> bruteForce(CronRecurrence recurrence, Instant from, Instant to) {
        ZoneRules rules = recurrence.zone().getRules();
        CronExpression cron = recurrence.cron();
        TreeSet<Instant> runs = new TreeSet<>();
        for (Instant t = from; t.isBefore(to); t = t.plusSeconds(60)) {
            LocalDateTime local = LocalDateTime.ofInstant(t, recurrence.zone());
            if (!cron.matches(local)) {
                continue;
            }
            ZoneOffset firstOccurrence = rules.getValidOffsets(local).getFirst();
            if (!cron.fixedHours() || rules.getOffset(t).equals(firstOccurrence)) {
                runs.add(t);
            }
        }
        if (cron.fixedHours() && recurrence.gap() == DstGap.SHIFT) {
            for (ZoneOffsetTransition transition : transitionsBetween(rules, from.minus(Duration.ofDays(2)), to)) {
                if (!transition.isGap()) {
                    continue;
                }
                for (LocalDateTime local = transition.getDateTimeBefore();
                        local.isBefore(transition.getDateTimeAfter()); local = local.plusMinutes(1)) {
                    Instant shifted = local.toInstant(transition.getOffsetBefore());
                    if (cron.matches(local) && !shifted.isBefore(from) && shifted.isBefore(to)) {
                        runs.add(shifted);
                    }
                }
            }
        }
        return new ArrayList<>(runs);
    }

    private static List<ZoneOffsetTransition> transitionsBetween(ZoneRules rules, Instant from, Instant to) {
        List<ZoneOffsetTransition> found = new ArrayList<>();
        ZoneOffsetTransition next = rules.nextTransition(from);
        while (next != null && next.getInstant().isBefore(to)) {
            found.add(next);
            next = rules.nextTransition(next.getInstant());
        }
        return found;
    }

    private static String pick(Random random, String[] choices) {
        return choices[random.nextInt(choices.length)];
    }
}
