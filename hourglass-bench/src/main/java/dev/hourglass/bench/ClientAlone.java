package dev.hourglass.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.hourglass.webhook.WebhookHandler;
import java.lang.management.ManagementFactory;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;

/**
 * The webhook client's own limit on this machine: the client the server delivers webhooks with
 * ({@link WebhookHandler#newClient}), no scheduler and no signing, {@code concurrency} virtual threads posting the
 * drain's payload to one receiver back to back until {@code count} have been answered. The webhook drain is judged
 * against it.
 */
final class ClientAlone {
    private static final byte[] PAYLOAD = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

    private static final OperatingSystemMXBean PROCESS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private ClientAlone() {}

    /** What one run did: posts answered, how many with a 2xx, and how long from the first send to the last answer. */
    record Figures(int posts, long succeeded, double seconds, double cpuSeconds) {
        double perSecond() {
            return posts / seconds;
        }

        /** This process's CPU per post, in microseconds (the receiver's is not counted). */
        double cpuMicrosPerPost() {
            return cpuSeconds * 1e6 / posts;
        }

        Map<String, Object> figures(Map<String, Object> labels) {
            Map<String, Object> figures = new LinkedHashMap<>(labels);
            figures.put("posts", posts);
            figures.put("succeeded", succeeded);
            figures.put("seconds", seconds);
            figures.put("per_s", perSecond());
            figures.put("cpu_us_per_post", cpuMicrosPerPost());
            return figures;
        }
    }

    static Figures run(URI url, int count, int concurrency) throws Exception {
        AtomicInteger next = new AtomicInteger();
        LongAdder succeeded = new LongAdder();
        try (CloseableHttpClient client = WebhookHandler.newClient(WebhookHandler.DEFAULT_CONNECT_TIMEOUT,
                GuardedDnsResolver.system(WebhookDrain.LOOPBACK));
                ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
            long start = System.nanoTime();
            long cpuAtStart = PROCESS.getProcessCpuTime();
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < concurrency; i++) {
                running.add(senders.submit(() -> {
                    while (next.getAndIncrement() < count) {
                        HttpPost post = new HttpPost(url);
                        post.setEntity(new ByteArrayEntity(PAYLOAD, ContentType.APPLICATION_JSON));
                        int status = client.execute(post, response -> {
                            EntityUtils.consume(response.getEntity());
                            return response.getCode();
                        });
                        if (status / 100 == 2) {
                            succeeded.increment();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> sender : running) {
                sender.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Figures(count, succeeded.sum(), seconds, (PROCESS.getProcessCpuTime() - cpuAtStart) / 1e9);
        }
    }
}
