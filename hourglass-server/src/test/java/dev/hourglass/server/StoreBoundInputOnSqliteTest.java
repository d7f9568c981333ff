package dev.hourglass.server;

import java.nio.file.Path;

/** {@link StoreBoundInputContract} on the default server: a SQLite file. */
class StoreBoundInputOnSqliteTest extends StoreBoundInputContract {
    @Override
    protected ServerConfig config(Path dir) {
        return ServerFixture.config(dir);
    }
}
