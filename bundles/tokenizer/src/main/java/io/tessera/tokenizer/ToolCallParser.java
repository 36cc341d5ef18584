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
 * writes {@code "parameters"}), and types each value by the tool's JSON schema. Anything that does not validate
 * (unknown tool or parameter, a value of the wrong type, a missing required parameter, stray text) sets
 * {@link ToolCall#error()}.
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

    /** Checks the tool and types the raw values by its schema. */
    private ToolCall typed(String name, Map<String, String> raw, List<String> errors) {
        Map<String, Object> args = new LinkedHashMap<>();
        ToolSpec tool = tools.get(name);
        if (tool == null) {
            errors.addFirst("unknown tool '" + name + "'");
        }
        Map<?, ?> schema = tool == null || tool.parameters() == null ? Map.of() : tool.parameters();
        Map<?, ?> properties = schema.get("properties") instanceof Map<?, ?> m ? m : null;
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String arg = e.getKey();
            Object argSchema = properties == null ? null : properties.get(arg);
            if (tool != null && properties != null && argSchema == null) {
                errors.add("unknown parameter '" + arg + "'");
                args.put(arg, e.getValue());
                continue;
            }
            try {
                args.put(arg, convert(e.getValue(), argSchema));
            } catch (IllegalArgumentException ex) {
                errors.add("parameter '" + arg + "': " + ex.getMessage());
                args.put(arg, e.getValue());
            }
        }
        if (schema.get("required") instanceof List<?> required) {
            for (Object r : required) {
                if (!args.containsKey(String.valueOf(r))) {
                    errors.add("missing required parameter '" + r + "'");
                }
            }
        }
        return new ToolCall(null, name, args, errors.isEmpty() ? null : String.join("; ", errors));
    }

    /** A value written on its own lines (Qwen3-Coder style) loses the newline after the tag and before the end. */
    private static String trimNewline(String s) {
        int from = s.startsWith("\n") ? 1 : 0;
        int to = s.length() > from && s.endsWith("\n") ? s.length() - 1 : s.length();
        return s.substring(from, to);
    }

    /** Types a raw value by its property schema; a list of types takes the first that fits. */
    private static Object convert(String raw, Object schema) {
        Map<?, ?> s = schema instanceof Map<?, ?> m ? m : Map.of();
        Object type = s.get("type");
        Object value;
        if (type instanceof List<?> types) {
            value = null;
            IllegalArgumentException last = new IllegalArgumentException("no type in " + types);
            boolean ok = false;
            for (Object t : types) {
                try {
                    value = convertTo(raw, String.valueOf(t));
                    ok = true;
                    break;
                } catch (IllegalArgumentException e) {
                    last = e;
                }
            }
            if (!ok) {
                throw last;
            }
        } else {
            value = convertTo(raw, type == null ? "string" : String.valueOf(type));
        }
        Object typed = value;
        if (s.get("enum") instanceof List<?> allowed && allowed.stream().noneMatch(a -> same(a, typed))) {
            throw new IllegalArgumentException("'" + raw + "' is not one of " + allowed);
        }
        return value;
    }

    private static Object convertTo(String raw, String type) {
        if (type.equals("string")) {
            return raw;
        }
        JsonNode node;
        try {
            node = JSON.readTree(raw.strip());
        } catch (JacksonException e) {
            node = null;
        }
        boolean fits = node != null && switch (type) {
            case "integer" -> node.isIntegralNumber() && node.canConvertToLong();
            case "number" -> node.isNumber();
            case "boolean" -> node.isBoolean();
            case "object" -> node.isObject();
            case "array" -> node.isArray();
            case "null" -> node.isNull();
            default -> throw new IllegalArgumentException("unsupported schema type '" + type + "'");
        };
        if (!fits) {
            throw new IllegalArgumentException("'" + raw + "' is not a valid " + type);
        }
        return switch (type) {
            case "integer" -> node.asLong();
            case "number" -> node.isIntegralNumber() && node.canConvertToLong() ? (Object) node.asLong()
                    : (Object) node.asDouble();
            case "null" -> null;
            default -> JSON.convertValue(node, Object.class);
        };
    }

    /** JSON equality, numbers compared by value (the schema's 1 is the parsed 1L). */
    private static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return new java.math.BigDecimal(x.toString()).compareTo(new java.math.BigDecimal(y.toString())) == 0;
        }
        return java.util.Objects.equals(a, b);
    }
}
