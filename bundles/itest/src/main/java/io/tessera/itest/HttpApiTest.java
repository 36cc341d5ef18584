package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.model.GenerationListener;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.model.TokenLogprob;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * The OpenAI-compatible API end to end, over loopback HTTP against the real assembly: hostile requests, limits and
 * keys, stop strings, logprobs, n, disconnects, the proof that concurrent streams are batched, and the official
 * client SDKs (npm) when Node is installed. The model is the tiny-a fixture with a MiMo chat template.
 */
public class HttpApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "http-tiny";

    @InjectBundleContext
    static BundleContext context;

    @InjectService
    static ConfigurationAdmin cm;

    static int port;
    static Path modelDir;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        // 8 sequences so 8 streams run at once: sizes apply to models loaded after the engine took the new
        // configuration, which shows in the model's metrics
        modelDir = chatFixture(Path.of(context.getProperty("tessera.repo")));
        update("io.tessera.engine", Map.of("sequences", 8, "queueLimit", 64));
        awaitSequences(8, "the engine did not take its new configuration");
        update("io.tessera.itest.echo", Map.of("directory", modelDir.toString()));
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        update("io.tessera.http", httpConfig(Map.of()));
        // HTTP/1.1: an HTTP/2 upgrade attempt would hold the other requests back until the first one ends
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                if (get("/health").statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                // not listening yet
            }
            assertTrue(System.nanoTime() < deadline, "the HTTP API did not come up on port " + port);
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (String pid : List.of("io.tessera.http", "io.tessera.itest.echo")) {
            cm.getConfiguration(pid, "?").delete();
        }
        registry().unload(MODEL);
        cm.getConfiguration("io.tessera.engine", "?").delete();
        // wait until the engine is back on its defaults, so the next test class gets them
        awaitSequences(4, "the engine did not return to its default configuration");
        registry().unload(MODEL);
    }

    /** Loads the model until it runs {@code sequences} at once: the engine took its configuration. */
    private static void awaitSequences(int sequences, String failure) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Generator generator = context.getService(context.getServiceReference(Generator.class));
        while (true) {
            registry().load(modelDir, MODEL, "cpu", null);
            if (generator.metrics().stream().anyMatch(m -> m.model().equals(MODEL) && m.kvSlots() == sequences)) {
                return;
            }
            registry().unload(MODEL);
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.sleep(50);
        }
    }

    /** tiny-a with no chat_template in its tokenizer_config.json, so the tokenizer renders MiMo's chat format. */
    private static Path chatFixture(Path repo) throws IOException {
        Path source = repo.resolve("tools/fixtures/models/tiny-a");
        Path dir = Files.createTempDirectory("tessera-http-model");
        try (var files = Files.list(source)) {
            for (Path f : files.toList()) {
                Path target = dir.resolve(f.getFileName().toString());
                if (f.getFileName().toString().equals("tokenizer_config.json")) {
                    ObjectNode config = (ObjectNode) JSON.readTree(f.toFile());
                    config.remove("chat_template");
                    JSON.writeValue(target.toFile(), config);
                } else {
                    Files.createSymbolicLink(target, f.toAbsolutePath());
                }
            }
        }
        return dir;
    }

    private static Map<String, Object> httpConfig(Map<String, Object> extra) {
        Map<String, Object> c = new java.util.HashMap<>(Map.of("host", "127.0.0.1", "port", port,
                "maxBodyBytes", 65536, "maxTokens", 512, "maxPromptTokens", 1024, "maxChoices", 4,
                "generator.target", "(tessera.echo=true)", "registry.target", "(tessera.echo=true)"));
        c.putAll(extra);
        return c;
    }

    private static void update(String pid, Map<String, Object> properties) throws IOException {
        Configuration c = cm.getConfiguration(pid, "?");
        c.update(new Hashtable<>(properties));
    }

    private static ModelRegistry registry() {
        return context.getService(context.getServiceReference(ModelRegistry.class));
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** A greedy /v1/completions request on the fixture model. */
    private static String completion(String prompt, int maxTokens, String extra) {
        return "{\"model\":\"" + MODEL + "\",\"prompt\":" + JSON.valueToTree(prompt) + ",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0" + extra + "}";
    }

    /** The concatenated text of a streamed response, checking it ends with [DONE]. */
    private static String streamedText(String body, boolean chat) throws IOException {
        StringBuilder text = new StringBuilder();
        List<String> events = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.startsWith("data: ")) {
                events.add(line.substring(6));
            }
        }
        assertEquals("[DONE]", events.getLast(), "a stream ends with data: [DONE]");
        for (String e : events.subList(0, events.size() - 1)) {
            for (JsonNode c : JSON.readTree(e).path("choices")) {
                text.append(chat ? c.path("delta").path("content").asText("") : c.path("text").asText(""));
            }
        }
        return text.toString();
    }

    // ---- bad input ----------------------------------------------------------------------------------------------

    @Test
    void hostileRequestsGet4xxInOpenAisShapeAndTheServerKeepsServing() throws Exception {
        String chat = "/v1/chat/completions";
        String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        List<String[]> cases = List.of(
                new String[] {chat, "{not json"},
                new String[] {chat, ""},
                new String[] {chat, "[]"},
                new String[] {chat, "\"text\""},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"} trailing"},
                new String[] {chat, "{" + msgs + "}"},
                new String[] {chat, "{\"model\":42," + msgs + "}"},
                new String[] {chat, "{\"model\":\"nope\"," + msgs + "}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\",\"messages\":[]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\",\"messages\":\"hi\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":7}]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"max_tokens\":\"10\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"max_tokens\":-1}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"max_tokens\":100000}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"max_tokens\":1.5}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"temperature\":9}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"temperature\":\"hot\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"top_p\":0}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"n\":99}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"seed\":\"x\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"stop\":[1,2]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"stream\":\"yes\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"stream_options\":{\"include_usage\":true}}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"tools\":{}}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"tools\":[{\"type\":\"retrieval\"}]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"tool_choice\":\"required\"}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"logit_bias\":{\"5\":500}}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"top_logprobs\":3}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"frequency_penalty\":5}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"response_format\":{\"type\":\"json_schema\","
                        + "\"json_schema\":{\"schema\":{\"type\":\"object\",\"patternProperties\":{}}}}}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
                        + "hello ".repeat(2000) + "\"}]}"},
                new String[] {chat, "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"x\":\"" + "a".repeat(70000) + "\"}"},
                new String[] {chat, "[".repeat(5000) + "]".repeat(5000)},
                new String[] {chat, "{\"model\":\"" + MODEL + "\"," + msgs + ",\"tessera_replay_routing\":{\"start_position\":0,"
                        + "\"experts\":[[[99]]]}}"},
                new String[] {"/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":[999999]}"},
                new String[] {"/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":{}}"},
                new String[] {"/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":\"\"}"},
                new String[] {"/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":\"x\",\"logprobs\":9}"},
                new String[] {"/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":\"x\",\"echo\":true}"},
                new String[] {"/v1/nothing", "{}"});
        for (String[] c : cases) {
            HttpResponse<String> r = post(c[0], c[1]);
            String what = c[0] + " " + (c[1].length() > 120 ? c[1].substring(0, 120) + "..." : c[1]);
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, what + " -> " + r.statusCode() + " " + r.body());
            JsonNode error = JSON.readTree(r.body()).path("error");
            assertTrue(error.path("message").isTextual() && error.path("type").isTextual(), what + ": " + r.body());
            assertEquals(200, get("/health").statusCode(), "still serving after " + what);
        }
        assertEquals(405, get("/v1/chat/completions").statusCode());
        // raw socket abuse: a truncated body, then garbage; the server must still answer afterwards
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n"
                    + "{\"model\":").getBytes(StandardCharsets.UTF_8));
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(new byte[] {0, 1, 2, (byte) 0xff, '\r', '\n', '\r', '\n'});
            s.getInputStream().read();
        }
        ok(post("/v1/completions", completion("hello", 4, "")));
    }

    @Test
    void apiKeyAndConfigurationChecks() throws Exception {
        update("io.tessera.http", httpConfig(Map.of("apiKey", "s3cret")));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (get("/v1/models").statusCode() != 401) {
                assertTrue(System.nanoTime() < deadline, "the API key was not applied");
                Thread.sleep(50);
            }
            assertEquals("invalid_api_key", JSON.readTree(get("/v1/models").body()).path("error").path("code").asText());
            assertEquals(401, post("/v1/completions", completion("hi", 2, ""), "Authorization", "Bearer wrong")
                    .statusCode());
            assertEquals(200, post("/v1/completions", completion("hi", 2, ""), "Authorization", "Bearer s3cret")
                    .statusCode());
            assertEquals(200, post("/v1/completions", completion("hi", 2, ""), "Authorization", "bearer s3cret")
                    .statusCode(), "the scheme is case-insensitive");
            assertEquals(200, raw("GET /v1/models HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer s3cret"
                    + "\r\nConnection: close\r\n\r\n").status(), "with a key, any host name may be used");
            assertEquals(200, get("/health").statusCode(), "health needs no key");
        } finally {
            update("io.tessera.http", httpConfig(Map.of()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (get("/v1/models").statusCode() != 200) {
            assertTrue(System.nanoTime() < deadline, "the API key was not removed");
            Thread.sleep(50);
        }
        // a bad value is refused as a whole: the server keeps its address and stays open without a key
        update("io.tessera.http", httpConfig(Map.of("port", 99999, "apiKey", "other")));
        Thread.sleep(1000);
        assertEquals(200, get("/v1/models").statusCode());
        update("io.tessera.http", httpConfig(Map.of()));
    }

    // ---- features -----------------------------------------------------------------------------------------------

    /**
     * A repeated long prompt is served from the prefix cache (tiny-a: window 16, blocks of 32: 80 ids reuse up to
     * position 64, less the window), a cache_salt keeps it apart, and /metrics counts it.
     */
    @Test
    void usageCountsPromptTokensFromThePrefixCache() throws Exception {
        registry().clearPrefixCache(MODEL);
        StringBuilder ids = new StringBuilder("[");
        for (int i = 0; i < 80; i++) {
            ids.append(i == 0 ? "" : ",").append(3 + (i * 37) % 290);
        }
        String prompt = ",\"prompt\":" + ids.append(']') + ",\"max_tokens\":2,\"temperature\":0";
        String body = "{\"model\":\"" + MODEL + "\"" + prompt;
        JsonNode first = ok(post("/v1/completions", body + "}"));
        assertEquals(0, first.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt(), first.toString());
        JsonNode again = ok(post("/v1/completions", body + "}"));
        assertEquals(48, again.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt(), again.toString());
        assertEquals(first.path("choices").get(0).path("text"), again.path("choices").get(0).path("text"));
        JsonNode salted = ok(post("/v1/completions", body + ",\"cache_salt\":\"tenant-b\"}"));
        assertEquals(0, salted.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt());
        assertEquals(400, post("/v1/completions", body + ",\"cache_salt\":7}").statusCode());
        String metrics = get("/metrics").body();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tessera_prefix_cached_tokens_total{model=\"" + MODEL
                + "\"} ") && Long.parseLong(l.substring(l.lastIndexOf(' ') + 1)) >= 48), metrics);
        assertTrue(metrics.contains("tessera_preempted_total{model=\"" + MODEL + "\"} 0"), metrics);
    }

    @Test
    void stopStringsCutTheTextAndAreHeldBackWhileStreaming() throws Exception {
        String full = ok(post("/v1/completions", completion("The sky", 24, ""))).path("choices").get(0).path("text")
                .asText();
        assertTrue(full.length() > 8, "fixture output too short to test stop strings: '" + full + "'");
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        String expected = full.substring(0, full.indexOf(stop));
        String extra = ",\"stop\":[" + JSON.valueToTree(stop) + "]";
        JsonNode r = ok(post("/v1/completions", completion("The sky", 24, extra)));
        assertEquals(expected, r.path("choices").get(0).path("text").asText());
        assertEquals("stop", r.path("choices").get(0).path("finish_reason").asText());
        HttpResponse<String> s = post("/v1/completions", completion("The sky", 24, extra + ",\"stream\":true"));
        assertEquals(expected, streamedText(s.body(), false), "no part of the stop string is streamed");
    }

    @Test
    void logprobsSeedsAndChoices() throws Exception {
        JsonNode r = ok(post("/v1/completions", completion("Once", 6, ",\"logprobs\":3")));
        JsonNode lp = r.path("choices").get(0).path("logprobs");
        assertEquals(r.path("usage").path("completion_tokens").asInt(), lp.path("token_logprobs").size());
        for (int i = 0; i < lp.path("token_logprobs").size(); i++) {
            double chosen = lp.path("token_logprobs").get(i).asDouble();
            assertTrue(chosen <= 0);
            JsonNode top = lp.path("top_logprobs").get(i);
            assertTrue(top.has(lp.path("tokens").get(i).asText()), "the greedy token is among the top 3: " + lp);
            for (JsonNode v : top) {   // keyed by text: ids that decode alike share a key, so compare with all
                assertTrue(chosen >= v.asDouble() - 1e-5, "greedy takes the most likely token: " + lp);
            }
        }
        String sampled = "{\"model\":\"" + MODEL + "\",\"prompt\":\"Once\",\"max_tokens\":8,\"temperature\":1.0,"
                + "\"seed\":11,\"n\":3}";
        JsonNode a = ok(post("/v1/completions", sampled));
        JsonNode b = ok(post("/v1/completions", sampled));
        assertEquals(3, a.path("choices").size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, a.path("choices").get(i).path("index").asInt());
            assertEquals(a.path("choices").get(i).path("text"), b.path("choices").get(i).path("text"),
                    "same seed, same text");
        }
        JsonNode routed = ok(post("/v1/completions", completion("Once", 3, ",\"tessera_routing\":true")));
        JsonNode experts = routed.path("choices").get(0).path("tessera_routing").path("experts");
        assertTrue(experts.isArray() && !experts.isEmpty(), routed.toString());
    }

    /** A raw HTTP/1.1 exchange (headers Java's client will not send as given), read to the end. */
    private static RawResponse raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(answer.substring(9, 12));
            return new RawResponse(status, answer.substring(0, answer.indexOf("\r\n\r\n")),
                    answer.substring(answer.indexOf("\r\n\r\n") + 4));
        }
    }

    private record RawResponse(int status, String headers, String body) {
    }

    /**
     * Without an API key only loopback names are served (a page on another site cannot drive a local node through
     * DNS rebinding or a cross-site POST); probes need no key and no name; every answer is JSON with a request id.
     */
    @Test
    void withoutAKeyOnlyLoopbackNamesAreServed() throws Exception {
        String body = completion("hi", 2, "");
        String post = "POST /v1/completions HTTP/1.1\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + "Content-Length: " + body.length() + "\r\n";
        RawResponse rebound = raw(post + "Host: attacker.example:" + port + "\r\n\r\n" + body);
        assertEquals(403, rebound.status(), rebound.body());
        assertEquals("host_not_allowed", JSON.readTree(rebound.body()).path("error").path("code").asText());
        assertEquals(403, raw(post + "Host: localhost\r\nOrigin: https://attacker.example\r\n\r\n" + body)
                .status(), "a foreign Origin");
        assertEquals(200, raw(post + "Host: LocalHost:" + port + "\r\nOrigin: http://localhost:3000\r\n\r\n" + body)
                .status());
        assertEquals(200, raw(post + "Host: [::1]:" + port + "\r\n\r\n" + body).status());
        assertEquals(200, raw("GET /health/ready HTTP/1.1\r\nHost: 10.1.2.3\r\nConnection: close\r\n\r\n")
                .status(), "a probe from anywhere");
        RawResponse ambiguous = raw("GET /v1/%2e%2e/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertEquals(404, ambiguous.status());
        assertTrue(JSON.readTree(ambiguous.body()).path("error").path("message").isTextual(), ambiguous.body());
        assertTrue(ambiguous.headers().toLowerCase(java.util.Locale.ROOT).contains("x-request-id:"),
                ambiguous.headers());
    }

    /**
     * Jetty's own refusals, made before any servlet runs (a malformed request line, a bad {@code Content-Length},
     * headers too large, a bad URI encoding), come in OpenAI's error shape too, not as Jetty's HTML.
     */
    @Test
    void jettysOwnErrorsAreOpenAiJson() throws Exception {
        String big = "X-Big: " + "a".repeat(20_000) + "\r\n";
        Map<String, String> requests = new java.util.LinkedHashMap<>();
        requests.put("malformed request line", "GARBAGE\r\n\r\n");
        requests.put("bad Content-Length", "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Length: abc\r\n\r\n{}");
        requests.put("headers too large", "GET /v1/models HTTP/1.1\r\nHost: localhost\r\n" + big + "\r\n");
        requests.put("bad URI encoding", "GET /v1/%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        for (var request : requests.entrySet()) {
            RawResponse r = raw(request.getValue());
            String what = request.getKey() + ": " + r.status() + " " + r.headers() + "\n" + r.body();
            assertTrue(r.status() >= 400 && r.status() < 500, what);
            assertTrue(r.headers().toLowerCase(java.util.Locale.ROOT).contains("content-type: application/json"), what);
            JsonNode error = JSON.readTree(r.body()).path("error");
            assertTrue(error.path("message").asText().startsWith("HTTP " + r.status()), what);
            assertEquals("invalid_request_error", error.path("type").asText(), what);
        }
        ok(get("/v1/models"));
    }

    /**
     * 200 connections whose request headers never complete do not keep a normal request from an answer; past
     * {@code maxConnections} Jetty stops accepting and closes connections idle 2 s, so half-open clients at the
     * limit give way within seconds, not after the 30 s idle timeout.
     */
    @Test
    void halfOpenConnectionsDoNotStopANormalRequest() throws Exception {
        List<Socket> halfOpen = new ArrayList<>();
        try {
            openHalfOpen(halfOpen, 200);
            long start = System.nanoTime();
            ok(get("/v1/models"));
            ok(post("/v1/completions", completion("hello", 4, "")));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 5, "a normal request beside 200 half-open connections took " + seconds + " s");
            update("io.tessera.http", httpConfig(Map.of("maxConnections", 50)));
            Thread.sleep(500);   // the limit applies once the configuration is delivered
            openHalfOpen(halfOpen, 30);   // 230 open: Jetty stops accepting and times idle ones out in 2 s
            start = System.nanoTime();   // a fresh connection (a pooled one may be the one closed at the limit)
            String body = completion("hello", 4, "");
            RawResponse answered = raw("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(200, answered.status(), answered.body());
            assertTrue(seconds < 10, "a normal request at the connection limit took " + seconds + " s");
            int closed = 0;
            for (Socket s : halfOpen) {
                s.setSoTimeout(1);
                try {
                    closed += s.getInputStream().read() == -1 ? 1 : 0;
                } catch (java.net.SocketTimeoutException | java.net.SocketException e) {
                    closed += e instanceof java.net.SocketException ? 1 : 0;
                }
            }
            assertTrue(closed > 0, "no half-open connection was closed at the limit of 50");
            System.out.println("half-open: normal request at the limit answered in " + seconds + " s; " + closed
                    + " of " + halfOpen.size() + " half-open connections closed by the server");
        } finally {
            for (Socket s : halfOpen) {
                s.close();
            }
            update("io.tessera.http", httpConfig(Map.of()));
        }
    }

    /** Opens {@code count} connections that send the start of a request and never finish its headers. */
    private static void openHalfOpen(List<Socket> into, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            Socket s = new Socket("127.0.0.1", port);
            s.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Le"
                    .getBytes(StandardCharsets.UTF_8));
            into.add(s);
        }
    }

    /**
     * A non-streamed client that leaves is noticed (the leading whitespace the server writes while it waits fails)
     * and its generation cancelled, running or still queued: the engine stops well before the tokens they asked for.
     */
    @Test
    void aNonStreamedClientThatLeavesCancelsItsGeneration() throws Exception {
        long before = endedEarly("client_left");
        long generatedBefore = metric("tessera_generated_tokens_total{model=\"" + MODEL + "\"}");
        List<Socket> left = new ArrayList<>();
        for (int i = 0; i < 12; i++) {   // 8 KV slots: 8 run, 4 wait
            Socket s = new Socket("127.0.0.1", port);
            byte[] body = completion("Far away " + i, 500, "").getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                    + "application/json\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().write(body);
            left.add(s);
        }
        Thread.sleep(500);
        for (Socket s : left) {
            s.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (endedEarly("client_left") == before || !get("/metrics").body().contains(
                "tessera_running_sequences{model=\"" + MODEL + "\"} 0")) {
            assertTrue(System.nanoTime() < deadline, "abandoned non-streamed requests still run: "
                    + get("/metrics").body().lines().filter(l -> l.contains("running_seq") || l.contains("ended_early")
                    || l.contains("queue_depth")).toList());
            Thread.sleep(100);
        }
        long generated = metric("tessera_generated_tokens_total{model=\"" + MODEL + "\"}") - generatedBefore;
        assertTrue(generated < 12 * 500 / 2, "the abandoned requests ran on: " + generated + " tokens generated");
        ok(post("/v1/completions", completion("hello", 4, "")));
    }

    private static long endedEarly(String reason) throws Exception {
        return metric("tessera_requests_ended_early_total{reason=\"" + reason + "\"}");
    }

    /** A sample's value on /metrics, as an integer. */
    private static long metric(String sample) throws Exception {
        return get("/metrics").body().lines().filter(l -> l.startsWith(sample + " "))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(sample.length() + 1))).sum();
    }

    @Test
    void aClientThatLeavesCancelsItsGeneration() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            byte[] body = completion("Far away", 500, ",\"stream\":true").getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.write(body);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) {
                events += line.startsWith("data: {") ? 1 : 0;
            }
            assertEquals(3, events);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!get("/metrics").body().contains("tessera_running_sequences{model=\"" + MODEL + "\"} 0")) {
            assertTrue(System.nanoTime() < deadline, "the generation was not cancelled after the client left");
            Thread.sleep(100);
        }
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("tessera_expert_tokens_total{model=\"" + MODEL + "\",layer=\"1\""), metrics);
        assertTrue(metrics.contains("tessera_draft_steps_total{model=\"" + MODEL + "\",drafts=\"3\"}"), metrics);
        assertTrue(metrics.contains("tessera_draft_accepted_total{model=\"" + MODEL + "\",head=\"2\"}"), metrics);
    }

    /**
     * 8 concurrent greedy streams each give exactly their solo text, and share the engine's steps: they need a third
     * or less of the main-model passes the same work takes one request after another, i.e. 3× or more the tokens
     * per pass. That is the batching proof that holds on any machine; the wall-clock speed-up is printed (a CPU
     * backend's step costs grow with its rows, and a busy 2-core machine adds noise, so it is not asserted).
     */
    @Test
    void concurrentStreamsAreBatched() throws Exception {
        int streams = 8;
        int tokens = 96;
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            bodies.add(completion("Story " + i + ":", tokens, ",\"stream\":true,\"tessera_draft_tokens\":0"));
        }
        post("/v1/completions", bodies.getFirst());   // warm-up
        String slots = "tessera_kv_slots{model=\"" + MODEL + "\"} 8";
        assertTrue(get("/metrics").body().contains(slots), "the engine should run 8 sequences at once: "
                + get("/metrics").body().lines().filter(l -> l.startsWith("tessera_kv_slots")).toList());
        List<String> solo = new ArrayList<>();
        long steps = steps();
        long start = System.nanoTime();
        for (String b : bodies) {
            solo.add(streamedText(post("/v1/completions", b).body(), false));
        }
        double soloSeconds = (System.nanoTime() - start) / 1e9;
        long soloSteps = steps() - steps;
        // the 8 connections are open and the 8 requests written back to back before any answer is read, so they
        // reach the server together (a client that starts its requests one by one staggers them over many steps)
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < streams; i++) {
                sockets.add(new Socket("127.0.0.1", port));
            }
            steps = steps();
            start = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                byte[] body = bodies.get(i).getBytes(StandardCharsets.UTF_8);
                OutputStream out = sockets.get(i).getOutputStream();
                out.write(("POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                out.write(body);
                out.flush();
            }
            List<Future<String>> futures = new ArrayList<>();
            for (Socket socket : sockets) {
                futures.add(pool.submit(() -> {
                    // HTTP/1.0: the answer is not chunked and ends when the server closes the connection
                    String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(answer.startsWith("HTTP/1.1 200") || answer.startsWith("HTTP/1.0 200"), answer);
                    return streamedText(answer.substring(answer.indexOf("\r\n\r\n") + 4), false);
                }));
            }
            List<String> together = new ArrayList<>();
            for (Future<String> f : futures) {
                together.add(f.get(120, TimeUnit.SECONDS));
            }
            double batchSeconds = (System.nanoTime() - start) / 1e9;
            long batchSteps = steps() - steps;
            for (int i = 0; i < streams; i++) {
                assertFalse(solo.get(i).isEmpty());
                assertEquals(solo.get(i), together.get(i), "stream " + i + " differs from its solo run");
            }
            double perStep = soloSteps / (double) batchSteps;
            System.out.printf("batching: %d streams x %d tokens: one after another %.2f s in %d steps, concurrent "
                    + "%.2f s in %d steps: %.1fx tokens per step, %.1fx wall clock%n", streams, tokens, soloSeconds,
                    soloSteps, batchSeconds, batchSteps, perStep, soloSeconds / batchSeconds);
            assertTrue(perStep >= 3, "8 concurrent streams took " + batchSteps + " steps against " + soloSteps
                    + " one after another: not batched");
        } finally {
            pool.shutdownNow();
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    /**
     * Penalties and log-probabilities against logits recomputed independently: the fixture's greedy output with
     * frequency and presence penalties must be, at every step, the argmax of the model's logits (a fresh
     * teacher-forced pass over prompt + output) minus the penalties of the tokens generated before it, and each
     * reported log-probability the log-softmax of those penalised logits.
     */
    @Test
    void penaltiesAndLogprobsMatchRecomputedLogits() throws Exception {
        Generator engine = context.getService(context.getServiceReference(Generator.class));
        int vocab = context.getService(context.getServiceReference(TokenizerFactory.class)).load(modelDir)
                .vocabSize();
        int[] prompt = {5, 6, 7, 8, 9};
        float frequency = 1.5f;
        float presence = 0.5f;
        List<TokenLogprob> reported = new java.util.concurrent.CopyOnWriteArrayList<>();
        GenerationRequest request = new GenerationRequest(MODEL, prompt, 24,
                new SamplingParams(0f, 0, 1f, 0L, frequency, presence), Set.of(), -1, false, null, 2);
        int[] out = engine.submit(request, new GenerationListener() {
            @Override
            public void onTokens(int[] ids) {
            }

            @Override
            public void onToken(int id, TokenLogprob logprob) {
                reported.add(logprob);
            }
        }).result().toCompletableFuture().get(60, TimeUnit.SECONDS).tokens();
        assertEquals(24, out.length);
        int[] all = java.util.stream.IntStream.concat(java.util.Arrays.stream(prompt), java.util.Arrays.stream(out))
                .toArray();
        float[][] logits = new float[all.length][];
        engine.evaluate(MODEL, all, (position, row) -> logits[position] = row.clone()).toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
        int[] counts = new int[vocab];
        int repeats = 0;
        for (int i = 0; i < out.length; i++) {
            float[] row = logits[prompt.length - 1 + i];
            int best = 0;
            double sum = 0;
            for (int t = 0; t < vocab; t++) {
                row[t] -= counts[t] * frequency + (counts[t] > 0 ? presence : 0);
                best = row[t] > row[best] ? t : best;
            }
            for (int t = 0; t < vocab; t++) {
                sum += Math.exp(row[t] - row[best]);
            }
            assertEquals(best, out[i], "step " + i + ": not the argmax of the penalised logits");
            assertEquals(out[i], reported.get(i).id());
            assertEquals(row[out[i]] - row[best] - Math.log(sum), reported.get(i).logprob(), 1e-3, "step " + i);
            assertEquals(2, reported.get(i).topIds().length);
            repeats += counts[out[i]] > 0 ? 1 : 0;
            counts[out[i]]++;
        }
        System.out.println("penalties: 24 greedy tokens with " + repeats + " repeats: " + java.util.Arrays.toString(out));
    }

    /** The fixture model's main-model passes so far, from /metrics. */
    private static long steps() throws IOException, InterruptedException {
        String prefix = "tessera_steps_total{model=\"" + MODEL + "\"} ";
        return get("/metrics").body().lines().filter(l -> l.startsWith(prefix))
                .mapToLong(l -> Long.parseLong(l.substring(prefix.length()))).findFirst().orElseThrow();
    }

    // ---- real client SDKs ---------------------------------------------------------------------------------------

    @Test
    void officialClientSdks() throws Exception {
        Assumptions.assumeTrue(onPath("node") && onPath("npm"),
                "node and npm are not installed: the client SDK tests (openai, Vercel AI SDK) are skipped");
        Path repo = Path.of(context.getProperty("tessera.repo"));
        Path source = repo.resolve("bundles/http/src/test/js");
        Path work = repo.resolve("bundles/itest/target/sdk-js");
        Files.createDirectories(work);
        for (String f : List.of("package.json", "package-lock.json", "sdk-test.mjs")) {
            Files.copy(source.resolve(f), work.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(work.resolve("node_modules/openai"))) {
            run(work, Map.of(), 240, "npm", "ci", "--no-audit", "--no-fund");
        }
        String out = run(work, Map.of("TESSERA_BASE_URL", "http://127.0.0.1:" + port + "/v1", "TESSERA_MODEL", MODEL,
                "TESSERA_ECHO_MODEL", EchoModel.NAME), 120, "node", "sdk-test.mjs");
        System.out.print(out);
    }

    private static boolean onPath(String command) {
        String path = System.getenv("PATH");
        return path != null && java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, command)));
    }

    private static String run(Path dir, Map<String, String> env, int seconds, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] output;
        try (InputStream in = p.getInputStream()) {
            Future<byte[]> read = Executors.newVirtualThreadPerTaskExecutor().submit(in::readAllBytes);
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " took longer than " + seconds + " s");
            }
            output = read.get(10, TimeUnit.SECONDS);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + text);
        assertNotNull(text);
        return text;
    }

}
