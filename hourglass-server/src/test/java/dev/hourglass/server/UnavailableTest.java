package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.Claim;
import dev.hourglass.core.store.ClaimsOfParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.http.ApiHandler;
import dev.hourglass.http.ApiServer;
import dev.hourglass.http.HttpOptions;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.jdbc.SqlDialect;
import dev.hourglass.store.jdbc.SqlWork;
import dev.hourglass.store.sqlite.SqliteJobStore;
import dev.hourglass.webhook.WebhookHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the engine cannot take a job, the answer is 503 with Retry-After, and nothing is acknowledged. */
class UnavailableTest {
    private static final String JOB = "{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\","
            + " \"url\": \"http://127.0.0.1:9/hook\"}}";

    @TempDir
    Path dir;

    @Test
    void aStoreThatFailsWritesGives503AndStoresNothing() throws Exception {
        FailingStore store = new FailingStore(SqliteJobStore.open(dir.resolve("hourglass.db")));
        ApiServer http = ApiServer.bind(HttpOptions.of("127.0.0.1", 0), SystemTime.ticker());
        try (Hourglass hourglass = Hourglass.builder().store(store).config(ServerFixture.testEngine())
                .handler(WebhookHandler.NAME, ctx -> dev.hourglass.core.api.Outcome.succeeded()).build();
                HttpClient client = HttpClient.newHttpClient()) {
            http.serve(ServerFixture.apiHandler(hourglass, store, ApiHandler.DEFAULT_STORE_TIMEOUT));
            URI jobs = URI.create("http://127.0.0.1:" + http.port() + "/v1/jobs");

            store.failWrites = true;
            HttpResponse<String> r = ApiContract.check(client.send(ServerFixture.authorized(jobs)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JOB)).build(), HttpResponse.BodyHandlers.ofString()));
            Response response = new Response(r.statusCode(), r.headers(), r.body());
            BadInputTest.assertProblem(response, 503, "store");
            assertThat(response.header("Retry-After")).isEqualTo("1");

