package dev.hourglass.server.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.docs.MarkdownFences.Fence;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's library section as someone embedding Hourglass uses it: its {@code ```java} blocks are taken from the
 * README (not copied into a test, where they could drift apart), compiled with the JDK's compiler for Java 21 against
 * the library modules only ({@code hourglass-core} and the stores, with their dependencies, without the server's
 * modules or its logging binding), and the complete example is run in a fresh JVM as its README paragraph says to run
 * it, in an empty directory. Its Maven coordinates must name modules of this build, at this version.
 */
class LibraryExampleTest {
    /** The modules an embedding project depends on (directly or through a store). */
    private static final Pattern LIBRARY_MODULE =
            Pattern.compile("hourglass-(core|store-jdbc|store-sqlite|store-postgres|recurring|schedules|queues)");
    private static final Pattern HOURGLASS_JAR = Pattern.compile("(hourglass-[a-z-]+?)-\\d.*\\.jar");
    /** What a fragment (a block that is not a whole source file) may use: it is compiled as a method's body. */
    private static final String FRAGMENT_IMPORTS = String.join("\n", "import java.math.BigDecimal;",
            "import java.sql.Connection;", "import java.sql.PreparedStatement;", "import javax.sql.DataSource;",
            "import dev.hourglass.core.api.Scheduling;", "import java.util.ArrayList;", "import java.util.List;");
    private static final String FRAGMENT_METHOD = "static void example(Hourglass hourglass, DataSource dataSource, "
            + "BigDecimal total, byte[] bytes) throws Exception";

    @TempDir
    Path dir;

    private static List<Fence> readme;
    private static String libraryClasspath;

    @BeforeAll
    static void read() throws IOException {
        readme = MarkdownFences.of(Files.readAllLines(DocExamplesTest.projectRoot().resolve("README.md")));
        String testClasspath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        libraryClasspath = Arrays.stream(testClasspath.split(File.pathSeparator))
                .filter(LibraryExampleTest::onALibraryUsersClasspath)
                .collect(Collectors.joining(File.pathSeparator));
    }

