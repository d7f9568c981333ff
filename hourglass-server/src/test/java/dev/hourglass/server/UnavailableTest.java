package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.server.http.ApiHandler;
import dev.hourglass.server.webhook.WebhookHandler;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executors;
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
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        try (Hourglass hourglass = Hourglass.builder().store(store).config(ServerFixture.testEngine())
                .handler(WebhookHandler.NAME, ctx -> dev.hourglass.core.api.Outcome.succeeded()).build();
                HttpClient client = HttpClient.newHttpClient()) {
            http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            http.createContext("/", new ApiHandler(hourglass, ApiHandler.DEFAULT_MAX_BODY_BYTES));
            http.start();
            URI jobs = URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/v1/jobs");

            store.failWrites = true;
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(jobs).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JOB)).build(), HttpResponse.BodyHandlers.ofString());
            Response response = new Response(r.statusCode(), r.headers(), r.body());
            BadInputTest.assertProblem(response, 503, "store");
            assertThat(response.header("Retry-After")).isEqualTo("1");

            store.failWrites = false;
            HttpResponse<String> list = client.send(HttpRequest.newBuilder(jobs).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(ServerFixture.JSON.readTree(list.body()).get("jobs")).isEmpty();
        } finally {
            http.stop(0);
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

    /** A real SQLite store whose writes can be made to fail, as a full disk or a lost database would. */
    private static final class FailingStore implements JobStore {
        private final JobStore delegate;
        volatile boolean failWrites;

        FailingStore(JobStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public <R> R write(Durability durability, Function<StoreTx, R> work) {
            if (failWrites) {
                throw new StoreException("disk I/O error (simulated)");
            }
            return delegate.write(durability, work);
        }

        @Override
        public Optional<Job> find(JobId id) {
            return delegate.find(id);
        }

        @Override
        public JobPage list(JobQuery query) {
            return delegate.list(query);
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