            store.failWrites = false;
            HttpResponse<String> list = ApiContract.check(client.send(ServerFixture.authorized(jobs).build(),
                    HttpResponse.BodyHandlers.ofString()));
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(ServerFixture.JSON.readTree(list.body()).get("jobs")).isEmpty();
        } finally {
            http.close();
        }
    }

    @Test
    void aStoreThatHangsGives503WithinTheStoreTimeoutAndTheWithdrawnJobIsNotStored() throws Exception {
        FailingStore store = new FailingStore(SqliteJobStore.open(dir.resolve("hourglass.db")));
        ApiServer http = ApiServer.bind(HttpOptions.of("127.0.0.1", 0), SystemTime.ticker());
        try (Hourglass hourglass = Hourglass.builder().store(store).config(ServerFixture.testEngine())
                .handler(WebhookHandler.NAME, ctx -> dev.hourglass.core.api.Outcome.succeeded()).build();
                HttpClient client = HttpClient.newHttpClient()) {
            http.serve(ServerFixture.apiHandler(hourglass, store, Duration.ofMillis(500)));
            URI base = URI.create("http://127.0.0.1:" + http.port());

            store.hang = new CountDownLatch(1); // a database behind a network that swallows every packet
            long started = System.nanoTime();
            HttpResponse<String> r = ApiContract.check(client.send(ServerFixture.authorized(base.resolve("/v1/jobs"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(JOB)).build(), HttpResponse.BodyHandlers.ofString()));
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            Response response = new Response(r.statusCode(), r.headers(), r.body());
            BadInputTest.assertProblem(response, 503, "did not answer within 500 ms");
            assertThat(response.header("Retry-After")).isEqualTo("1");
            assertThat(took).isLessThan(Duration.ofSeconds(2));

            HttpResponse<String> read = ApiContract.check(client.send(ServerFixture.authorized(base.resolve("/v1/jobs"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
            assertThat(read.statusCode()).as("reads are bounded too").isEqualTo(503);

            store.hang.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> ApiContract.check(client.send(ServerFixture.authorized(
                    base.resolve("/v1/jobs")).build(), HttpResponse.BodyHandlers.ofString())).statusCode() == 200);
            await().pollDelay(Duration.ofMillis(500)).until(() -> true); // the committer works off its queue
            HttpResponse<String> list = ApiContract.check(client.send(ServerFixture.authorized(
                    base.resolve("/v1/jobs")).build(), HttpResponse.BodyHandlers.ofString()));
            assertThat(ServerFixture.JSON.readTree(list.body()).get("jobs")).as("the withdrawn job").isEmpty();
        } finally {
            store.hang.countDown();
            http.close();
        }
    }

    @Test
    void readinessFollowsTheStoreWhileLivenessStaysUp() {
        FailingStore store = new FailingStore(SqliteJobStore.open(dir.resolve("hourglass.db")));
        ServerConfig config = ServerFixture.config(dir);
        try (Hourglass hourglass = Hourglass.builder().store(store).config(ServerFixture.testEngine())
                .handler(WebhookHandler.NAME, ctx -> dev.hourglass.core.api.Outcome.succeeded()).build();
                ApiOn api = new ApiOn(hourglass, store, config)) {
            assertThat(api.get("/readyz").statusCode()).isEqualTo(200);
            assertThat(api.get("/readyz").body()).isEqualTo("{\"status\":\"ready\"}");

            store.unreachable = true; // the heartbeat, at least, fails within a load interval
            await().atMost(Duration.ofSeconds(5)).until(() -> api.get("/readyz").statusCode() == 503);
            HttpResponse<String> notReady = api.get("/readyz");
            BadInputTest.assertProblem(new Response(notReady.statusCode(), notReady.headers(), notReady.body()), 503,
                    "cannot be reached");
            assertThat(api.get("/healthz").statusCode()).isEqualTo(200);

            store.unreachable = false;
            await().atMost(Duration.ofSeconds(5)).until(() -> api.get("/readyz").statusCode() == 200);
        }
    }

    /** A full disk, as SQLite sees one: the database file may not grow. Readiness says so until a write succeeds. */
    @Test
    void aStoreThatCannotWriteIsNotReadyUntilAWriteSucceedsAgain() {
        SqliteJobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"));
        ServerConfig config = ServerFixture.config(dir);
        try (Hourglass hourglass = Hourglass.builder().store(store).config(ServerFixture.testEngine())
                .handler(WebhookHandler.NAME, ctx -> dev.hourglass.core.api.Outcome.succeeded()).build();
                ApiOn api = new ApiOn(hourglass, store, config)) {
            assertThat(api.get("/readyz").statusCode()).isEqualTo(200);
            long pages = store.writeSql("fill the disk", c -> {
                try (var st = c.createStatement()) {
                    long count;
                    try (var rs = st.executeQuery("PRAGMA page_count")) {
                        rs.next();
                        count = rs.getLong(1);
                    }
                    st.execute("PRAGMA max_page_count = " + count);
                    return count;
                }
            });
            String big = JOB.replace("}}", "}, \"payload\": \"" + "x".repeat(200_000) + "\"}");

            // Each refused schedule marks the store as unable to write; a heartbeat that fits may clear it again.
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                HttpResponse<String> refused = api.post("/v1/jobs", big);
                assertThat(refused.statusCode()).isEqualTo(503);
                return api.get("/readyz").statusCode() == 503;
            });
            HttpResponse<String> notReady = api.get("/readyz");
            if (notReady.statusCode() == 503) {
                BadInputTest.assertProblem(new Response(notReady.statusCode(), notReady.headers(), notReady.body()),
                        503, "cannot write");
            }
            assertThat(api.get("/healthz").statusCode()).isEqualTo(200);

            store.writeSql("room again", c -> {
                try (var st = c.createStatement()) {
                    st.execute("PRAGMA max_page_count = " + (pages + 10_000));
                }
                return null;
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> api.get("/readyz").statusCode() == 200);
            assertThat(api.post("/v1/jobs", big).statusCode()).isEqualTo(201);
        }
    }

    /** An ApiHandler on a Helidon server of its own, over an engine the test built. */
    private static final class ApiOn implements AutoCloseable {
        private final ApiServer http;
        private final HttpClient client = HttpClient.newHttpClient();

        ApiOn(Hourglass hourglass, JobStore store, ServerConfig config) {
            http = ApiServer.bind(HttpOptions.of("127.0.0.1", 0), SystemTime.ticker())
                    .serve(ServerFixture.apiHandler(hourglass, store, config.storeTimeout()));
        }

        HttpResponse<String> get(String path) {
            try {
                return ApiContract.check(client.send(ServerFixture.authorized(URI.create("http://127.0.0.1:"
                        + http.port() + path)).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        HttpResponse<String> post(String path, String body) {
            try {
                return client.send(ServerFixture.authorized(URI.create("http://127.0.0.1:" + http.port()
                        + path)).header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            http.close();
            client.close();
        }
    }

    @Test
    void aStoppedEngineGives503() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            api.server().hourglass().close();
            Response r = api.post("/v1/jobs", JOB);
            BadInputTest.assertProblem(r, 503, "shutting down");
            assertThat(r.header("Retry-After")).isEqualTo("1");
        }
    }

    /**
     * A real SQLite store whose writes can be made to fail, as a full disk or a lost database would ({@code
     * failWrites}), to fail as an unreachable database does, reads too ({@code unreachable}), or to hang until a
     * latch opens, as a database behind a network that swallows packets does ({@code hang}).
     */
    private static final class FailingStore implements JobStore, SqlDatabase {
        private final SqliteJobStore delegate;
        volatile boolean failWrites;
        volatile boolean unreachable;
        volatile CountDownLatch hang = new CountDownLatch(0);

        FailingStore(SqliteJobStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public <R> R write(Durability durability, Function<StoreTx, R> work) {
            awaitHang();
            if (failWrites) {
                throw new StoreException("disk I/O error (simulated)");
            }
            if (unreachable) {
                throw new StoreUnavailableException("no connection (simulated)", null, false);
            }
            return delegate.write(durability, work);
        }

        @Override
        public Optional<Job> find(JobId id) {
            awaitHang();
            return delegate.find(id);
        }

        @Override
        public JobPage list(JobQuery query) {
            awaitHang();
            return delegate.list(query);
        }

        @Override
        public List<Claim> claimsOf(ClaimsOfParams params) {
            awaitHang();
            return delegate.claimsOf(params);
        }

        private void awaitHang() {
            try {
                hang.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreUnavailableException("interrupted", e, false);
            }
        }

        /** The tenants' tables are read and written as they are: the failures this test makes are the engine's. */
        @Override
        public SqlDialect dialect() {
            return delegate.dialect();
        }

        @Override
        public <R> R readSql(String what, SqlWork<R> work) {
            return delegate.readSql(what, work);
        }

        @Override
        public <R> R writeSql(String what, SqlWork<R> work) {
            return delegate.writeSql(what, work);
        }

        @Override
        public Optional<JobId> lastJobId() {
            return delegate.lastJobId();
        }

        @Override
        public boolean exclusive() {
            return delegate.exclusive();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
