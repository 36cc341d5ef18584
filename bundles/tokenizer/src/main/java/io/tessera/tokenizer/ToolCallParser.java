package io.tessera.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses one tool call, MiMo's XML body ({@code <function=NAME>} then {@code <parameter=ARG>value</parameter>}
 * lines, then {@code </function>}) or a JSON object ({@code {"name": NAME, "arguments": {...}}}: Qwen3's; Llama 3.1
 * writes {@code "parameters"}), and types each value as the format forces: XML text carries no JSON type, so the
 * parameter's declared type says how to read it. Only what breaks the format (no {@code <function=...>},
 * an unknown tool, a parameter given twice, stray text) sets {@link ToolCall#error()}; whether the arguments
 * are valid (types, enum, required, bounds, nested schemas) is the JSON Schema validator's to say.
 */
final class ToolCallParser {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern FUNCTION = Pattern.compile("\\s*<function=([^>\\n]+)>(.*)</function>\\s*",
            Pattern.DOTALL);
    private static final Pattern PARAMETER = Pattern.compile("\\s*<parameter=([^>\\n]+)>(.*?)</parameter>",
            Pattern.DOTALL);

    private final Map<String, ToolSpec> tools = new HashMap<>();

    ToolCallParser(List<ToolSpec> tools) {
        for (ToolSpec t : tools) {
            this.tools.put(t.name(), t);
        }
    }

    ToolCall parse(String body) {
        Matcher f = FUNCTION.matcher(body);
        if (!f.matches()) {
            return new ToolCall(null, null, Map.of(), "tool call is not <function=NAME>...</function>");
        }
        List<String> errors = new ArrayList<>();
        Map<String, String> raw = new LinkedHashMap<>();
        String params = f.group(2);
        Matcher p = PARAMETER.matcher(params);
        int end = 0;
        while (p.find() && p.start() == end) {
            end = p.end();
            String arg = p.group(1).strip();
            if (raw.putIfAbsent(arg, trimNewline(p.group(2))) != null) {
                errors.add("parameter '" + arg + "' given twice");
            }
        }
        if (!params.substring(end).isBlank()) {
            errors.add("unexpected text in tool call: '" + params.substring(end).strip() + "'");
        }
        return typed(f.group(1).strip(), raw, errors);
    }

    /**
     * A call written as one JSON object: {@code name} and the arguments under {@code argumentsKey} (an object, or
     * a string holding one). A string value is taken as written, any other value as its JSON text, and typed by the
     * schema as in the XML form.
     */
    ToolCall parseJson(String body, String argumentsKey) {
        JsonNode node;
        try {
            node = JSON.readTree(body.strip());
        } catch (JacksonException e) {
            return new ToolCall(null, null, Map.of(), "tool call is not a JSON object: '" + body.strip() + "'");
        }
        if (node == null || !node.isObject() || !node.path("name").isTextual()) {
            return new ToolCall(null, null, Map.of(), "tool call is not a JSON object with a string \"name\": '"
                    + body.strip() + "'");
        }
        List<String> errors = new ArrayList<>();
        JsonNode args = node.path(argumentsKey);
        if (args.isTextual()) {
            try {
                args = JSON.readTree(args.asText());
            } catch (JacksonException e) {
                args = null;
            }
        }
        Map<String, String> raw = new LinkedHashMap<>();
        if (args != null && args.isObject()) {
            args.properties().forEach(e -> raw.put(e.getKey(),
                    e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
        } else if (!node.path(argumentsKey).isMissingNode()) {
            errors.add("\"" + argumentsKey + "\" is not a JSON object");
        }
        return typed(node.get("name").asText(), raw, errors);
    }

    /** Checks the tool and types the raw values by its declared parameter types. */
    private ToolCall typed(String name, Map<String, String> raw, List<String> errors) {
        ToolSpec tool = tools.get(name);
        if (tool == null) {
            errors.addFirst("unknown tool '" + name + "'");
        }
        Map<?, ?> schema = tool == null || tool.parameters() == null ? Map.of() : tool.parameters();
        Map<?, ?> properties = schema.get("properties") instanceof Map<?, ?> m ? m : Map.of();
        Map<String, Object> args = new LinkedHashMap<>();
        raw.forEach((arg, text) -> args.put(arg, typed(text, properties.get(arg))));
        return new ToolCall(null, name, args, errors.isEmpty() ? null : String.join("; ", errors));
    }

    /** A value written on its own lines (Qwen3-Coder style) loses the newline after the tag and before the end. */
    private static String trimNewline(String s) {
        int from = s.startsWith("\n") ? 1 : 0;
        int to = s.length() > from && s.endsWith("\n") ? s.length() - 1 : s.length();
        return s.substring(from, to);
    }

    /**
     * A raw value as JSON: the text itself for a declared {@code string}; for another declared type (the first
     * of a list that fits) the text read as JSON when it reads as that kind of value; with no declared type the
     * text read as JSON when it reads, as the grammar writes untyped values. Otherwise the text, for the
     * validator to judge.
     */
    private static Object typed(String raw, Object schema) {
        Object type = schema instanceof Map<?, ?> m ? m.get("type") : null;
        JsonNode node = json(raw);
        if (type == null) {
            return node == null ? raw : value(node);
        }
        for (Object t : type instanceof List<?> types ? types : List.of(type)) {
            if ("string".equals(t)) {
                return raw;
            }
            if (node != null && switch (String.valueOf(t)) {
                case "integer", "number" -> node.isNumber();
                case "boolean" -> node.isBoolean();
                case "object" -> node.isObject();
                case "array" -> node.isArray();
                case "null" -> node.isNull();
                default -> false;
            }) {
                return value(node);
            }
        }
        return raw;
    }

    private static JsonNode json(String raw) {
        try {
            JsonNode node = JSON.readTree(raw.strip());
            return node.isMissingNode() ? null : node;   // empty text
        } catch (JacksonException e) {
            return null;
        }
    }

    /** Integers as longs, other numbers as doubles, the rest as Jackson maps them. */
    private static Object value(JsonNode node) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.asLong();
        }
        return node.isNumber() ? (Object) node.asDouble() : JSON.convertValue(node, Object.class);
    }
}
