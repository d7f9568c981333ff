package dev.hourglass.server.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.hourglass.http.OpenApiContract;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/api.md and the OpenAPI contract say the same: the same calls, the error statuses the reference's table lists
 * for a call are answers the contract describes for it, and the same problem types.
 */
class ContractDocsTest {
    private static final Pattern CALL = Pattern.compile("`(GET|POST|PATCH|DELETE|PUT) (/[^`?\\s]*)[^`]*`");
    private static final Pattern PROBLEM_ROW = Pattern.compile("^\\| `(\\d{3})` \\| (`[a-z-]+`(?:, `[a-z-]+`)*) \\|");

    private static String api;
    private static JsonNode contract;

    @BeforeAll
    static void read() throws IOException {
        api = Files.readString(Path.of("../docs/api.md"));
        try (InputStream in = OpenApiContract.class.getResourceAsStream(OpenApiContract.RESOURCE)) {
            contract = new YAMLMapper().readTree(in);
        }
    }

    @Test
    void everyCallOfTheContractIsDocumentedAndEveryDocumentedCallIsInTheContract() {
        Set<String> documented = new TreeSet<>();
        Matcher m = CALL.matcher(api);
        while (m.find()) {
            documented.add(m.group(1) + " " + m.group(2));
        }
        Set<String> described = new TreeSet<>();
        contract.get("paths").properties().forEach(path -> path.getValue().properties().stream()
                .filter(op -> Set.of("get", "post", "patch", "delete", "put").contains(op.getKey()))
                .forEach(op -> described.add(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey())));

        assertThat(documented).as("calls docs/api.md names").containsAll(described);
        assertThat(described).as("calls the contract describes").containsAll(documented);
    }

    /** A row may name two calls (a list and a read) with their errors together: each error is one of them. */
    @Test
    void theErrorsTheCallTableListsAreAnswersTheContractDescribes() {
        List<String> missing = new ArrayList<>();
        api.lines().filter(line -> line.startsWith("| [`")).forEach(row -> {
            String[] cells = row.split("\\|");
            List<JsonNode> responses = new ArrayList<>();
            Matcher calls = CALL.matcher(cells[1]);
            while (calls.find()) {
                responses.add(contract.path("paths").path(calls.group(2)).path(calls.group(1).toLowerCase(Locale.ROOT))
                        .path("responses"));
            }
            for (String status : cells[3].split(",")) {
                String s = status.strip();
                if (s.matches("\\d{3}") && responses.stream().noneMatch(r -> r.has(s))) {
                    missing.add(cells[1].strip() + " " + s);
                }
            }
        });
        assertThat(missing).as("statuses docs/api.md lists that the contract does not describe").isEmpty();
    }

    @Test
    void theProblemTypesAreTheSame() {
        Set<String> documented = new TreeSet<>();
        api.lines().map(PROBLEM_ROW::matcher).filter(Matcher::find).forEach(m -> {
            for (String slug : m.group(2).split(",")) {
                documented.add("urn:hourglass:problem:" + slug.strip().replace("`", ""));
            }
        });
        Set<String> described = new TreeSet<>();
        contract.at("/components/schemas/ProblemType/oneOf").forEach(type -> described.add(type.get("const")
                .asText()));

        assertThat(documented).isEqualTo(described);
    }
}
