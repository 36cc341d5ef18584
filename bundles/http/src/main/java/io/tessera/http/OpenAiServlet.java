package io.tessera.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelMetrics;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarCompiler;
import io.tessera.api.grammar.SchemaValidator;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HexFormat;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.servlet.whiteboard.annotations.RequireHttpWhiteboard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible API on the HTTP whiteboard: {@code /v1/models}, {@code /v1/completions},
 * {@code /v1/chat/completions}, {@code /health}, {@code /health/ready}, {@code /metrics}; it is the default servlet,
 * so an unknown or ambiguous path gets OpenAI-shaped JSON too (Jetty passes ambiguous URIs on: LEGACY URI
 * compliance; nothing here maps paths to files). Configured
 * by PID {@code io.tessera.http} (served only when that configuration exists); its host, port and idle timeout are
 * handed to Felix HTTP's own configuration ({@code org.apache.felix.http}), so it is immediate: Felix HTTP listens
 * nowhere before it activates. A configuration with a bad value is logged and not applied. When the framework
 * stops, requests in flight are drained before anything else stops.
 */
@RequireHttpWhiteboard
@Component(service = Servlet.class, configurationPid = "io.tessera.http", immediate = true,
        configurationPolicy = ConfigurationPolicy.REQUIRE,
        property = {"osgi.http.whiteboard.servlet.pattern=/", "osgi.http.whiteboard.servlet.name=tessera-openai"})
