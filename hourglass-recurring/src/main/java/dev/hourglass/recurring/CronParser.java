package dev.hourglass.recurring;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.field.CronFieldName;
import com.cronutils.model.field.expression.Always;
import com.cronutils.model.field.expression.And;
import com.cronutils.model.field.expression.Between;
import com.cronutils.model.field.expression.Every;
import com.cronutils.model.field.expression.FieldExpression;
import com.cronutils.model.field.expression.On;
import com.cronutils.model.field.expression.QuestionMark;
import com.cronutils.model.field.value.FieldValue;
import com.cronutils.model.field.value.IntegerFieldValue;
import com.cronutils.model.field.value.SpecialChar;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads cron text into a {@link CronExpression}. cron-utils checks the syntax (fields, ranges, lists, steps, names,
 * {@code L}, {@code W}, {@code LW}, {@code #}, {@code ?}); this class expands the macros, counts the fields, finds
 * which field is wrong when cron-utils refuses the text, and turns its field tree into bit masks. Run times are never
 * taken from cron-utils: {@link CronRecurrence} computes them with {@code java.time}.
 */
public final class CronParser {
    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
    private static final List<String> FIELD_NAMES =
            List.of("second", "minute", "hour", "day-of-month", "month", "day-of-week");
    private static final com.cronutils.parser.CronParser FIVE_FIELDS =
            new com.cronutils.parser.CronParser(definition(false));
    private static final com.cronutils.parser.CronParser SIX_FIELDS =
            new com.cronutils.parser.CronParser(definition(true));

    private CronParser() {}

    /**
     * Parses five fields (minute hour day-of-month month day-of-week), six with a leading seconds field, or a macro
     * ({@code @hourly}, {@code @daily}, {@code @midnight}, {@code @weekly}, {@code @monthly}, {@code @yearly},
     * {@code @annually}).
     *
     * @throws InvalidScheduleException on field {@code cron}, naming the part that is wrong
     */
    public static CronExpression parse(String text) {
        if (text == null || text.isBlank()) {
            throw invalid("is required: five fields (minute hour day-of-month month day-of-week), six with a leading "
                    + "seconds field, or a macro such as @daily");
        }
        String trimmed = text.trim();
        String expanded = trimmed.startsWith("@") ? macro(trimmed) : trimmed;
        String[] parts = expanded.split("\\s+");
        if (parts.length != 5 && parts.length != 6) {
            throw invalid("has " + parts.length + " fields; expected 5 (minute hour day-of-month month day-of-week) or "
                    + "6 with a leading seconds field");
        }
        boolean withSeconds = parts.length == 6;
        Cron cron;
        try {
            cron = (withSeconds ? SIX_FIELDS : FIVE_FIELDS).parse(String.join(" ", parts));
        } catch (IllegalArgumentException e) {
            throw invalid(locate(parts, withSeconds, e));
        }
        long seconds = withSeconds ? mask(cron, CronFieldName.SECOND, 0, 59, parts[0]) : 1L;
        int offset = withSeconds ? 1 : 0;
        FieldExpression hour = cron.retrieve(CronFieldName.HOUR).getExpression();
        return new CronExpression(trimmed, seconds,
                mask(cron, CronFieldName.MINUTE, 0, 59, parts[offset]),
                mask(cron, CronFieldName.HOUR, 0, 23, parts[offset + 1]),
                daysOfMonth(cron.retrieve(CronFieldName.DAY_OF_MONTH).getExpression(), parts[offset + 2]),
                mask(cron, CronFieldName.MONTH, 1, 12, parts[offset + 3]),
                daysOfWeek(cron.retrieve(CronFieldName.DAY_OF_WEEK).getExpression(), parts[offset + 4]),
                !(hour instanceof Always || hour instanceof Every));
    }

    private static String macro(String text) {
        String expansion = MACROS.get(text.toLowerCase(Locale.ROOT));
        if (expansion == null) {
            throw invalid("unknown macro \"" + text + "\"; known: @hourly, @daily, @midnight, @weekly, @monthly, "
                    + "@yearly, @annually");
        }
        return expansion;
    }

    /** Which field cron-utils refused: the first whose replacement by {@code *} makes the text parse. */
    private static String locate(String[] parts, boolean withSeconds, IllegalArgumentException error) {
        String reason = reason(error);
        for (int i = 0; i < parts.length; i++) {
            String[] trial = parts.clone();
            trial[i] = "*";
            try {
                (withSeconds ? SIX_FIELDS : FIVE_FIELDS).parse(String.join(" ", trial));
                String name = FIELD_NAMES.get(withSeconds ? i : i + 1);
                return "the " + name + " field \"" + parts[i] + "\" is invalid" + (reason.isEmpty() ? "" : ": " + reason);
            } catch (IllegalArgumentException stillWrong) {
                // Not this field alone.
            }
        }
        return "\"" + String.join(" ", parts) + "\" is invalid" + (reason.isEmpty() ? "" : ": " + reason);
    }

    private static String reason(IllegalArgumentException error) {
        String message = error.getMessage() == null ? "" : error.getMessage();
        String cause = error.getCause() == null || error.getCause().getMessage() == null
                ? "" : error.getCause().getMessage();
        String text = cause.isEmpty() ? message : cause;
        return text.replace("Failed to parse cron expression. ", "").replace("Failed to parse '", "'").strip();
    }

    private static long mask(Cron cron, CronFieldName name, int min, int max, String part) {
        return mask(cron.retrieve(name).getExpression(), min, max, fieldName(name), part);
    }

    private static long mask(FieldExpression expression, int min, int max, String field, String part) {
        if (expression instanceof Always || expression instanceof QuestionMark) {
            return range(min, max, 1);
        }
        if (expression instanceof And and) {
            long mask = 0;
            for (FieldExpression each : and.getExpressions()) {
                mask |= mask(each, min, max, field, part);
            }
            return mask;
        }
        if (expression instanceof On on && on.getSpecialChar().getValue() == SpecialChar.NONE) {
            return 1L << within(value(on.getTime(), field, part), min, max, field, part);
        }
        if (expression instanceof Between between) {
            int from = within(value(between.getFrom(), field, part), min, max, field, part);
            int to = within(value(between.getTo(), field, part), min, max, field, part);
            if (from > to) {
                throw invalid("the " + field + " field \"" + part + "\" has a range that runs backwards (" + from + "-"
                        + to + ")");
            }
            return range(from, to, 1);
        }
        if (expression instanceof Every every) {
            int step = every.getPeriod().getValue();
            if (step <= 0) {
                throw invalid("the " + field + " field \"" + part + "\" has a step of " + step + "; steps start at 1");
            }
            FieldExpression base = every.getExpression();
            if (base instanceof Always || base instanceof QuestionMark || base == null) {
                return range(min, max, step);
            }
            if (base instanceof On on && on.getSpecialChar().getValue() == SpecialChar.NONE) {
                return range(within(value(on.getTime(), field, part), min, max, field, part), max, step);
            }
            if (base instanceof Between between) {
                int from = within(value(between.getFrom(), field, part), min, max, field, part);
                int to = within(value(between.getTo(), field, part), min, max, field, part);
                return range(from, to, step);
            }
        }
        throw invalid("the " + field + " field \"" + part + "\" uses a form this field does not take");
    }

    private static DaysOfMonth daysOfMonth(FieldExpression expression, String part) {
        if (expression instanceof Always || expression instanceof QuestionMark) {
            return new DaysOfMonth(0, 0, 0, false, false);
        }
        long days = 0;
        long fromLast = 0;
        long nearest = 0;
        boolean lastWeekday = false;
        for (FieldExpression each : flatten(expression)) {
            if (each instanceof On on && on.getSpecialChar().getValue() != SpecialChar.NONE) {
                switch (on.getSpecialChar().getValue()) {
                    case L -> {
                        // L, or L-n: n days before the last (cron-utils puts n in nth).
                        int before = on.getNth() == null || on.getNth().getValue() < 0 ? 0 : on.getNth().getValue();
                        fromLast |= 1L << within(before, 0, 30, "day-of-month", part);
                    }
                    case LW -> lastWeekday = true;
                    case W -> nearest |= 1L << within(value(on.getTime(), "day-of-month", part), 1, 31,
                            "day-of-month", part);
                    default -> throw invalid("the day-of-month field \"" + part + "\" uses "
                            + on.getSpecialChar().getValue() + ", which this field does not take");
                }
            } else {
                days |= mask(each, 1, 31, "day-of-month", part);
            }
        }
        return new DaysOfMonth(days, fromLast, nearest, lastWeekday, true);
    }

    private static DaysOfWeek daysOfWeek(FieldExpression expression, String part) {
        if (expression instanceof Always || expression instanceof QuestionMark) {
            return new DaysOfWeek(0, 0, 0, false);
        }
        long days = 0;
        int lastInMonth = 0;
        long nth = 0;
        for (FieldExpression each : flatten(expression)) {
            if (each instanceof On on && on.getSpecialChar().getValue() != SpecialChar.NONE) {
                if (on.getTime() == null || on.getTime().getValue() < 0) {
                    throw invalid("the day-of-week field \"" + part + "\" has L without a day; write 5L for the "
                            + "month's last Friday, or 6 for every Saturday");
                }
                int day = within(value(on.getTime(), "day-of-week", part), 0, 7, "day-of-week", part) % 7;
                switch (on.getSpecialChar().getValue()) {
                    case L -> lastInMonth |= 1 << day;
                    case HASH -> {
                        int n = on.getNth() == null ? 0 : on.getNth().getValue();
                        if (n < 1 || n > 5) {
                            throw invalid("the day-of-week field \"" + part + "\" asks for occurrence " + n
                                    + " of a day in a month; it must be 1-5");
                        }
                        nth |= 1L << (day * 5 + n - 1);
                    }
                    default -> throw invalid("the day-of-week field \"" + part + "\" uses "
                            + on.getSpecialChar().getValue() + ", which this field does not take");
                }
            } else {
                days |= mask(each, 0, 7, "day-of-week", part);
            }
        }
        // 7 is Sunday as well as 0.
        if ((days & (1L << 7)) != 0) {
            days = (days & ~(1L << 7)) | 1L;
        }
        return new DaysOfWeek((int) days, lastInMonth, nth, true);
    }

    private static List<FieldExpression> flatten(FieldExpression expression) {
        return expression instanceof And and ? and.getExpressions() : List.of(expression);
    }

    private static int value(FieldValue<?> value, String field, String part) {
        if (value instanceof IntegerFieldValue integer) {
            return integer.getValue();
        }
        throw invalid("the " + field + " field \"" + part + "\" has \"" + value + "\" where a number belongs");
    }

    private static int within(int value, int min, int max, String field, String part) {
        if (value < min || value > max) {
            throw invalid("the " + field + " field \"" + part + "\" has " + value + ", outside " + min + "-" + max);
        }
        return value;
    }

    private static long range(int from, int to, int step) {
        long mask = 0;
        for (int v = from; v <= to; v += step) {
            mask |= 1L << v;
        }
        return mask;
    }

    private static String fieldName(CronFieldName name) {
        return switch (name) {
            case SECOND -> "second";
            case MINUTE -> "minute";
            case HOUR -> "hour";
            case DAY_OF_MONTH -> "day-of-month";
            case MONTH -> "month";
            case DAY_OF_WEEK -> "day-of-week";
            default -> name.name().toLowerCase(Locale.ROOT);
        };
    }

    private static InvalidScheduleException invalid(String rule) {
        return new InvalidScheduleException("cron", rule);
    }

    private static CronDefinition definition(boolean withSeconds) {
        CronDefinitionBuilder builder = CronDefinitionBuilder.defineCron();
        if (withSeconds) {
            builder = builder.withSeconds().withValidRange(0, 59).withStrictRange().and();
        }
        return builder
                .withMinutes().withValidRange(0, 59).withStrictRange().and()
                .withHours().withValidRange(0, 23).withStrictRange().and()
                .withDayOfMonth().withValidRange(1, 31).supportsL().supportsW().supportsLW().supportsQuestionMark()
                .and()
                .withMonth().withValidRange(1, 12).withStrictRange().and()
                .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).supportsHash().supportsL()
                .supportsQuestionMark().and()
                .instance();
    }
}
