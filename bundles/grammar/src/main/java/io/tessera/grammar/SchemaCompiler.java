package io.tessera.grammar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.grammar.GrammarException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schema (a draft 2020-12 subset) to grammar rules over the bytes of compact-or-spaced JSON: objects with
 * required / optional properties in their declared order (no extra properties are generated), maps
 * ({@code additionalProperties} schema without {@code properties}), arrays with {@code items} and counts, enums,
 * const, strings with lengths, a {@code pattern} or a format (date-time, date, time, uuid, email), integers with
 * bounds (a bounded {@code number} is generated as an integer in its bounds), {@code anyOf} / {@code oneOf}
 * (generated as anyOf), single {@code allOf}, and local {@code $ref} with recursion. Every schema becomes a rule,
 * so repetitions and references cost one call edge. A keyword it cannot honour is a {@link GrammarException}
 * naming it; compilation is bounded in nodes ({@link Nfa#MAX_NODES}), schema depth and time.
 */
final class SchemaCompiler {
    static final int MAX_SCHEMA_DEPTH = 32;
    static final long MAX_NANOS = 2_000_000_000L;
    private static final int MAX_WHITESPACE = 12;
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict", "$anchor",
            "contentMediaType");
    private static final Set<String> KEYWORDS = Set.of("type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
            "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength",
            "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    // formats as patterns that only produce valid values (days up to 28, a few well-known top-level domains)
    private static final Map<String, String> FORMATS = Map.of(
            "date", "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])$",
            "time", "^([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-](0\\d|1[0-7]):[0-5]\\d)$",
            "date-time", "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d"
                    + "(\\.\\d{1,6})?(Z|[+-](0\\d|1[0-7]):[0-5]\\d)$",
            "uuid", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "email", "^[a-zA-Z0-9_%+-]{1,15}(\\.[a-zA-Z0-9_%+-]{1,15}){0,3}@[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?"
                    + "(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?){0,3}\\.(com|org|net|io|dev)$");
    private static final ObjectMapper JSON = new ObjectMapper();

    final Nfa nfa = new Nfa();
    private final Object root;
    private final Map<Object, Integer> rules = new IdentityHashMap<>();
    private final long deadline = System.nanoTime() + MAX_NANOS;
    private int whitespace = -1;
    private int character = -1;
    private int anyValue = -1;
    private int depth;

    SchemaCompiler(Object root) {
        this.root = root;
    }

    /** A rule for the whole output: optional thinking, then {@code body} between optional whitespace. */
    int output(Piece body, boolean thinking) {
        int rule = nfa.newRule();
        Piece start = thinking ? Piece.seq(Piece.textUntil("</think>"), ws()) : ws();
        Piece.seq(start, body, ws()).emit(nfa, nfa.ruleStart(rule), nfa.ruleEnd(rule));
        return rule;
    }

    /** A JSON value valid against {@code schema} (a rule call, one rule per schema object). */
    Piece value(Object schema) {
        Integer rule = rules.get(schema);
        if (rule != null) {
            return Piece.rule(rule);
        }
        if (System.nanoTime() > deadline) {
            throw new GrammarException("schema", "schema compilation took longer than " + MAX_NANOS / 1_000_000
                    + " ms");
        }
        if (++depth > MAX_SCHEMA_DEPTH) {
            throw new GrammarException("schema", "schema nested deeper than " + MAX_SCHEMA_DEPTH);
        }
        int id = nfa.newRule();
        rules.put(schema, id);
        body(schema).emit(nfa, nfa.ruleStart(id), nfa.ruleEnd(id));
        depth--;
        return Piece.rule(id);
    }

    /** Any JSON value. */
    Piece anyValue() {
        if (anyValue < 0) {
            anyValue = nfa.newRule();
            Piece value = Piece.rule(anyValue);
            Piece member = Piece.seq(string(Piece.repeat(character(), 0, -1)), ws(), Piece.literal(":"), ws(), value);
            Piece.alt(object(member), array(value, 0, -1), string(Piece.repeat(character(), 0, -1)), number(),
                    Piece.literal("true"), Piece.literal("false"), Piece.literal("null"))
                    .emit(nfa, nfa.ruleStart(anyValue), nfa.ruleEnd(anyValue));
        }
        return Piece.rule(anyValue);
    }

    /** {@code {}} or members separated by commas. */
    Piece object(Piece member) {
        Piece members = Piece.seq(member, Piece.repeat(Piece.seq(ws(), Piece.literal(","), ws(), member), 0, -1));
        return Piece.seq(Piece.literal("{"), ws(), Piece.optional(members), ws(), Piece.literal("}"));
    }

    private Piece body(Object schema) {
        if (Boolean.TRUE.equals(schema)) {
            return anyValue();
        }
        if (!(schema instanceof Map<?, ?> map)) {
            throw new GrammarException("schema", "a schema must be an object or a boolean, got " + schema);
        }
        for (Object key : map.keySet()) {
            if (!KEYWORDS.contains(key) && !ANNOTATIONS.contains(key)) {
                throw new GrammarException(String.valueOf(key), "unsupported JSON Schema keyword '" + key + "'");
            }
        }
        if (map.containsKey("$ref")) {
            alone(map, "$ref");
            return value(resolve(map.get("$ref")));
        }
        if (map.containsKey("const")) {
            return literal(map.get("const"));
        }
        if (map.get("enum") instanceof List<?> values) {
            if (values.isEmpty()) {
                throw new GrammarException("enum", "enum is empty");
            }
            return Piece.alt(values.stream().map(this::literal).toList());
        } else if (map.containsKey("enum")) {
            throw new GrammarException("enum", "enum must be an array");
        }
        for (String combinator : List.of("anyOf", "oneOf", "allOf")) {
            if (map.containsKey(combinator)) {
                alone(map, combinator);
                if (!(map.get(combinator) instanceof List<?> subs) || subs.isEmpty()) {
                    throw new GrammarException(combinator, combinator + " must be a non-empty array");
                }
                if (combinator.equals("allOf") && subs.size() > 1) {
                    throw new GrammarException("allOf", "allOf with more than one schema is not supported");
                }
                return Piece.alt(subs.stream().map(this::value).toList());
            }
        }
        Object type = map.containsKey("type") ? map.get("type") : impliedType(map);
        if (type == null) {
            return anyValue();
        }
        if (type instanceof List<?> types) {
            if (types.isEmpty()) {
                throw new GrammarException("type", "type is an empty array");
            }
            return Piece.alt(types.stream().map(t -> typed(String.valueOf(t), map)).toList());
        }
        return typed(String.valueOf(type), map);
    }

    private Piece typed(String type, Map<?, ?> schema) {
        return switch (type) {
            case "null" -> Piece.literal("null");
            case "boolean" -> Piece.alt(Piece.literal("true"), Piece.literal("false"));
            case "integer" -> integer(schema, true);
            case "number" -> hasBounds(schema) ? integer(schema, false) : number();
            case "string" -> stringOf(schema);
            case "array" -> {
                Object items = schema.containsKey("items") ? schema.get("items") : Boolean.TRUE;
                int min = count(schema, "minItems", 0);
                int max = count(schema, "maxItems", -1);
                yield array(Boolean.FALSE.equals(items) ? null : value(items), min, Boolean.FALSE.equals(items) ? 0 : max);
            }
            case "object" -> objectOf(schema);
            default -> throw new GrammarException("type", "unknown type '" + type + "'");
        };
    }

    private Piece objectOf(Map<?, ?> schema) {
        Map<?, ?> properties = schema.get("properties") instanceof Map<?, ?> p ? p : Map.of();
        if (schema.containsKey("properties") && !(schema.get("properties") instanceof Map<?, ?>)) {
            throw new GrammarException("properties", "properties must be an object");
        }
        List<?> required = schema.get("required") instanceof List<?> r ? r : List.of();
        for (Object name : required) {
            if (!properties.containsKey(name)) {
                throw new GrammarException("required", "required property '" + name + "' is not in properties");
            }
        }
        Object additional = schema.get("additionalProperties");
        if (properties.isEmpty()) {
            if (Boolean.FALSE.equals(additional)) {
                return Piece.seq(Piece.literal("{"), ws(), Piece.literal("}"));
            }
            Piece valueOf = additional == null ? anyValue() : value(additional);
            return object(Piece.seq(string(Piece.repeat(character(), 0, -1)), ws(), Piece.literal(":"), ws(), valueOf));
        }
        // properties in declared order; before[i]: none written yet, after[i]: some written (a comma comes next)
        return (nfa, from, to) -> {
            int open = nfa.newNode();
            Piece.seq(Piece.literal("{"), ws()).emit(nfa, from, open);
            int before = open;
            int after = nfa.newNode();
            for (Map.Entry<?, ?> e : properties.entrySet()) {
                Piece member = Piece.seq(literal(String.valueOf(e.getKey())), ws(), Piece.literal(":"), ws(),
                        value(e.getValue()));
                int nextBefore = nfa.newNode();
                int nextAfter = nfa.newNode();
                member.emit(nfa, before, nextAfter);
                Piece.seq(ws(), Piece.literal(","), ws(), member).emit(nfa, after, nextAfter);
                if (!required.contains(e.getKey())) {
                    nfa.epsilon(before, nextBefore);
                    nfa.epsilon(after, nextAfter);
                }
                before = nextBefore;
                after = nextAfter;
            }
            Piece close = Piece.seq(ws(), Piece.literal("}"));
            close.emit(nfa, before, to);
            close.emit(nfa, after, to);
        };
    }

    private Piece array(Piece item, int min, int max) {
        if (max == 0 || item == null) {
            return Piece.seq(Piece.literal("["), ws(), Piece.literal("]"));
        }
        Piece rest = Piece.repeat(Piece.seq(ws(), Piece.literal(","), ws(), item), Math.max(0, min - 1),
                max < 0 ? -1 : max - 1);
        Piece items = Piece.seq(item, rest);
        return Piece.seq(Piece.literal("["), ws(), min == 0 ? Piece.optional(items) : items, ws(), Piece.literal("]"));
    }

    private Piece stringOf(Map<?, ?> schema) {
        Object pattern = schema.get("pattern");
        String format = schema.get("format") instanceof String f && FORMATS.containsKey(f) ? f : null;
        boolean lengths = schema.containsKey("minLength") || schema.containsKey("maxLength");
        if (pattern != null || format != null) {
            String key = pattern != null ? "pattern" : "format";
            if (lengths || pattern != null && format != null) {
                throw new GrammarException(key, key + " together with " + (lengths ? "minLength/maxLength" : "format")
                        + " is not supported");
            }
            if (pattern != null && !(pattern instanceof String)) {
                throw new GrammarException("pattern", "pattern must be a string");
            }
            return string(Regex.compile(pattern != null ? (String) pattern : FORMATS.get(format), CharSet::json));
        }
        int min = count(schema, "minLength", 0);
        int max = count(schema, "maxLength", -1);
        return string(Piece.repeat(character(), min, max));
    }

    /** Integers within the schema's bounds; for a {@code number}, fractional bounds round inwards. */
    private Piece integer(Map<?, ?> schema, boolean integerType) {
        BigDecimal lo = bound(schema, "minimum");
        BigDecimal hi = bound(schema, "maximum");
        BigDecimal exLo = bound(schema, "exclusiveMinimum");
        BigDecimal exHi = bound(schema, "exclusiveMaximum");
        Long min = null;
        Long max = null;
        if (lo != null) {
            min = lo.setScale(0, RoundingMode.CEILING).longValueExact();
        }
        if (exLo != null) {
            long m = exLo.setScale(0, RoundingMode.FLOOR).longValueExact() + 1;
            min = min == null ? m : Math.max(min, m);
        }
        if (hi != null) {
            max = hi.setScale(0, RoundingMode.FLOOR).longValueExact();
        }
        if (exHi != null) {
            long m = exHi.setScale(0, RoundingMode.CEILING).longValueExact() - 1;
            max = max == null ? m : Math.min(max, m);
        }
        if (min != null && max != null && min > max) {
            throw new GrammarException("minimum", "no " + (integerType ? "integer" : "integer-valued number")
                    + " lies within the bounds");
        }
        return IntegerRange.of(min, max);
    }

    private static BigDecimal bound(Map<?, ?> schema, String key) {
        Object v = schema.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n)) {
            throw new GrammarException(key, key + " must be a number");
        }
        BigDecimal b = new BigDecimal(n.toString());
        if (b.abs().compareTo(BigDecimal.valueOf(1e15)) > 0) {
            throw new GrammarException(key, key + " beyond ±1e15 is not supported");
        }
        return b;
    }

    private static boolean hasBounds(Map<?, ?> schema) {
        return schema.containsKey("minimum") || schema.containsKey("maximum")
                || schema.containsKey("exclusiveMinimum") || schema.containsKey("exclusiveMaximum");
    }

    private static int count(Map<?, ?> schema, String key, int absent) {
        Object v = schema.get(key);
        if (v == null) {
            return absent;
        }
        if (!(v instanceof Number n) || n.doubleValue() != Math.floor(n.doubleValue()) || n.doubleValue() < 0) {
            throw new GrammarException(key, key + " must be a non-negative integer");
        }
        if (n.doubleValue() > 10_000) {
            throw new GrammarException(key, key + " above 10000 is not supported");
        }
        return n.intValue();
    }

    /** A type the keywords imply when {@code type} is absent, or null for any value. */
    private static String impliedType(Map<?, ?> schema) {
        if (schema.containsKey("properties") || schema.containsKey("required")
                || schema.containsKey("additionalProperties")) {
            return "object";
        }
        if (schema.containsKey("items") || schema.containsKey("minItems") || schema.containsKey("maxItems")) {
            return "array";
        }
        if (schema.containsKey("pattern") || schema.containsKey("minLength") || schema.containsKey("maxLength")
                || schema.containsKey("format")) {
            return "string";
        }
        return hasBounds(schema) ? "number" : null;
    }

    private static void alone(Map<?, ?> schema, String keyword) {
        for (Object key : schema.keySet()) {
            if (!key.equals(keyword) && !ANNOTATIONS.contains(key)) {
                throw new GrammarException(keyword, keyword + " beside '" + key + "' is not supported");
            }
        }
    }

    private Object resolve(Object ref) {
        if (!(ref instanceof String s) || !s.startsWith("#")) {
            throw new GrammarException("$ref", "only local references (#...) are supported, got " + ref);
        }
        Object at = root;
        if (s.length() > 1) {
            if (!s.startsWith("#/")) {
                throw new GrammarException("$ref", "unsupported reference '" + s + "'");
            }
            for (String part : s.substring(2).split("/", -1)) {
                String name = part.replace("~1", "/").replace("~0", "~");
                if (!(at instanceof Map<?, ?> m) || !m.containsKey(name)) {
                    throw new GrammarException("$ref", "reference '" + s + "' does not resolve");
                }
                at = m.get(name);
            }
        }
        return at;
    }

    /** The JSON text of a constant. */
    Piece literal(Object value) {
        try {
            return Piece.literal(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new GrammarException("const", "value is not JSON: " + e.getMessage());
        }
    }

    Piece string(Piece content) {
        return Piece.seq(Piece.literal("\""), content, Piece.literal("\""));
    }

    /** One character of a JSON string: an escape or any other character. */
    Piece character() {
        if (character < 0) {
            character = nfa.newRule();
            Piece escape = Piece.seq(Piece.literal("\\"), Piece.alt(Piece.range('"', '"'), Piece.range('\\', '\\'),
                    Piece.range('/', '/'), Piece.range('b', 'b'), Piece.range('f', 'f'), Piece.range('n', 'n'),
                    Piece.range('r', 'r'), Piece.range('t', 't'),
                    Piece.seq(Piece.literal("u"), Piece.repeat(hexDigit(), 4, 4))));
            Piece.alt(CharSet.ANY.minus(CharSet.of(0, 0x1F)).minus(CharSet.of('"', '"')).minus(CharSet.of('\\', '\\'))
                    .utf8(), escape).emit(nfa, nfa.ruleStart(character), nfa.ruleEnd(character));
        }
        return Piece.rule(character);
    }

    private static Piece hexDigit() {
        return Piece.alt(Piece.range('0', '9'), Piece.range('a', 'f'), Piece.range('A', 'F'));
    }

    /** A JSON number: optional minus, integer part without leading zeros, optional fraction and exponent. */
    Piece number() {
        Piece digits = Piece.repeat(Piece.range('0', '9'), 1, IntegerRange.MAX_DIGITS);
        Piece integer = Piece.alt(Piece.literal("0"),
                Piece.seq(Piece.range('1', '9'), Piece.repeat(Piece.range('0', '9'), 0, IntegerRange.MAX_DIGITS - 1)));
        Piece exponent = Piece.seq(Piece.alt(Piece.literal("e"), Piece.literal("E")),
                Piece.optional(Piece.alt(Piece.literal("+"), Piece.literal("-"))), Piece.repeat(Piece.range('0', '9'), 1, 3));
        return Piece.seq(Piece.optional(Piece.literal("-")), integer, Piece.optional(Piece.seq(Piece.literal("."), digits)),
                Piece.optional(exponent));
    }

    /** Optional whitespace, at most {@value #MAX_WHITESPACE} characters (so it cannot run away). */
    Piece ws() {
        if (whitespace < 0) {
            whitespace = nfa.newRule();
            Piece.repeat(Piece.alt(Piece.range('\t', '\n'), Piece.range('\r', '\r'), Piece.range(' ', ' ')), 0,
                    MAX_WHITESPACE).emit(nfa, nfa.ruleStart(whitespace), nfa.ruleEnd(whitespace));
        }
        return Piece.rule(whitespace);
    }
}