@Designate(ocd = HttpSettings.class)
public class OpenAiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServlet.class);
    /** Felix HTTP's configuration PID and the keys of its address. */
    static final String FELIX_PID = "org.apache.felix.http";
    static final String FELIX_HOST = "org.apache.felix.http.host";
    static final String FELIX_PORT = "org.osgi.service.http.port";
    /** Felix HTTP's connector idle timeout in milliseconds: what ends slow and half-open connections. */
    static final String FELIX_TIMEOUT = "org.apache.felix.http.timeout";
    /** Jetty's URI checks: with LEGACY an ambiguous path reaches this servlet, which answers it in JSON. */
    static final String FELIX_URI_COMPLIANCE = "org.eclipse.jetty.UriComplianceMode";
    /** Streams block their request thread while they wait for tokens: virtual threads make that cheap. */
    static final String FELIX_VIRTUAL_THREADS = "org.apache.felix.http.jetty.virtualthreads.enable";
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final transient Generator generator;
    private final transient ModelRegistry registry;
    private final transient TokenizerFactory tokenizers;
    private final transient ConfigurationAdmin configAdmin;
    private final transient BundleContext context;
    // structured outputs: optional and dynamic, so the grammar bundle may come and go while the API serves
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile transient GrammarCompiler grammars;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile transient SchemaValidator validator;
    private final transient Map<Path, Tokenizer> loaded = new ConcurrentHashMap<>();
    private final transient Map<Integer, LongAdder> responses = new ConcurrentHashMap<>();
    private final transient InFlight inFlight = new InFlight();
    private final AtomicInteger active = new AtomicInteger();
    private volatile transient Settings settings;
    private volatile transient Serving serving;
    /** Drains when the framework starts stopping, while Jetty and the engine still run. */
    private final transient SynchronousBundleListener drainOnStop = event -> {
        if (event.getBundle().getBundleId() == 0 && event.getType() == BundleEvent.STOPPING) {
            inFlight.drain(serving.drainSeconds());
        }
    };

    @Activate
    public OpenAiServlet(@Reference(name = "generator") Generator generator,
                         @Reference(name = "registry") ModelRegistry registry,
                         @Reference(name = "tokenizers") TokenizerFactory tokenizers,
                         @Reference(name = "configAdmin", cardinality = ReferenceCardinality.OPTIONAL)
                         ConfigurationAdmin configAdmin, BundleContext context, HttpSettings config,
                         Map<String, Object> properties) {
        this.generator = generator;
        this.registry = registry;
        this.tokenizers = tokenizers;
        this.configAdmin = configAdmin;
        this.context = context;
        modified(config, properties);
        context.addBundleListener(drainOnStop);
    }

    /** The configuration went away or the bundle stops: requests in flight may finish first (bounded). */
    @Deactivate
    void deactivate() {
        context.removeBundleListener(drainOnStop);
        if (serving != null) {
            inFlight.drain(serving.drainSeconds());
        }
    }

    /** Applies a new configuration if every value is valid; otherwise logs why and keeps the current one. */
    @Modified
    void modified(HttpSettings config, Map<String, Object> properties) {
        Settings next;
        Serving nextServing;
        try {
            next = Settings.of(config);
            nextServing = Serving.of(config);
        } catch (IllegalArgumentException e) {
            LOG.error("io.tessera.http: configuration not applied ({}); {}", e.getMessage(),
                    settings == null ? "nothing is served until it is fixed" : "the previous one stays");
            return;
        }
        settings = next;
        serving = nextServing;
        contextProblems(next).forEach(LOG::error);
        Object file = properties.get("felix.fileinstall.filename");
        bind(next, nextServing, file == null ? "the io.tessera.http configuration" : file.toString());
    }

    /** Loaded models whose context cannot hold the longest prompt this configuration admits. */
    private List<String> contextProblems(Settings s) {
        List<String> problems = new ArrayList<>();
        for (ModelMetrics m : generator.metrics()) {
            long context = contextLength(m);
            if (context > 0 && s.maxPromptTokens() >= context) {
                problems.add("io.tessera.http: maxPromptTokens " + s.maxPromptTokens() + " does not fit the context "
                        + "length " + context + " of model '" + m.model() + "' (a prompt must leave room for the "
                        + "answer): set maxPromptTokens below " + context);
            }
        }
        return problems;
    }

    /**
     * Points Felix HTTP at the configured address (it restarts its connector when that changes). A port another
     * process holds is one clear line, and Felix HTTP is left where it was.
     */
    private void bind(Settings s, Serving v, String file) {
        if (configAdmin == null) {
            LOG.warn("io.tessera.http: no ConfigurationAdmin, Felix HTTP keeps its own host and port");
            return;
        }
        try {
            Configuration c = configAdmin.getConfiguration(FELIX_PID, "?");
            Dictionary<String, Object> p = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
            boolean sameAddress = Objects.equals(String.valueOf(p.get(FELIX_HOST)), s.host())
                    && Objects.equals(String.valueOf(p.get(FELIX_PORT)), String.valueOf(s.port()));
            if (sameAddress && Boolean.TRUE.equals(p.get(FELIX_VIRTUAL_THREADS))
                    && Objects.equals(p.get(FELIX_TIMEOUT), v.idleTimeoutSeconds() * 1000)
                    && p.get(FELIX_URI_COMPLIANCE) != null) {
                return;
            }
            String busy = sameAddress ? null : inUse(s.host(), s.port());
            if (busy != null) {
                LOG.error("io.tessera.http: the API is not served: {}:{} is taken ({}); set another port in {}",
                        s.host(), s.port(), busy, file);
                return;
            }
            p.put(FELIX_HOST, s.host());
            p.put(FELIX_PORT, s.port());
            p.put(FELIX_VIRTUAL_THREADS, true);
            p.put(FELIX_TIMEOUT, v.idleTimeoutSeconds() * 1000);
            p.put(FELIX_URI_COMPLIANCE, "LEGACY");
            c.update(p);
            LOG.info("io.tessera.http: serving on http://{}:{}/v1", s.host(), s.port());
        } catch (IOException e) {
            LOG.error("io.tessera.http: could not configure Felix HTTP: {}", e.getMessage());
        }
    }

    /** Why the address cannot be listened on (another process has it), or null when it can. */
    private static String inUse(String host, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
            return null;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String id = request.getHeader("X-Request-Id");
        String requestId = id != null && REQUEST_ID.matcher(id).matches() ? id
                : HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        response.setHeader("X-Request-Id", requestId);
        active.incrementAndGet();
        try {
            route(request, response);
        } catch (ApiException e) {
            error(response, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{} {} [request {}] failed", request.getMethod(), request.getRequestURI(), requestId, e);
            error(response, new ApiException(500, "server_error", null, null, "internal error: " + e));
        } finally {
            active.decrementAndGet();
            responses.computeIfAbsent(response.getStatus(), k -> new LongAdder()).increment();
        }
    }

    private void route(HttpServletRequest request, HttpServletResponse response)
            throws IOException, InterruptedException {
        String path = request.getRequestURI();
        Settings s = settings;
        if (!path.startsWith("/health")) {
            authorize(request, s, serving);
        }
        switch (path) {
            case "/health" -> {
                method(request, "GET");
                json(response, 200, health());
            }
            case "/health/ready" -> {
                method(request, "GET");
                ready(response);
            }
            case "/metrics" -> {
                method(request, "GET");
                byte[] text = Prometheus.text(generator.metrics(), responses, active.get(), inFlight.endedEarly())
                        .getBytes(StandardCharsets.UTF_8);
                response.setContentType("text/plain; version=0.0.4; charset=utf-8");
                response.getOutputStream().write(text);
            }
            case "/v1/models" -> {
                method(request, "GET");
                json(response, 200, models());
            }
            case "/v1/chat/completions" -> complete(request, response, s, true);
            case "/v1/completions" -> complete(request, response, s, false);
            default -> {
                if (path.startsWith("/v1/models/")) {
                    method(request, "GET");
                    String name = path.substring("/v1/models/".length());
                    ModelInfo info = registry.info(name).orElseThrow(() -> unknownModel(name));
                    json(response, 200, model(Json.MAPPER.createObjectNode(), info));
                } else {
                    throw new ApiException(404, "invalid_request_error", null, "unknown_url", "unknown URL: "
                            + request.getMethod() + " " + path);
                }
            }
        }
    }

    private static void method(HttpServletRequest request, String allowed) {
        if (!request.getMethod().equals(allowed)) {
            throw new ApiException(405, "invalid_request_error", null, "method_not_allowed", request.getMethod()
                    + " " + request.getRequestURI() + ": only " + allowed + " is allowed");
        }
    }

    /**
     * With an API key configured, requests must send {@code Authorization: Bearer <key>} (the scheme in any case).
     * Without one, only the configured host names are served, in {@code Host} and in {@code Origin} when a browser
     * sends it: a page elsewhere cannot drive a local server (DNS rebinding, cross-site requests).
     */
    private static void authorize(HttpServletRequest request, Settings s, Serving v) {
        if (s.apiKey().isEmpty()) {
            String host = bare(request.getServerName());
            if (!v.allows(host)) {
                throw forbidden("Host '" + host + "'");
            }
            String origin = request.getHeader("Origin");
            if (origin != null && !v.allows(originHost(origin))) {
                throw forbidden("Origin '" + origin + "'");
            }
            return;
        }
        String header = request.getHeader("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip()
                : "";
        if (!MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
                s.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    "missing or incorrect API key (send Authorization: Bearer <key>)");
        }
    }

    private static ApiException forbidden(String what) {
        return new ApiException(403, "invalid_request_error", null, "host_not_allowed", what + " is not served "
                + "without an API key: add the name to allowedHosts in io.tessera.http, or set apiKey");
    }

    private static String bare(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1)
                : host;
    }

    private static String originHost(String origin) {
        try {
            return bare(URI.create(origin).getHost());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void complete(HttpServletRequest request, HttpServletResponse response, Settings s, boolean chat)
            throws IOException, InterruptedException {
        method(request, "POST");
        Serving v = serving;
        if (inFlight.draining()) {
            throw ApiException.unavailable("the server is shutting down: try another node or again later",
                    Math.max(1, v.drainSeconds()));
        }
        Job job = new RequestParser(s).parse(body(request, s, v), chat);
        ModelInfo info = registry.info(job.model()).orElseThrow(() -> unknownModel(job.model()));
        if (info.state() == ModelInfo.State.FAILED) {
            throw ApiException.unavailable("model '" + info.name() + "' failed (" + String.join("; ",
                    info.waitingFor()) + "): an operator must unload and load it again", 30);
        }
        Tokenizer tokenizer = tokenizer(info);
        int[] prompt;
        try {
            prompt = chat ? tokenizer.encodeChat(job.messages(), job.tools(), new ChatOptions(true, job.thinking()))
                    : job.promptIds() != null ? job.promptIds() : tokenizer.encodeWithSpecialTokens(job.prompt());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(chat ? "messages" : "prompt", e.getMessage());
        } catch (UnsupportedOperationException e) {
            throw new ApiException(400, "invalid_request_error", "model", "chat_template_unsupported", "model '"
                    + job.model() + "' has no chat template this server renders (use /v1/completions): "
                    + e.getMessage());
        }
        String promptParam = chat ? "messages" : "prompt";
        if (prompt.length > s.maxPromptTokens()) {
            throw new ApiException(400, "invalid_request_error", promptParam, "context_length_exceeded",
                    "the prompt has " + prompt.length + " tokens; this server takes at most " + s.maxPromptTokens());
        }
        int maxTokens = maxTokens(job, s, prompt.length, promptParam);
        if (job.routing() && (long) (prompt.length + maxTokens) * job.n() > v.maxRoutingPositions()) {
            throw ApiException.invalid("tessera_routing", "a routing record of (" + prompt.length + " prompt + "
                    + maxTokens + " max_tokens) × n " + job.n() + " positions is larger than this server returns ("
                    + v.maxRoutingPositions() + " positions, maxRoutingPositions): ask for fewer tokens or choices");
        }
        Grammar grammar = job.structured().compile(grammars, tokenizer, job.thinking());
        Completion completion = new Completion(job, tokenizer, prompt, grammar, validator, v.requestTimeoutSeconds());
        inFlight.add(completion);
        try {
            completion.submit(generator, maxTokens, slotShare(job.model()));
            if (job.stream()) {
                stream(request, response, completion);
            } else {
                ObjectNode result;
                try {
                    result = completion.collect(() -> heartbeat(response));
                } catch (IOException e) {
                    inFlight.ended(InFlight.CLIENT_LEFT);
                    LOG.debug("client left {}: generation cancelled", request.getRequestURI());
                    return;
                } catch (ApiException e) {
                    inFlight.ended(e.status == 504 ? InFlight.TIMEOUT : InFlight.SHUTDOWN);
                    throw e;
                }
                json(response, 200, result);
            }
        } finally {
            inFlight.remove(completion);
        }
    }

    private void stream(HttpServletRequest request, HttpServletResponse response, Completion completion)
            throws IOException, InterruptedException {
        response.setStatus(200);
        response.setContentType("text/event-stream");
        response.setCharacterEncoding("utf-8");
        response.setHeader("Cache-Control", "no-cache");
        OutputStream out = response.getOutputStream();
        try {
            String cut = completion.stream(out);
            if (cut != null) {
                inFlight.ended(cut);
            }
        } catch (IOException e) {
            inFlight.ended(InFlight.CLIENT_LEFT);
            LOG.debug("client left {}: generation cancelled", request.getRequestURI());
        }
    }

    /**
     * What a non-streamed answer writes while it waits: a space, which a JSON parser skips. Without it the servlet
     * API would not show that the client left. The price: after the first second the status is 200, so a failure
     * after that arrives as an {@code {"error": ...}} body with status 200.
     */
    private static void heartbeat(HttpServletResponse response) throws IOException {
        if (!response.isCommitted()) {
            response.setStatus(200);
            response.setContentType("application/json");
            response.setCharacterEncoding("utf-8");
        }
        OutputStream out = response.getOutputStream();
        out.write(' ');
        out.flush();
    }

    /**
     * The request's max_tokens, or for a chat request without one the smaller of the server's maxTokens and what
     * the model's context leaves after the prompt (as vLLM does).
     */
    private int maxTokens(Job job, Settings s, int promptLength, String promptParam) {
        long context = generator.metrics().stream().filter(m -> m.model().equals(job.model()))
                .mapToLong(OpenAiServlet::contextLength).findFirst().orElse(0);
        if (context > 0 && promptLength >= context) {
            throw new ApiException(400, "invalid_request_error", promptParam, "context_length_exceeded",
                    "the prompt has " + promptLength + " tokens; the context of model '" + job.model() + "' holds "
                    + context + ", the answer included");
        }
        if (job.maxTokens() != null) {
            return job.maxTokens();
        }
        return context > 0 ? (int) Math.min(s.maxTokens(), context - promptLength) : s.maxTokens();
    }

    /** How many KV slots one request may hold at once: half the model's (at least one). */
    private int slotShare(String model) {
        return generator.metrics().stream().filter(m -> m.model().equals(model))
                .mapToInt(m -> Math.max(1, m.kvSlots() / 2)).findFirst().orElse(Integer.MAX_VALUE);
    }

    /** A model's context length, 0 when unknown. */
    private static long contextLength(ModelMetrics m) {
        return m.contextLength();
    }

    private static JsonNode body(HttpServletRequest request, Settings s, Serving v) throws IOException {
        if (request.getContentLengthLong() > s.maxBodyBytes()) {
            throw tooLarge(s);
        }
        byte[] bytes;
        try (InputStream in = request.getInputStream()) {
            bytes = in.readNBytes(s.maxBodyBytes() + 1);
        } catch (IOException e) {   // a slow or stalled client: Jetty's idle timeout ended the read
            throw new ApiException(408, "invalid_request_error", null, "request_timeout", "the request body did "
                    + "not arrive (nothing for " + v.idleTimeoutSeconds() + " s, idleTimeoutSeconds): " + e);
        }
        if (bytes.length > s.maxBodyBytes()) {
            throw tooLarge(s);
        }
        try {
            JsonNode node = Json.MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw ApiException.invalid(null, "the request body is empty: send a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw ApiException.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ApiException tooLarge(Settings s) {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "the request body is larger than " + s.maxBodyBytes() + " bytes");
    }

    private static ApiException unknownModel(String name) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "the model '" + name + "' does not exist");
    }

    private Tokenizer tokenizer(ModelInfo info) {
        try {
            return loaded.computeIfAbsent(info.directory(), dir -> {
                try {
                    return tokenizers.load(dir);
                } catch (IOException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            });
        } catch (RuntimeException e) {
            throw new ApiException(500, "server_error", "model", null, "the tokenizer of model '" + info.name()
                    + "' could not be loaded: " + e.getMessage());
        }
    }

    private ObjectNode models() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (ModelInfo info : registry.models()) {
            model(data.addObject(), info);
        }
        return o;
    }

    private static ObjectNode model(ObjectNode o, ModelInfo info) {
        o.put("id", info.name());
        o.put("object", "model");
        o.put("created", 0);
        o.put("owned_by", "tessera");
        o.put("tessera_state", info.state().name().toLowerCase(Locale.ROOT));
        if (info.state() == ModelInfo.State.FAILED) {
            o.put("tessera_failure", String.join("; ", info.waitingFor()));
        }
        return o;
    }

    /** Liveness: answers at once from each model's published state (never waits for a step). */
    private ObjectNode health() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("status", inFlight.draining() ? "draining" : "ok");
        ObjectNode models = o.putObject("models");
        List<String> problems = contextProblems(settings);
        for (ModelInfo info : registry.models()) {
            models.put(info.name(), info.state().name().toLowerCase(Locale.ROOT));
            if (info.state() == ModelInfo.State.FAILED) {
                problems.add("model " + info.name() + " failed: " + String.join("; ", info.waitingFor()));
            }
        }
        if (!problems.isEmpty()) {
            o.set("problems", Json.MAPPER.valueToTree(problems));
        }
        return o;
    }

    /** Readiness: 200 when every loaded model is ready and the server is not draining, else 503 with the reason. */
    private void ready(HttpServletResponse response) throws IOException {
        List<String> not = new ArrayList<>();
        if (inFlight.draining()) {
            not.add("draining");
        }
        List<ModelInfo> models = registry.models();
        if (models.isEmpty()) {
            not.add("no model loaded");
        }
        for (ModelInfo info : models) {
            if (info.state() != ModelInfo.State.READY) {
                not.add("model " + info.name() + " " + info.state().name().toLowerCase(Locale.ROOT) + ": "
                        + String.join(", ", info.waitingFor()));
            }
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("status", not.isEmpty() ? "ready" : "not ready");
        if (!not.isEmpty()) {
            o.set("reasons", Json.MAPPER.valueToTree(not));
            response.setHeader("Retry-After", "5");
        }
        json(response, not.isEmpty() ? 200 : 503, o);
    }

    private static void json(HttpServletResponse response, int status, ObjectNode body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("utf-8");
        response.getOutputStream().write(Json.MAPPER.writeValueAsBytes(body));
    }

    /**
     * Answers {@code e} in OpenAI's error shape. A non-streamed answer already begun by its heartbeat (status 200
     * sent) gets the error object as its body; a stream has sent its own error event.
     */
    private static void error(HttpServletResponse response, ApiException e) throws IOException {
        ObjectNode o = e.body();
        if (response.isCommitted()) {
            String type = response.getContentType();
            if (type != null && type.startsWith("application/json")) {
                response.getOutputStream().write(Json.MAPPER.writeValueAsBytes(o));
            }
            return;
        }
        String requestId = response.getHeader("X-Request-Id");
        response.reset();
        response.setHeader("X-Request-Id", requestId);
        if (e.status == 401) {
            response.setHeader("WWW-Authenticate", "Bearer");
        }
        if (e.retryAfterSeconds > 0) {
            response.setHeader("Retry-After", Integer.toString(e.retryAfterSeconds));
        }
        json(response, e.status, o);
    }
}
