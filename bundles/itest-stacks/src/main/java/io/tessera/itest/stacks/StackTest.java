package io.tessera.itest.stacks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * One stack started as a team would start it (the {@code tessera.stack} property names which): every bundle
 * active, the embedded default model assembled on the CPU backend and generating, and the stack's own promise —
 * {@code server} answers HTTP, {@code headless} holds no HTTP server, {@code full} holds every backend.
 */
public class StackTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void everyBundleIsActive() {
        List<String> notActive = Arrays.stream(context.getBundles())
                .filter(b -> b.getHeaders().get(Constants.FRAGMENT_HOST) == null)
                .filter(b -> b.getState() != Bundle.ACTIVE)
                .map(b -> b.getSymbolicName() + " state " + b.getState())
                .toList();
        assertEquals(List.of(), notActive);
    }

    @Test
    void theDefaultModelGenerates(@InjectService ModelRegistry registry, @InjectService Generator generator)
            throws Exception {
        Path model = Path.of(context.getProperty("tessera.repo"), "distribution", "model");
        ModelInfo info = registry.load(model, "stack", "cpu", line -> { });
        try {
            assertEquals("cpu", info.backend());
            GenerationResult result = generator.submit(new GenerationRequest("stack", new int[] {1, 2, 3}, 8,
                    SamplingParams.GREEDY, Set.of(), -1, false, null), ids -> { })
                    .result().toCompletableFuture().get(2, TimeUnit.MINUTES);
            assertEquals(8, result.tokens().length, result.toString());
        } finally {
            registry.unload("stack");
        }
    }

    @Test
    void theStackKeepsItsPromise(@InjectService ConfigurationAdmin configurations) throws Exception {
        String stack = context.getProperty("tessera.stack");
        switch (stack) {
            case "server" -> assertServesHttp(configurations);
            case "headless" -> {
                assertTrue(missing("io.tessera.http"), "headless holds the HTTP API");
                assertTrue(missing("org.apache.felix.http.jetty12"), "headless holds Jetty");
                assertTrue(present("io.tessera.shell"), "headless lacks the shell");
            }
            case "full" -> {
                for (String bsn : List.of("io.tessera.http", "io.tessera.shell", "io.tessera.kernels-cpu",
                        "io.tessera.kernels-cuda", "io.tessera.kernels-reference")) {
                    assertTrue(present(bsn), "full lacks " + bsn);
                }
            }
            default -> throw new AssertionError("unknown stack " + stack);
        }
    }

    /** Configures the API on a free loopback port and waits (≤ 30 s) for {@code /health} to answer 200. */
    private void assertServesHttp(ConfigurationAdmin configurations) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("host", "127.0.0.1");
        properties.put("port", port);
        configurations.getConfiguration("io.tessera.http", "?").update(properties);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int status = -1;
        while (status != 200 && System.nanoTime() < deadline) {
            try {
                status = client.send(health, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (java.io.IOException notYet) {
                Thread.sleep(200);
            }
        }
        assertEquals(200, status, "GET /health on port " + port);
    }

    private boolean present(String bsn) {
        return Arrays.stream(context.getBundles()).anyMatch(b -> bsn.equals(b.getSymbolicName()));
    }

    private boolean missing(String bsn) {
        return !present(bsn);
    }
}
