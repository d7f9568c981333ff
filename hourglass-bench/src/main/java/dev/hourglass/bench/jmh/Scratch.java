package dev.hourglass.bench.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A scratch directory for a benchmark's store, under {@code java.io.tmpdir}: a forked JMH JVM has no other way to
 * learn where to write, and a benchmark must not find the previous trial's file.
 */
final class Scratch {
    private Scratch() {}

    static Path create(String name) {
        try {
            return Files.createTempDirectory("hourglass-jmh-" + name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a scratch directory left behind is not worth failing a benchmark for
        }
    }
}
