package io.tessera.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.servlet.whiteboard.annotations.RequireHttpWhiteboard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible API on the HTTP whiteboard: {@code /v1/models}, {@code /v1/completions},
 * {@code /v1/chat/completions}, {@code /health}, {@code /metrics}. Configured by PID {@code io.tessera.http}
 * (served only when that configuration exists); its host and port are handed to Felix HTTP's own configuration
 * ({@code org.apache.felix.http}), so it is immediate: Felix HTTP listens nowhere before it activates. A
 * configuration with a bad value is logged and not applied.
 */
@RequireHttpWhiteboard
@Component(service = Servlet.class, configurationPid = "io.tessera.http", immediate = true,
        configurationPolicy = ConfigurationPolicy.REQUIRE,
        property = {"osgi.http.whiteboard.servlet.pattern=/v1/*", "osgi.http.whiteboard.servlet.pattern=/health",
                "osgi.http.whiteboard.servlet.pattern=/metrics", "osgi.http.whiteboard.servlet.name=tessera-openai"})
@Designate(ocd = HttpSettings.class)
public class OpenAiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServlet.class);
    /** Felix HTTP's configuration PID and the keys of its address. */
    static final String FELIX_PID = "org.apache.felix.http";
    static final String FELIX_HOST = "org.apache.felix.http.host";
    static final String FELIX_PORT = "org.osgi.service.http.port";
    /** Streams block their request thread while they wait for tokens: virtual threads make that cheap. */
    static final String FELIX_VIRTUAL_THREADS = "org.apache.felix.http.jetty.virtualthreads.enable";

    private final transient Generator generator;
    private final transient ModelRegistry registry;
    private final transient TokenizerFactory tokenizers;
    private final transient ConfigurationAdmin configAdmin;
    private final transient Map<Path, Tokenizer> loaded = new ConcurrentHashMap<>();
    private final transient Map<Integer, LongAdder> responses = new ConcurrentHashMap<>();
    private final AtomicInteger active = new AtomicInteger();
    private volatile transient Settings settings;

    @Activate
    public OpenAiServlet(@Reference(name = "generator") Generator generator,
                         @Reference(name = "registry") ModelRegistry registry,
                         @Reference(name = "tokenizers") TokenizerFactory tokenizers,
                         @Reference(name = "configAdmin", cardinality = ReferenceCardinality.OPTIONAL)
                         ConfigurationAdmin configAdmin, HttpSettings config) {
        this.generator = generator;
        this.registry = registry;
        this.tokenizers = tokenizers;
        this.configAdmin = configAdmin;
        modified(config);
    }

    /** Applies a new configuration if every value is valid; otherwise logs why and keeps the current one. */
    @Modified
    void modified(HttpSettings config) {
        Settings next;
        try {
            next = Settings.of(config);
        } catch (IllegalArgumentException e) {
            LOG.error("io.tessera.http: configuration not applied ({}); {}", e.getMessage(),
                    settings == null ? "nothing is served until it is fixed" : "the previous one stays");
            return;
        }
        settings = next;
        bind(next);
    }

    /** Points Felix HTTP at the configured address (it restarts its connector when that changes). */
    private void bind(Settings s) {
        if (configAdmin == null) {
            LOG.warn("io.tessera.http: no ConfigurationAdmin, Felix HTTP keeps its own host and port");
            return;
        }
        try {
            Configuration c = configAdmin.getConfiguration(FELIX_PID, "?");
            Dictionary<String, Object> p = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
            if (Objects.equals(String.valueOf(p.get(FELIX_HOST)), s.host())
                    && Objects.equals(String.valueOf(p.get(FELIX_PORT)), String.valueOf(s.port()))
                    && Boolean.TRUE.equals(p.get(FELIX_VIRTUAL_THREADS))) {
                return;
            }
            p.put(FELIX_HOST, s.host());
            p.put(FELIX_PORT, s.port());
            p.put(FELIX_VIRTUAL_THREADS, true);
            c.update(p);
            LOG.info("io.tessera.http: serving on http://{}:{}/v1", s.host(), s.port());
        } catch (IOException e) {
            LOG.error("io.tessera.http: could not configure Felix HTTP: {}", e.getMessage());
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        active.incrementAndGet();
        try {
            route(request, response);
        } catch (ApiException e) {
            error(response, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{} {} failed", request.getMethod(), request.getRequestURI(), e);
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
        if (!path.equals("/health")) {
            authorize(request, s);
        }
        switch (path) {
            case "/health" -> {
                method(request, "GET");
                json(response, 200, health());
            }
            case "/metrics" -> {
                method(request, "GET");
                byte[] text = Prometheus.text(generator.metrics(), responses, active.get())
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

    /** With an API key configured, requests must send {@code Authorization: Bearer <key>}. */
    private static void authorize(HttpServletRequest request, Settings s) {
        if (s.apiKey().isEmpty()) {
            return;
        }
        String header = request.getHeader("Authorization");
        byte[] given = (header == null ? "" : header).getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, ("Bearer " + s.apiKey()).getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    "missing or incorrect API key (send Authorization: Bearer <key>)");
        }
    }

    private void complete(HttpServletRequest request, HttpServletResponse response, Settings s, boolean chat)
            throws IOException, InterruptedException {
        method(request, "POST");
        Job job = new RequestParser(s).parse(body(request, s), chat);
        ModelInfo info = registry.info(job.model()).orElseThrow(() -> unknownModel(job.model()));
        Tokenizer tokenizer = tokenizer(info);
        int[] prompt;
        try {
            prompt = chat ? tokenizer.encode(tokenizer.renderChat(job.messages(), job.tools(),
                    new ChatOptions(true, job.thinking())))
                    : job.promptIds() != null ? job.promptIds() : tokenizer.encodeWithSpecialTokens(job.prompt());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(chat ? "messages" : "prompt", e.getMessage());
        } catch (UnsupportedOperationException e) {
            throw new ApiException(400, "invalid_request_error", "model", "chat_template_unsupported", "model '"
                    + job.model() + "' has no chat template this server renders (use /v1/completions): "
                    + e.getMessage());
        }
        if (prompt.length > s.maxPromptTokens()) {
            throw new ApiException(400, "invalid_request_error", chat ? "messages" : "prompt",
                    "context_length_exceeded", "the prompt has " + prompt.length + " tokens; this server takes at "
                    + "most " + s.maxPromptTokens());
        }
        Completion completion = new Completion(job, tokenizer, prompt);
        completion.submit(generator, job.maxTokens() != null ? job.maxTokens() : s.maxTokens());
        if (job.stream()) {
            response.setStatus(200);
            response.setContentType("text/event-stream");
            response.setCharacterEncoding("utf-8");
            response.setHeader("Cache-Control", "no-cache");
            OutputStream out = response.getOutputStream();
            try {
                completion.stream(out);
            } catch (IOException e) {
                LOG.debug("client left {}: generation cancelled", request.getRequestURI());
            }
        } else {
            ObjectNode result;
            try {
                result = completion.collect();
            } catch (InterruptedException | RuntimeException e) {
                completion.cancel();
                throw e;
            }
            json(response, 200, result);
        }
    }

    /** Reads the body, at most {@code maxBodyBytes}, as one JSON value. */
    private static JsonNode body(HttpServletRequest request, Settings s) throws IOException {
        if (request.getContentLengthLong() > s.maxBodyBytes()) {
            throw tooLarge(s);
        }
        byte[] bytes;
        try (InputStream in = request.getInputStream()) {
            bytes = in.readNBytes(s.maxBodyBytes() + 1);
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
        return o;
    }

    private ObjectNode health() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("status", "ok");
        ObjectNode models = o.putObject("models");
        for (ModelInfo info : registry.models()) {
            models.put(info.name(), info.state().name().toLowerCase(Locale.ROOT));
        }
        return o;
    }

    private static void json(HttpServletResponse response, int status, ObjectNode body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("utf-8");
        response.getOutputStream().write(Json.MAPPER.writeValueAsBytes(body));
    }

    private static void error(HttpServletResponse response, ApiException e) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.reset();
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode error = o.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type);
        error.put("param", e.param);
        error.put("code", e.code);
        if (e.status == 401) {
            response.setHeader("WWW-Authenticate", "Bearer");
        }
        json(response, e.status, o);
    }
}
