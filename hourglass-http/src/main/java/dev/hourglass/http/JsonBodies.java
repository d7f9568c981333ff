package dev.hourglass.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * Reads a request body that must be one JSON object. A body that breaks a parsing limit (a number longer than
 * {@link #MAX_NUMBER_LENGTH} characters, nesting deeper than Jackson allows, an exponent beyond an int) is refused
 * naming the field where the parser stopped, so a client learns which value to fix, as for any other rule.
 */
final class JsonBodies {
    /** The longest number (digits, sign, point and exponent) a body may contain; Jackson's default, made explicit. */
    static final int MAX_NUMBER_LENGTH = 1_000;

    private JsonBodies() {}

    static ObjectNode object(ObjectMapper json, byte[] body) {
        JsonNode node;
        try (JsonParser parser = json.createParser(body)) {
            try {
                node = json.readTree(parser);
            } catch (StreamConstraintsException e) {
                throw ApiProblem.invalid(path(parser.getParsingContext()), "is beyond a parsing limit: "
                        + e.getOriginalMessage()).exception();
            } catch (NumberFormatException e) {
                // Jackson lets this escape for a number whose exponent overflows an int (0.1e-2147483647).
                throw ApiProblem.invalid(path(parser.getParsingContext()), "must be a number with an exponent "
                        + "that fits in 32 bits").exception();
            } catch (JsonProcessingException e) {
                JsonLocation at = e.getLocation();
                String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
                throw ApiProblem.invalid("body", "must be valid JSON: " + e.getOriginalMessage() + where)
                        .exception();
            }
        } catch (IOException e) {
            throw ApiProblem.invalid("body", "could not be read").exception();
        }
        if (node == null || node.isMissingNode()) {
            throw ApiProblem.invalid("body", "must be a JSON object; the body is empty").exception();
        }
        if (!(node instanceof ObjectNode object)) {
            throw ApiProblem.invalid("body", "must be a JSON object, was a JSON "
                    + node.getNodeType().name().toLowerCase(Locale.ROOT)).exception();
        }
        return object;
    }

    /** The JSON path of a parsing context as fields are named in errors: {@code backoff.initialSeconds}. */
    static String path(JsonStreamContext context) {
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                parts.addFirst(c.getCurrentName());
            } else if (c.inArray()) {
                parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            }
        }
        String path = String.join(".", parts).replace(".[", "[");
        return path.isEmpty() ? "body" : path;
    }
}