    @Test
    void theLibraryExampleCompilesAndRunsWithTheFlagsTheReadmeNames() throws Exception {
        String example = javaBlocks().getFirst();
        Matcher className = Pattern.compile("public class (\\w+)").matcher(example);
        assertThat(className.find()).as("the first java block of the README is a whole class:\n" + example).isTrue();
        Path classes = compile(className.group(1), example);

        Path app = Files.createDirectories(dir.resolve("app"));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                libraryClasspath + File.pathSeparator + classes, className.group(1)).directory(app.toFile()).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.errorReader()));
        String out = read(p.inputReader());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the example ends").isTrue();
        String stderr = err.join();

        assertThat(p.exitValue()).as(out + stderr).isZero();
        assertThat(out).as(stderr).containsPattern("(?m)^cancelled [0-9a-f-]{36}$").containsPattern("(?m)^CANCELLED$");
        assertThat(Files.exists(app.resolve("hourglass-data/hourglass.db"))).as("the store file").isTrue();
        assertThat(stderr).as("with the README's flag, no native-access warning").doesNotContain("restricted method")
                .as("without a logging binding, SLF4J says so, as the README tells").contains("No SLF4J providers")
                .as("and nothing else: the migrations log through SLF4J, not java.util.logging")
                .doesNotContain("flywaydb").doesNotContain("INFO");
    }

    @Test
    void theBatchExampleCompiles() throws IOException {
        compileFragment("Batch", javaBlocks().get(1));
    }

    @Test
    void theTransactionalEnqueueExampleCompiles() throws IOException {
        List<String> blocks = javaBlocks();
        assertThat(blocks).as("the README's java blocks").hasSize(5);
        compileFragment("TransactionalEnqueue", blocks.get(3));
    }

    /** Compiles {@code fragment} as a method's body, with the first block's imports and the fragments' own. */
    private void compileFragment(String className, String fragment) throws IOException {
        String imports = Pattern.compile("(?m)^import .*;$").matcher(javaBlocks().getFirst()).results()
                .map(m -> m.group()).collect(Collectors.joining("\n"));
        compile(className, imports + "\n" + FRAGMENT_IMPORTS + "\n\nclass " + className + " {\n    " + FRAGMENT_METHOD
                + " {\n" + fragment + "\n    }\n}\n");
    }

    @Test
    void theRecurringSchedulesExampleCompiles() throws IOException {
        String example = javaBlocks().get(2);
        Matcher className = Pattern.compile("public class (\\w+)").matcher(example);
        assertThat(className.find()).as("the recurring schedules block is a whole class:\n" + example).isTrue();
        compile(className.group(1), example);
    }

    @Test
    void theQueueTargetsExampleCompiles() throws IOException {
        String example = javaBlocks().get(4);
        Matcher className = Pattern.compile("public class (\\w+)").matcher(example);
        assertThat(className.find()).as("the queue targets block is a whole class:\n" + example).isTrue();
        compile(className.group(1), example);
    }

    @Test
    void theMavenCoordinatesAreModulesOfThisBuildAtItsVersion() throws IOException {
        Path root = DocExamplesTest.projectRoot();
        Matcher parent = Pattern.compile("<artifactId>hourglass-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(root.resolve("pom.xml")));
        assertThat(parent.find()).isTrue();
        String xml = readme.stream().filter(f -> f.language().equals("xml")).map(f -> String.join("\n", f.lines()))
                .findFirst().orElseThrow(() -> new AssertionError("no ```xml block in the README"));
        Matcher dependency = Pattern.compile("<groupId>([^<]+)</groupId>\\s*<artifactId>([^<]+)</artifactId>"
                + "[^<]*(?:<!--.*?-->)?\\s*<version>([^<]+)</version>").matcher(xml);
        List<String> artifacts = new ArrayList<>();
        while (dependency.find()) {
            assertThat(dependency.group(1)).isEqualTo("dev.hourglass");
            assertThat(root.resolve(dependency.group(2)).resolve("pom.xml")).as(dependency.group(2)).exists();
            assertThat(dependency.group(3)).as(dependency.group(2) + "'s version").isEqualTo(parent.group(1));
            artifacts.add(dependency.group(2));
        }
        assertThat(artifacts).containsExactly("hourglass-core", "hourglass-store-sqlite");
    }

    private static List<String> javaBlocks() {
        return readme.stream().filter(f -> f.language().equals("java")).map(f -> String.join("\n", f.lines()))
                .toList();
    }

    /** Compiles one source file for Java 21 against the library classpath; fails on any error. */
    private Path compile(String className, String source) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path out = Files.createDirectories(dir.resolve("classes"));
        Path file = Files.writeString(src.resolve(className + ".java"), source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter output = new StringWriter();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean compiled = javac.getTask(output, files, diagnostics,
                    List.of("--release", "21", "-Xlint:all", "-classpath", libraryClasspath, "-d", out.toString()),
                    null, files.getJavaFileObjects(file)).call();
            assertThat(compiled).as(source + "\n" + output + diagnostics.getDiagnostics()).isTrue();
        }
        return out;
    }

    /** Third-party jars (but no logging binding) and the library modules' classes: what an embedding project has. */
    private static boolean onALibraryUsersClasspath(String entry) {
        Path path = Path.of(entry);
        String name = path.getFileName().toString();
        if (name.startsWith("logback-")) {
            return false;
        }
        Matcher jar = HOURGLASS_JAR.matcher(name);
        if (jar.matches()) {
            return !name.endsWith("-tests.jar") && LIBRARY_MODULE.matcher(jar.group(1)).matches();
        }
        if (path.endsWith(Path.of("target", "classes")) || path.endsWith(Path.of("target", "test-classes"))) {
            return name.equals("classes")
                    && LIBRARY_MODULE.matcher(path.getParent().getParent().getFileName().toString()).matches();
        }
        return true;
    }

    private static String read(BufferedReader reader) {
        return reader.lines().collect(Collectors.joining("\n"));
    }
}
