package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.ModelRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * A bounded soak of the HTTP API against the real engine: mixed clients (streamed and not, leaving at random times,
 * slow readers, malformed requests, {@code n > 1}) for {@value #SECONDS} s on a backend that throws on every
 * {@value #FAIL_EVERY}th step, with a restart of the HTTP bundle in the middle. Every request must end (answered,
 * refused, failed with an error in OpenAI's shape, or left by its client) within its client timeout; afterwards no
 * KV slot is held, the queue is empty and a normal request is answered.
 */
public class SoakTest {
    private static final int SECONDS = 20;
    private static final int FAIL_EVERY = 300;
    private static final int CLIENTS = 8;
    private static final String MODEL = "soak";

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    ConfigurationAdmin cm;

    @InjectService(filter = "(backend=cpu)")
    KernelBackend cpu;

    private int port;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();

    @Test
    void mixedHostileClientsAFailingBackendAndARestartLeaveNothingBehind() throws Exception {
        AtomicInteger steps = new AtomicInteger();
        GatedBackend failing = new GatedBackend("soak", cpu, positions -> {
            if (steps.incrementAndGet() % FAIL_EVERY == 0) {
                throw new IllegalStateException("soak: injected step failure");
            }
            return true;
        }, null);
        ServiceRegistration<KernelBackend> registration = failing.register(context, -10);
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        registry.load(Path.of(context.getProperty("tessera.repo")).resolve("tools/fixtures/models/tiny-a"), MODEL,
                "soak", null);
        Hashtable<String, Object> http = new Hashtable<>(Map.of("host", "127.0.0.1", "port", port,
                "maxTokens", 256, "maxPromptTokens", 512, "requestTimeoutSeconds", 20, "drainSeconds", 1));
        cm.getConfiguration("io.tessera.http", "?").update(http);
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        try {
            awaitServing();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            List<Future<?>> running = new java.util.ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                SplittableRandom random = new SplittableRandom(c);
                running.add(clients.submit(() -> {
                    while (System.nanoTime() < end) {
                        oneRequest(random);
                    }
                    return null;
                }));
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(SECONDS / 2));
            Bundle api = httpBundle();
            api.stop();
            api.start();
            for (Future<?> f : running) {
                f.get(SECONDS + 60, TimeUnit.SECONDS);   // a client that hangs fails here
            }
            awaitServing();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            String metrics = get("/metrics").body();
            while (!(metrics.contains("tessera_running_sequences{model=\"soak\"} 0")
                    && metrics.contains("tessera_queue_depth{model=\"soak\"} 0"))) {
                assertTrue(System.nanoTime() < deadline, "KV slots or queue entries left: " + metrics.lines()
                        .filter(l -> l.contains("model=\"soak\"") && (l.contains("running") || l.contains("queue")))
                        .toList());
                Thread.sleep(100);
                metrics = get("/metrics").body();
            }
            // no KV block leaked: every one a sequence held is back (free, or idle in the prefix cache)
            assertEquals(0L, registry.info(MODEL).orElseThrow().memory().get("kv-used"), "KV blocks still held");
            HttpResponse<String> last = post("/v1/completions", "{\"model\":\"soak\",\"prompt\":\"hello\","
                    + "\"max_tokens\":4,\"temperature\":0}");
            assertEquals(200, last.statusCode(), last.body());
            System.out.println("soak: " + new java.util.TreeMap<>(outcomes) + ", " + steps.get() + " steps");
            assertTrue(count("answered") > 0 && count("left") > 0 && count("refused") > 0, outcomes.toString());
            assertEquals(0, count("unexpected"), outcomes.toString());
        } finally {
            clients.shutdownNow();
            cm.getConfiguration("io.tessera.http", "?").delete();
            registry.unload(MODEL);
            registration.unregister();
        }
    }

    private Bundle httpBundle() {
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName().equals("io.tessera.http")) {
                return b;
            }
        }
        throw new AssertionError("no io.tessera.http bundle");
    }

    /** One request of a random kind; records how it ended. */
    private void oneRequest(SplittableRandom random) throws Exception {
        int kind = random.nextInt(6);
        int tokens = 8 + random.nextInt(120);
        String body = "{\"model\":\"soak\",\"prompt\":\"tale " + random.nextInt(1000) + "\",\"max_tokens\":" + tokens
                + ",\"temperature\":0.8" + (kind == 1 ? ",\"n\":3" : "") + (kind == 2 ? ",\"stream\":true" : "") + "}";
        try {
            switch (kind) {
                case 0, 1, 2 -> {   // plain, n = 3, streamed
                    HttpResponse<String> r = post("/v1/completions", body);
                    boolean error = r.body().contains("\"error\"");
                    if (r.statusCode() == 200 && !error && (kind != 2 || r.body().endsWith("data: [DONE]\n\n"))) {
                        record("answered");
                    } else if (r.statusCode() == 200 && error && (kind != 2 || r.body().endsWith("data: [DONE]\n\n"))
                            || r.statusCode() == 500 && error || r.statusCode() == 503 || r.statusCode() == 404
                            || r.statusCode() == 429) {
                        // a failed step, a restart or back-pressure: an answer all the same (a non-streamed one that
                        // waited past a second has sent its status 200 already and ends with the error object)
                        record("refused");
                    } else {
                        record("unexpected");
                        System.out.println("soak: unexpected " + r.statusCode() + " " + r.body());
                    }
                }
                case 3 -> {   // leaves at a random time, streamed or not
                    try (Socket s = raw(body.replace("}", random.nextBoolean() ? ",\"stream\":true}" : "}"))) {
                        Thread.sleep(random.nextInt(1500));
                    }
                    record("left");
                }
                case 4 -> {   // reads slowly, then leaves
                    try (Socket s = raw(body.replace("}", ",\"stream\":true}"))) {
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                                StandardCharsets.UTF_8));
                        for (int i = 0; i < 10 && in.readLine() != null; i++) {
                            Thread.sleep(100);
                        }
                    }
                    record("left");
                }
                default -> {   // malformed
                    HttpResponse<String> r = post("/v1/completions", random.nextBoolean() ? "{\"model\":\"soak\","
                            : "{\"model\":\"soak\",\"prompt\":\"x\",\"max_tokens\":-3}");
                    record(r.statusCode() == 400 || r.statusCode() == 404 || r.statusCode() == 503 ? "refused"
                            : "unexpected");
                }
            }
        } catch (ConnectException | java.net.http.HttpConnectTimeoutException e) {
            record("refused");   // the API was restarting
            Thread.sleep(50);
        } catch (IOException e) {
            record(e.getMessage() != null && e.getMessage().contains("timed out") ? "unexpected" : "refused");
        }
    }

    private Socket raw(String body) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                + "application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().write(bytes);
        return s;
    }

    private void record(String outcome) {
        outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    private long count(String outcome) {
        LongAdder n = outcomes.get(outcome);
        return n == null ? 0 : n.sum();
    }

    private void awaitServing() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                if (get("/health").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            assertTrue(System.nanoTime() < deadline, "the HTTP API did not come up on port " + port);
            Thread.sleep(100);
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
