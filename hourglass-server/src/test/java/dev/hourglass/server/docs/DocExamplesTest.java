package dev.hourglass.server.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.server.ServerFixture;
import dev.hourglass.server.docs.DocExamples.Example;
import dev.hourglass.server.docs.DocExamples.Kind;
import dev.hourglass.server.docs.DocShell.Answer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code curl} and {@code bin/hourglass tenant} example of the README and of docs/api.md, run in document
 * order, as pasted, against one real server (a reader follows the README, then the API reference, on one server),
 * each answer checked against what the doc says it answers. The conventions the docs follow are in
 * {@link DocExamples} (what an example is, and how it says what it answers) and {@link AnswerPattern} (how an answer
 * is matched); what the test changes in an example before it runs it is in {@link DocShell}.
 *
 * <p>Each document starts with a fresh shell (its own variables and placeholders), as a reader who opens it alone.
 */
class DocExamplesTest {
    /** The documents, in the order a reader follows them. */
    static final List<String> DOCUMENTS = List.of("README.md", "docs/api.md");

    @TempDir
    static Path dir;

    private static ServerFixture server;
    private static DocShell shell;

    @BeforeAll
    static void start() throws IOException {
        // The queue connections the docs' examples name; their jobs are due in 2030, so nothing is published.
        server = ServerFixture.start(ServerFixture.config(dir.resolve("data")).withConnections(List.of(
                QueueConnection.parse("k=kafka://127.0.0.1:9092"),
                QueueConnection.parse("mq=amqp://guest:guest@127.0.0.1:5672"),
                QueueConnection.parse("n=nats://127.0.0.1:4222"),
                QueueConnection.parse("r=redis://127.0.0.1:6379/0"))));
        shell = new DocShell(Files.createDirectories(dir.resolve("reader")), server.server().baseUri(),
                Map.of("KEY", ServerFixture.API_KEY, "HOURGLASS_ADMIN_KEY", ServerFixture.ADMIN_KEY));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @TestFactory
    Stream<DynamicNode> everyExampleAnswersAsDocumented() throws IOException {
        Path root = projectRoot();
        List<DynamicNode> documents = new ArrayList<>();
        for (String document : DOCUMENTS) {
            List<String> lines = Files.readAllLines(root.resolve(document));
            List<Example> examples;
            try {
                examples = DocExamples.of(document, lines);
            } catch (DocExamples.DocError e) {
                documents.add(DynamicTest.dynamicTest(document + " follows the example conventions", () -> {
                    throw e;
                }));
                continue;
            }
            Map<String, String> placeholders = new HashMap<>();
            List<DynamicTest> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest(document + " has examples",
                    () -> assertThat(examples).as(document).anyMatch(e -> e.kind() == Kind.CURL)));
            for (Example example : examples) {
                tests.add(DynamicTest.dynamicTest(example.name(), () -> check(example, placeholders)));
            }
            documents.add(DynamicContainer.dynamicContainer(document, tests));
        }
        return documents.stream();
    }

    private static void check(Example example, Map<String, String> placeholders) {
        Answer answer = shell.run(example, placeholders);
        String context = example.name() + "\n--- ran:\n" + shell.script(example, placeholders)
                + "--- printed:\n" + answer.stdout() + "\n--- stderr:\n" + answer.stderr() + "\n";
        assertThat(answer.exitCode()).as(context + "exit code").isZero();
        if (example.kind() == Kind.CURL) {
            assertThat(answer.status()).as(context + "HTTP status").isEqualTo(example.expected().status());
        }
        example.expected().headers().forEach((name, value) -> assertThat(answer.headers().get(name))
                .as(context + "header " + name).matches(AnswerPattern.shape(value)));
        for (JsonNode body : example.expected().bodies()) {
            JsonNode actual;
            try {
                actual = AnswerPattern.JSON.readTree(answer.body());
            } catch (IOException e) {
                throw new AssertionError(context + "the answer is not JSON", e);
            }
            assertThat(AnswerPattern.match(body, actual, placeholders)).as(context + "answer vs docs").isEmpty();
        }
    }

    /** The directory with the README: the tests run in the module's directory, one below it. */
    static Path projectRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docs/api.md"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("no docs/api.md above " + Path.of("").toAbsolutePath()).isNotNull();
        return dir;
    }
}
