package dev.hourglass.core.model;

import java.util.Objects;
import java.util.Optional;

/**
 * The W3C Trace Context of the call that scheduled a job: its {@code traceparent} header
 * (<a href="https://www.w3.org/TR/trace-context/#traceparent-header">W3C Trace Context, version 00</a>), kept with
 * the job so that every attempt, hours later, can continue the caller's trace. The engine treats it as an opaque,
 * validated value: it depends on no tracing library; the webhook handler and library handlers read it from
 * {@link dev.hourglass.core.api.JobContext#traceParent()}.
 *
 * <p>Invariant: {@code header} is exactly {@value #LENGTH} characters, {@code 00-<32 hex trace id>-<16 hex parent
 * id>-<2 hex flags>}, lower-case hex, neither id all zeros.
 *
 * @param header the {@code traceparent} header value
 */
public record TraceParent(String header) {
    /** The length of a version-00 {@code traceparent}. */
    public static final int LENGTH = 55;
    private static final int TRACE_ID_START = 3;
    private static final int PARENT_ID_START = 36;
    private static final int FLAGS_START = 53;

    /** @throws IllegalArgumentException when {@code header} is not a valid version-00 {@code traceparent} */
    public TraceParent {
        Objects.requireNonNull(header, "header");
        if (!valid(header)) {
            throw new IllegalArgumentException("not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>, ids not all "
                    + "zero): '" + printable(header) + "'");
        }
    }

    /**
     * The context of a {@code traceparent} header, or empty when it is absent or invalid. A receiver of an invalid
     * header must not fail the request (W3C Trace Context, "processing model"): it starts without a parent.
     * Surrounding blanks (optional whitespace of an HTTP field) are ignored.
     *
     * <p>A later version than {@code 00} (any but {@code ff}) is read as the specification asks of a version-00
     * parser: its first four fields as version 00's, when it is at least {@value #LENGTH} characters and whatever
     * follows them starts with {@code -}; it is kept as version {@code 00}.
     */
    public static Optional<TraceParent> parse(String header) {
        if (header == null) {
            return Optional.empty();
        }
        String value = header.strip();
        if (valid(value)) {
            return Optional.of(new TraceParent(value));
        }
        boolean laterVersion = value.length() >= LENGTH && hex(value, 0, 2) && !value.startsWith("00")
                && !value.startsWith("ff") && (value.length() == LENGTH || value.charAt(LENGTH) == '-');
        String asVersion00 = laterVersion ? "00" + value.substring(2, LENGTH) : null;
        return laterVersion && valid(asVersion00) ? Optional.of(new TraceParent(asVersion00)) : Optional.empty();
    }

    /** The 32 lower-case hex digits of the trace id. */
    public String traceId() {
        return header.substring(TRACE_ID_START, TRACE_ID_START + 32);
    }

    /** The 16 lower-case hex digits of the caller's span (the parent of what continues the trace). */
    public String parentId() {
        return header.substring(PARENT_ID_START, PARENT_ID_START + 16);
    }

    /** The 2 hex digits of the trace flags. */
    public String flags() {
        return header.substring(FLAGS_START);
    }

    /** The caller's sampling decision: the {@code sampled} flag (bit 0). */
    public boolean sampled() {
        return (Character.digit(header.charAt(FLAGS_START + 1), 16) & 1) == 1;
    }

    @Override
    public String toString() {
        return header;
    }

    private static boolean valid(String value) {
        return value.length() == LENGTH
                && value.startsWith("00-")
                && value.charAt(PARENT_ID_START - 1) == '-'
                && value.charAt(FLAGS_START - 1) == '-'
                && nonZeroHex(value, TRACE_ID_START, 32)
                && nonZeroHex(value, PARENT_ID_START, 16)
                && hex(value, FLAGS_START, 2);
    }

    private static boolean nonZeroHex(String value, int start, int length) {
        return hex(value, start, length) && !value.substring(start, start + length).chars().allMatch(c -> c == '0');
    }

    private static boolean hex(String value, int start, int length) {
        for (int i = start; i < start + length; i++) {
            char c = value.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** At most the first 60 characters, control characters shown as '?': an error message quotes it safely. */
    private static String printable(String value) {
        String head = value.length() > 60 ? value.substring(0, 60) + "..." : value;
        return head.chars().map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
