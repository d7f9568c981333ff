package dev.hourglass.recurring;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneRules;
import java.util.Optional;

/**
 * A cron expression in a time zone, mapped to instants under the daylight-saving rules of docs/recurring.md:
 *
 * <ul>
 *   <li><b>Fixed local times</b> (the hour field names hours: {@code 30 2 * * *}): a time in a spring gap runs once,
 *       later by the gap's length (02:30 becomes 03:30), or not at all with {@link DstGap#SKIP}; a time that occurs
 *       twice in an autumn overlap runs once, at its first occurrence. A shifted time that lands on another run of
 *       the schedule is the same run.
 *   <li><b>Elapsed time</b> (the hour field is {@code *} or a step: {@code *&#47;15 * * * *}): the expression matches
 *       the wall clock as it reads at each instant, so minutes in a gap do not exist and minutes in an overlap run in
 *       both offsets.
 * </ul>
 *
 * <p>How: the zone's offset is constant between two transitions, so within one such segment a local time maps to one
 * instant. {@link #nextAfter} walks the segments from the given instant onward and takes, in each, the first local
 * match after the instant (skipping second occurrences for fixed times) and, at a gap's transition, the first gap
 * time shifted past it; the earlier of the two is the answer. The search stops {@link #SEARCH_LIMIT} ahead.
 */
public record CronRecurrence(CronExpression cron, ZoneId zone, DstGap gap) implements Recurrence {
    /** How far ahead a next run is looked for: an expression that matches nothing in that time never matches. */
    public static final Duration SEARCH_LIMIT = Duration.ofDays(366L * 10);

    /**
     * Parses the expression and the IANA zone name.
     *
     * @throws InvalidScheduleException on field {@code cron} or {@code timezone}
     */
    public static CronRecurrence of(String cron, String timezone, DstGap gap) {
        CronExpression expression = CronParser.parse(cron);
        return new CronRecurrence(expression, zone(timezone), gap);
    }

    /** An IANA zone name (region based: {@code Europe/Amsterdam}); fixed offsets such as {@code +02:00} also pass. */
    public static ZoneId zone(String timezone) {
        if (timezone == null || timezone.isBlank()) {
            throw new InvalidScheduleException("timezone", "is required for a cron schedule: an IANA zone name such "
                    + "as Europe/Amsterdam or UTC");
        }
        try {
            return ZoneId.of(timezone.trim());
        } catch (DateTimeException e) {
            throw new InvalidScheduleException("timezone", "\"" + timezone + "\" is not a known IANA time zone (such "
                    + "as America/New_York or UTC)");
        }
    }

    @Override
    public Optional<Instant> nextAfter(Instant after) {
        ZoneRules rules = zone.getRules();
        Instant firstCandidate = after.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        Instant limit = after.plus(SEARCH_LIMIT);
        Instant segmentStart = after;
        // The transition that began the segment holding `after` (null before the zone's first one).
        ZoneOffsetTransition entry = rules.previousTransition(after.plusNanos(1));
        while (segmentStart.isBefore(limit)) {
            ZoneOffsetTransition exit = rules.nextTransition(segmentStart);
            Instant segmentEnd = exit == null || exit.getInstant().isAfter(limit) ? limit : exit.getInstant();
            ZoneOffset offset = rules.getOffset(segmentStart);
            Instant best = firstInSegment(offset, entry, max(segmentStart, firstCandidate), segmentEnd);
            Instant shifted = firstShiftedOutOfGap(entry, firstCandidate);
            if (shifted != null && (best == null || shifted.isBefore(best))) {
                best = shifted;
            }
            if (best != null) {
                return Optional.of(best);
            }
            if (segmentEnd.equals(limit)) {
                return Optional.empty();
            }
            segmentStart = segmentEnd;
            entry = exit;
        }
        return Optional.empty();
    }

    /** The first regular run in [from, end), all of which share {@code offset}. */
    private Instant firstInSegment(ZoneOffset offset, ZoneOffsetTransition entry, Instant from, Instant end) {
        if (!from.isBefore(end)) {
            return null;
        }
        LocalDateTime low = LocalDateTime.ofInstant(from, offset);
        LocalDateTime high = LocalDateTime.ofInstant(end, offset);
        if (cron.fixedHours() && entry != null && entry.isOverlap() && offset.equals(entry.getOffsetAfter())
                && low.isBefore(entry.getDateTimeBefore())) {
            // Local times before the overlap's end occurred once already, before the clocks went back.
            low = entry.getDateTimeBefore();
        }
        LocalDateTime match = cron.nextMatch(low, high);
        return match == null ? null : match.toInstant(offset);
    }

    /**
     * For fixed local times, the first time of the gap that {@code entry} opened whose shifted instant is at or after
     * {@code from}. The shifted instant of local time t is t read in the offset before the gap: it lies in
     * [transition, transition + gap), the start of the segment the gap opened.
     */
    private Instant firstShiftedOutOfGap(ZoneOffsetTransition entry, Instant from) {
        if (!cron.fixedHours() || gap != DstGap.SHIFT || entry == null || !entry.isGap()) {
            return null;
        }
        ZoneOffset before = entry.getOffsetBefore();
        LocalDateTime low = LocalDateTime.ofInstant(from, before);
        if (low.isBefore(entry.getDateTimeBefore())) {
            low = entry.getDateTimeBefore();
        }
        LocalDateTime match = cron.nextMatch(low, entry.getDateTimeAfter());
        return match == null ? null : match.toInstant(before);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
