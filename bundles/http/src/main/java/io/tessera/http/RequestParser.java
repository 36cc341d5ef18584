package io.tessera.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a completion request's JSON field by field: every wrong type, out-of-range or unsupported value becomes an
 * {@link ApiException} naming the parameter. Unknown fields are ignored, as OpenAI clients send extras.
 */
final class RequestParser {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private final Settings settings;

    RequestParser(Settings settings) {
        this.settings = settings;
    }

    Job parse(JsonNode body, boolean chat) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
        String model = string(body, "model", true);
        List<ChatMessage> messages = List.of();
        List<ToolSpec> tools = List.of();
        JsonNode forcedChoice = null;
        boolean thinking = false;
        String prompt = null;
        int[] promptIds = null;
        Integer maxTokens;
        int logprobs = -1;
        if (chat) {
            messages = messages(body.get("messages"));
            tools = tools(body.get("tools"));
            String choice = toolChoice(body.get("tool_choice"));
            if (choice.equals("none")) {
                tools = List.of();
            } else if (!choice.equals("auto")) {
                forcedChoice = body.get("tool_choice");
            }
            JsonNode kwargs = body.get("chat_template_kwargs");
            if (present(kwargs)) {
                if (!kwargs.isObject()) {
                    throw ApiException.invalid("chat_template_kwargs", "chat_template_kwargs must be an object");
                }
                thinking = bool(kwargs, "enable_thinking", false, "chat_template_kwargs.enable_thinking");
            }
            Integer completionTokens = integer(body, "max_completion_tokens", 1, settings.maxTokens());
            maxTokens = completionTokens != null ? completionTokens : integer(body, "max_tokens", 1,
                    settings.maxTokens());
            if (bool(body, "logprobs", false, "logprobs")) {
                Integer top = integer(body, "top_logprobs", 0, 20);
                logprobs = top == null ? 0 : top;
            } else if (present(body.get("top_logprobs"))) {
                throw ApiException.invalid("top_logprobs", "top_logprobs needs logprobs: true");
            }
        } else {
            JsonNode p = body.get("prompt");
            if (p != null && p.isTextual()) {
                prompt = p.asText();
            } else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
                prompt = p.get(0).asText();
            } else if (p != null && p.isArray() && !p.isEmpty() && allIntegers(p)) {
                promptIds = new int[p.size()];
                for (int i = 0; i < promptIds.length; i++) {
                    promptIds[i] = p.get(i).intValue();
                }
            } else {
                throw ApiException.invalid("prompt", "prompt must be a string, an array of one string or a non-empty "
                        + "array of token ids");
            }
            if (prompt != null && prompt.isEmpty()) {
                throw ApiException.invalid("prompt", "prompt must not be empty");
            }
            maxTokens = integer(body, "max_tokens", 1, settings.maxTokens());
            if (maxTokens == null) {
                maxTokens = Math.min(16, settings.maxTokens());   // OpenAI's default for /v1/completions
            }
            Integer top = integer(body, "logprobs", 0, 5);
            logprobs = top == null ? -1 : top;
            if (bool(body, "echo", false, "echo")) {
                throw ApiException.invalid("echo", "echo: true is not supported");
            }
            if (present(body.get("suffix"))) {
                throw ApiException.invalid("suffix", "suffix is not supported");
            }
        }
        Integer bestOf = integer(body, "best_of", 1, settings.maxChoices());
        Integer n = integer(body, "n", 1, settings.maxChoices());
        if (bestOf != null && bestOf != (n == null ? 1 : n)) {
            throw ApiException.invalid("best_of", "best_of other than n is not supported");
        }
        StructuredOutput structured = StructuredOutput.parse(body, chat, tools, forcedChoice);
        float temperature = number(body, "temperature", 0, 2, 1);
        float topP = number(body, "top_p", 0, 1, 1);
        if (topP == 0) {
            throw ApiException.invalid("top_p", "top_p must be > 0");
        }
        Integer topK = integer(body, "top_k", 0, Integer.MAX_VALUE);
        JsonNode seedNode = body.get("seed");
        Long seed = null;
        if (present(seedNode)) {
            if (!seedNode.isIntegralNumber() || !seedNode.canConvertToLong()) {
                throw ApiException.invalid("seed", "seed must be an integer");
            }
            seed = seedNode.longValue();
        }
        boolean stream = bool(body, "stream", false, "stream");
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (present(options)) {
            if (!options.isObject()) {
                throw ApiException.invalid("stream_options", "stream_options must be an object");
            }
            if (!stream) {
                throw ApiException.invalid("stream_options", "stream_options needs stream: true");
            }
            includeUsage = bool(options, "include_usage", false, "stream_options.include_usage");
        }
        Integer drafts = integer(body, "tessera_draft_tokens", 0, 3);
        return new Job(chat, model, messages, tools, thinking, prompt, promptIds, maxTokens, temperature, topP,
                topK == null ? 0 : topK, seed, number(body, "frequency_penalty", -2, 2, 0),
                number(body, "presence_penalty", -2, 2, 0), stop(body.get("stop")), n == null ? 1 : n, stream,
                includeUsage, logprobs, bool(body, "tessera_routing", false, "tessera_routing"),
                replay(body.get("tessera_replay_routing")), drafts == null ? -1 : drafts, structured,
                string(body, "cache_salt", false));
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull();
    }

    private static boolean allIntegers(JsonNode array) {
        for (JsonNode e : array) {
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                return false;
            }
        }
        return true;
    }

    private static String string(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (!present(v)) {
            if (required) {
                throw ApiException.invalid(field, "you must provide " + field);
            }
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid(field, field + " must be a string");
        }
        return v.asText();
    }

    private static boolean bool(JsonNode node, String field, boolean otherwise, String param) {
        JsonNode v = node.get(field);
        if (!present(v)) {
            return otherwise;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(param, param + " must be a boolean");
        }
        return v.booleanValue();
    }

    private static Integer integer(JsonNode node, String field, int min, int max) {
        JsonNode v = node.get(field);
        if (!present(v)) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
            throw ApiException.invalid(field, field + " must be an integer in [" + min + ", " + max + "], got "
                    + v);
        }
        return v.intValue();
    }

    private static float number(JsonNode node, String field, float min, float max, float otherwise) {
        JsonNode v = node.get(field);
        if (!present(v)) {
            return otherwise;
        }
        if (!v.isNumber() || !(v.doubleValue() >= min && v.doubleValue() <= max)) {
            throw ApiException.invalid(field, field + " must be a number in [" + min + ", " + max + "], got " + v);
        }
        return v.floatValue();
    }

    private static List<String> stop(JsonNode v) {
        if (!present(v)) {
            return List.of();
        }
        List<String> stops = new ArrayList<>();
        if (v.isTextual()) {
            stops.add(v.asText());
        } else if (v.isArray() && v.size() <= 4) {
            for (JsonNode s : v) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
                }
                stops.add(s.asText());
            }
        } else {
            throw ApiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
        }
        if (stops.contains("")) {
            throw ApiException.invalid("stop", "stop strings must not be empty");
        }
        return List.copyOf(stops);
    }

    private static List<ChatMessage> messages(JsonNode v) {
        if (!present(v) || !v.isArray() || v.isEmpty()) {
            throw ApiException.invalid("messages", "messages must be a non-empty array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode m = v.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.invalid(at, at + " must be an object");
            }
            JsonNode roleNode = m.get("role");
            if (roleNode == null || !roleNode.isTextual() || !ROLES.contains(roleNode.asText())) {
                throw ApiException.invalid(at + ".role", at + ".role must be one of " + ROLES);
            }
            String role = roleNode.asText().equals("developer") ? "system" : roleNode.asText();
            String content = content(m.get("content"), at + ".content");
            String reasoning = null;
            List<ToolCall> calls = List.of();
            String toolCallId = null;
            if (role.equals("assistant")) {
                JsonNode r = m.get("reasoning_content");
                if (present(r)) {
                    if (!r.isTextual()) {
                        throw ApiException.invalid(at + ".reasoning_content", "reasoning_content must be a string");
                    }
                    reasoning = r.asText();
                }
                calls = toolCalls(m.get("tool_calls"), at + ".tool_calls");
            } else if (role.equals("tool")) {
                JsonNode id = m.get("tool_call_id");
                if (!present(id) || !id.isTextual()) {
                    throw ApiException.invalid(at + ".tool_call_id", "a tool message needs a string tool_call_id");
                }
                toolCallId = id.asText();
            }
            if (content == null && calls.isEmpty()) {
                throw ApiException.invalid(at + ".content", at + " needs content");
            }
            out.add(new ChatMessage(role, content == null ? "" : content, reasoning, calls, toolCallId));
        }
        return List.copyOf(out);
    }

    /** A string, or an array of {@code {"type": "text", "text": ...}} parts (joined); null when absent. */
    private static String content(JsonNode v, String param) {
        if (!present(v)) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : v) {
                if (!part.isObject() || !"text".equals(part.path("type").asText(null)) || !part.path("text").isTextual()) {
                    throw ApiException.invalid(param, param + ": only text parts ({\"type\": \"text\", \"text\": "
                            + "...}) are supported");
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ApiException.invalid(param, param + " must be a string or an array of text parts");
    }

    private static List<ToolCall> toolCalls(JsonNode v, String param) {
        if (!present(v)) {
            return List.of();
        }
        if (!v.isArray()) {
            throw ApiException.invalid(param, param + " must be an array");
        }
        List<ToolCall> calls = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode c = v.get(i);
            String at = param + "[" + i + "]";
            JsonNode f = c.path("function");
            if (!f.path("name").isTextual() || !f.path("arguments").isTextual()) {
                throw ApiException.invalid(at, at + " needs function.name and function.arguments (strings)");
            }
            Map<String, Object> args;
            try {
                args = Json.MAPPER.readValue(f.get("arguments").asText(), Json.MAP);
            } catch (Exception e) {
                throw ApiException.invalid(at + ".function.arguments", "function.arguments must be a JSON object");
            }
            if (args == null) {
                throw ApiException.invalid(at + ".function.arguments", "function.arguments must be a JSON object");
            }
            calls.add(new ToolCall(c.path("id").asText(null), f.get("name").asText(), args, null));
        }
        return List.copyOf(calls);
    }

    private static List<ToolSpec> tools(JsonNode v) {
        if (!present(v)) {
            return List.of();
        }
        if (!v.isArray()) {
            throw ApiException.invalid("tools", "tools must be an array");
        }
        List<ToolSpec> tools = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode t = v.get(i);
            String at = "tools[" + i + "]";
            if (!t.isObject() || !"function".equals(t.path("type").asText(null)) || !t.path("function").isObject()) {
                throw ApiException.invalid(at, at + " must be {\"type\": \"function\", \"function\": {...}}");
            }
            JsonNode f = t.get("function");
            if (!f.path("name").isTextual() || !f.get("name").asText().matches("[A-Za-z0-9_.\\-]{1,64}")) {
                throw ApiException.invalid(at + ".function.name", "function.name must be 1-64 of a-z A-Z 0-9 _ . -");
            }
            JsonNode params = f.get("parameters");
            if (present(params) && !params.isObject()) {
                throw ApiException.invalid(at + ".function.parameters", "function.parameters must be a JSON schema "
                        + "object");
            }
            JsonNode description = f.get("description");
            if (present(description) && !description.isTextual()) {
                throw ApiException.invalid(at + ".function.description", "function.description must be a string");
            }
            Map<String, Object> schema = present(params) ? Json.MAPPER.convertValue(params, Json.MAP)
                    : new LinkedHashMap<>(Map.of("type", "object", "properties", Map.of()));
            tools.add(new ToolSpec(f.get("name").asText(), present(description) ? description.asText() : null,
                    schema));
        }
        return List.copyOf(tools);
    }

    /** "auto" (default), "none", "required", or "function" for a named function ({@link StructuredOutput}). */
    private static String toolChoice(JsonNode v) {
        if (!present(v)) {
            return "auto";
        }
        if (v.isTextual() && List.of("auto", "none", "required").contains(v.asText())) {
            return v.asText();
        }
        if (v.isObject()) {
            return "function";
        }
        throw ApiException.invalid("tool_choice", "tool_choice must be \"auto\", \"none\", \"required\" or "
                + "{\"type\": \"function\", \"function\": {\"name\": ...}}");
    }

    /** {@code {"start_position": int, "experts": [[[int]]]}}: experts[token][layer][k]. */
    private static RoutingRecord replay(JsonNode v) {
        if (!present(v)) {
            return null;
        }
        String param = "tessera_replay_routing";
        if (!v.isObject() || !v.path("start_position").isIntegralNumber() || !v.path("experts").isArray()) {
            throw ApiException.invalid(param, param + " must be {\"start_position\": int, \"experts\": "
                    + "[[[int]]]}");
        }
        JsonNode experts = v.get("experts");
        int[][][] ids = new int[experts.size()][][];
        for (int t = 0; t < ids.length; t++) {
            JsonNode layers = experts.get(t);
            if (!layers.isArray()) {
                throw ApiException.invalid(param, param + ".experts[" + t + "] must be an array of layers");
            }
            ids[t] = new int[layers.size()][];
            for (int l = 0; l < layers.size(); l++) {
                JsonNode k = layers.get(l);
                if (!k.isArray() || !allIntegers(k)) {
                    throw ApiException.invalid(param, param + ".experts[" + t + "][" + l + "] must be an array of "
                            + "expert ids");
                }
                ids[t][l] = new int[k.size()];
                for (int j = 0; j < k.size(); j++) {
                    ids[t][l][j] = k.get(j).intValue();
                }
            }
        }
        return new RoutingRecord(v.get("start_position").intValue(), ids);
    }
}
