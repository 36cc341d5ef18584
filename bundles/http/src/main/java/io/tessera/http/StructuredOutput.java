package io.tessera.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarCompiler;
import io.tessera.api.grammar.GrammarException;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What a request constrains its output to: {@code response_format} json_object / json_schema, or a forced tool
 * call ({@code tool_choice} required or a named function, {@code parallel_tool_calls}), plus {@code logit_bias}.
 * Parsed with the request; compiled into a grammar once the model's tokenizer is known. {@code strict: false}
 * is constrained all the same (best effort means at least this).
 *
 * @param kind     none, json_object, json_schema or tools
 * @param schema   json_schema: the schema
 * @param tools    tools: the functions the call may use (one for a named choice)
 * @param parallel tools: one or more calls (parallel_tool_calls, default true)
 * @param bias     logit_bias: token id → bias in [−100, 100]
 */
record StructuredOutput(Kind kind, Map<String, Object> schema, List<ToolSpec> tools, boolean parallel,
                        Map<Integer, Float> bias) {
    enum Kind { NONE, JSON_OBJECT, JSON_SCHEMA, TOOLS }

    static final StructuredOutput NONE = new StructuredOutput(Kind.NONE, null, List.of(), true, Map.of());

    /** Reads response_format, tool_choice (already split from "auto"/"none"), parallel_tool_calls, logit_bias. */
    static StructuredOutput parse(JsonNode body, boolean chat, List<ToolSpec> tools, JsonNode toolChoice) {
        Map<Integer, Float> bias = bias(body.get("logit_bias"));
        JsonNode parallelNode = body.get("parallel_tool_calls");
        if (present(parallelNode) && !parallelNode.isBoolean()) {
            throw ApiException.invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean");
        }
        boolean parallel = !present(parallelNode) || parallelNode.booleanValue();
        List<ToolSpec> forced = chat ? forcedTools(toolChoice, tools) : List.of();
        JsonNode format = body.get("response_format");
        Kind kind = Kind.NONE;
        Map<String, Object> schema = null;
        if (present(format)) {
            String type = format.isObject() ? format.path("type").asText("") : "";
            switch (type) {
                case "text" -> { }
                case "json_object" -> kind = Kind.JSON_OBJECT;
                case "json_schema" -> {
                    JsonNode js = format.get("json_schema");
                    if (js == null || !js.isObject() || !js.path("schema").isObject()) {
                        throw ApiException.invalid("response_format", "response_format json_schema needs "
                                + "json_schema.schema, an object");
                    }
                    if (present(js.get("strict")) && !js.get("strict").isBoolean()) {
                        throw ApiException.invalid("response_format", "json_schema.strict must be a boolean");
                    }
                    kind = Kind.JSON_SCHEMA;
                    schema = Json.MAPPER.convertValue(js.get("schema"), Json.MAP);
                }
                default -> throw ApiException.invalid("response_format", "response_format type must be text, "
                        + "json_object or json_schema");
            }
        }
        if (!forced.isEmpty()) {
            if (kind != Kind.NONE) {
                throw ApiException.invalid("response_format", "response_format cannot be combined with a forced "
                        + "tool_choice");
            }
            return new StructuredOutput(Kind.TOOLS, null, forced, parallel, bias);
        }
        return new StructuredOutput(kind, schema, List.of(), parallel, bias);
    }

    /** The grammar for a tokenizer, or null; an unsupported schema is a 400 naming the parameter and keyword. */
    Grammar compile(GrammarCompiler compiler, Tokenizer tokenizer, boolean thinking) {
        if (kind == Kind.NONE) {
            return null;
        }
        String param = kind == Kind.TOOLS ? "tool_choice" : "response_format";
        if (compiler == null) {
            throw new ApiException(400, "invalid_request_error", param, "unsupported",
                    "structured outputs need the grammar bundle (io.tessera.grammar), which is not running");
        }
        try {
            return switch (kind) {
                case JSON_OBJECT -> compiler.jsonObject(tokenizer, thinking);
                case JSON_SCHEMA -> compiler.jsonSchema(schema, tokenizer, thinking);
                case TOOLS -> compiler.toolCalls(tools, parallel, tokenizer, thinking);
                case NONE -> null;
            };
        } catch (GrammarException e) {
            throw new ApiException(400, "invalid_request_error", param, "unsupported_schema_keyword",
                    "schema keyword '" + e.keyword() + "': " + e.getMessage());
        }
    }

    /** "required": every tool; {"type": "function", "function": {"name": N}}: that one; else none forced. */
    private static List<ToolSpec> forcedTools(JsonNode choice, List<ToolSpec> tools) {
        if (!present(choice) || choice.isTextual() && !choice.asText().equals("required")) {
            return List.of();
        }
        if (tools.isEmpty()) {
            throw ApiException.invalid("tool_choice", "tool_choice forces a call but no tools are given");
        }
        if (choice.isTextual()) {
            return tools;
        }
        String name = choice.path("function").path("name").asText(null);
        if (!choice.isObject() || !"function".equals(choice.path("type").asText()) || name == null) {
            throw ApiException.invalid("tool_choice", "tool_choice must be \"auto\", \"none\", \"required\" or "
                    + "{\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        List<ToolSpec> named = tools.stream().filter(t -> t.name().equals(name)).toList();
        if (named.isEmpty()) {
            throw ApiException.invalid("tool_choice", "tool_choice names '" + name + "', which is not in tools");
        }
        return named;
    }

    private static Map<Integer, Float> bias(JsonNode v) {
        if (!present(v)) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw ApiException.invalid("logit_bias", "logit_bias must be an object of token id to bias");
        }
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw ApiException.invalid("logit_bias", "logit_bias key '" + e.getKey() + "' is not a token id");
            }
            if (id < 0 || !e.getValue().isNumber() || !(Math.abs(e.getValue().doubleValue()) <= 100)) {
                throw ApiException.invalid("logit_bias", "logit_bias maps token ids >= 0 to numbers in [-100, 100]");
            }
            out.put(id, e.getValue().floatValue());
        }
        return Map.copyOf(out);
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull();
    }
}
