package dev.hourglass.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The API's OpenAPI 3.1 contract ({@code openapi.yaml} beside this class), served at {@value #PATH} as it is in the
 * jar. Tests validate every answer against the same file, so what is served is what the server is held to.
 */
public final class OpenApiContract {
    public static final String PATH = "/v1/openapi.yaml";
    public static final String RESOURCE = "openapi.yaml";
    static final String MEDIA_TYPE = "application/yaml";
    private static final byte[] YAML = load();

    private OpenApiContract() {}

    /** The contract's bytes (a copy). */
    public static byte[] yaml() {
        return YAML.clone();
    }

    private static byte[] load() {
        try (InputStream in = OpenApiContract.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the hourglass-http jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
