package io.tessera.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Conversations in OpenAI's chat-completions JSON: messages (role, content, reasoning_content, tool_calls with
 * function.name and function.arguments as an object or a JSON string, tool_call_id) and tools
 * ({"type": "function", "function": {name, description, parameters}}).
 */
final class ChatJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {
    };

    private ChatJson() {
    }

    static List<ChatMessage> messages(JsonNode array, String where) {
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException(where + ": messages: missing or not an array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode m = array.get(i);
            String field = where + ": messages[" + i + "]";
            if (!m.path("role").isTextual()) {
                throw new IllegalArgumentException(field + ".role: missing");
            }
            List<ToolCall> calls = new ArrayList<>();
            JsonNode tc = m.path("tool_calls");
            for (int j = 0; j < tc.size(); j++) {
                JsonNode fn = tc.get(j).has("function") ? tc.get(j).get("function") : tc.get(j);
                JsonNode args = fn.path("arguments");
                calls.add(new ToolCall(text(tc.get(j).get("id")), fn.path("name").asText(),
                        arguments(args, field + ".tool_calls[" + j + "].function.arguments"), null));
            }
            out.add(new ChatMessage(m.get("role").asText(), content(m.get("content")), text(m.get("reasoning_content")),
                    List.copyOf(calls), text(m.get("tool_call_id"))));
        }
        return out;
    }

    static List<ToolSpec> tools(JsonNode array, String where) {
        List<ToolSpec> out = new ArrayList<>();
        if (array == null || array.isNull()) {
            return out;
        }
        for (int i = 0; i < array.size(); i++) {
            JsonNode fn = array.get(i).has("function") ? array.get(i).get("function") : array.get(i);
            if (!fn.path("name").isTextual()) {
                throw new IllegalArgumentException(where + ": tools[" + i + "].function.name: missing");
            }
            Map<String, Object> params = fn.has("parameters") ? JSON.convertValue(fn.get("parameters"), MAP) : null;
            out.add(new ToolSpec(fn.get("name").asText(), text(fn.get("description")), params));
        }
        return out;
    }

    private static Map<String, Object> arguments(JsonNode args, String field) {
        try {
            JsonNode node = args.isTextual() ? JSON.readTree(args.asText()) : args;
            if (node == null || node.isMissingNode() || node.isNull()) {
                return Map.of();
            }
            if (!node.isObject()) {
                throw new IllegalArgumentException(field + ": not a JSON object");
            }
            return JSON.convertValue(node, MAP);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(field + ": not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A content string, or OpenAI's list of parts, whose text parts are joined. */
    private static String content(JsonNode node) {
        if (node == null || !node.isArray()) {
            return text(node);
        }
        StringBuilder out = new StringBuilder();
        for (JsonNode part : node) {
            out.append(part.path("text").asText(""));
        }
        return out.toString();
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }
}
