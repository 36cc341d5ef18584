package io.tessera.grammar;

import io.tessera.api.grammar.GrammarException;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MiMo's XML tool calls as grammar: {@code <tool_call>\n<function=NAME>}, then each parameter as
 * {@code \n<parameter=ARG>VALUE</parameter>} (required ones always, optional ones maybe, in the schema's order),
 * then {@code \n</function>\n</tool_call>} — the layout of the chat template. A string value is raw text (free
 * text up to {@code </parameter>}, or spelled without {@code <} when its schema constrains it); any other value
 * is JSON valid against its schema, as the tool-call parser reads it.
 */
final class ToolCalls {
    private ToolCalls() {
    }

    static Piece calls(SchemaCompiler compiler, List<ToolSpec> tools, boolean parallel) {
        if (tools.isEmpty()) {
            throw new GrammarException("tools", "no tool to call");
        }
        List<Piece> choices = new ArrayList<>();
        for (ToolSpec tool : tools) {
            try {
                choices.add(call(compiler, tool));
            } catch (GrammarException e) {
                throw new GrammarException(e.keyword(), "tool '" + tool.name() + "': " + e.getMessage());
            }
        }
        Piece one = Piece.alt(choices);
        return parallel ? Piece.seq(one, Piece.repeat(Piece.seq(compiler.ws(), one), 0, -1)) : one;
    }

    private static Piece call(SchemaCompiler compiler, ToolSpec tool) {
        Map<String, Object> schema = tool.parameters() == null ? Map.of() : tool.parameters();
        Map<?, ?> properties = schema.get("properties") instanceof Map<?, ?> p ? p : Map.of();
        List<?> required = schema.get("required") instanceof List<?> r ? r : List.of();
        List<Piece> parts = new ArrayList<>();
        parts.add(Piece.literal("<tool_call>\n<function=" + tool.name() + ">"));
        for (Map.Entry<?, ?> e : properties.entrySet()) {
            Piece parameter = Piece.seq(Piece.literal("\n<parameter=" + e.getKey() + ">"), value(compiler, e.getValue()));
            parts.add(required.contains(e.getKey()) ? parameter : Piece.optional(parameter));
        }
        parts.add(Piece.literal("\n</function>\n</tool_call>"));
        return Piece.seq(parts.toArray(Piece[]::new));
    }

    /** A parameter's value and its closing tag. */
    private static Piece value(SchemaCompiler compiler, Object schema) {
        Map<?, ?> s = schema instanceof Map<?, ?> m ? m : Map.of();
        Object type = s.get("type") instanceof List<?> types && !types.isEmpty() ? types.get(0) : s.get("type");
        Piece close = Piece.literal("</parameter>");
        if (!"string".equals(type)) {
            return Piece.seq(compiler.value(schema), close);
        }
        if (s.get("enum") instanceof List<?> values) {
            return Piece.seq(Piece.alt(values.stream().map(v -> Piece.literal(String.valueOf(v))).toList()), close);
        }
        if (s.get("pattern") instanceof String pattern) {
            return Piece.seq(Regex.compile(pattern, CharSet::raw), close);
        }
        if (s.containsKey("minLength") || s.containsKey("maxLength")) {
            int min = s.get("minLength") instanceof Number n ? n.intValue() : 0;
            int max = s.get("maxLength") instanceof Number n ? n.intValue() : -1;
            return Piece.seq(Piece.repeat(CharSet.ANY.raw(), min, max), close);
        }
        return Piece.textUntil("</parameter>");
    }
}
