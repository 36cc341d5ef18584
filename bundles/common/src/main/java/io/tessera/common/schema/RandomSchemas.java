package io.tessera.common.schema;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random JSON Schemas over the supported keywords. Every string, array and number is bounded, so every
 * output the grammar allows ends within a bounded number of bytes; alternatives of anyOf / oneOf have disjoint
 * types, so an output matches exactly one of them. Test support: the grammar bundle's unit tests and the OSGi
 * integration tests (which embed this package) draw their schemas here.
 */
public final class RandomSchemas {
    private static final String[] PATTERNS = {"^[a-z]{1,6}$", "^\\d{3}-\\d{4}$", "^(foo|bar){1,3}$",
            "^[A-Z][a-z]{0,4}( [A-Z][a-z]{0,4}){0,2}$", "^[^\"\\\\]{2,5}$"};
    private static final String[] FORMATS = {"date-time", "date", "time", "uuid", "email"};
    private static final String[] SCALARS = {"string", "integer", "number", "boolean", "null"};

    private final SplittableRandom random;

    public RandomSchemas(long seed) {
        random = new SplittableRandom(seed);
    }

    /** A schema; a third of them carry $defs referenced from inside, one in ten is recursive. */
    public Map<String, Object> next() {
        Map<String, Object> schema = object(0);
        if (random.nextInt(3) == 0) {
            Map<String, Object> defs = new LinkedHashMap<>();
            defs.put("item", value(1, "string"));
            schema.put("$defs", defs);
            properties(schema).put("ref", Map.of("$ref", "#/$defs/item"));
        }
        if (random.nextInt(10) == 0) {
            properties(schema).put("children", Map.of("type", "array", "maxItems", 1, "items", Map.of("$ref", "#")));
        }
        return schema;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> properties(Map<String, Object> object) {
        return (Map<String, Object>) object.get("properties");
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> properties = new LinkedHashMap<>();
        List<String> required = new ArrayList<>();
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            String name = "p" + i + (random.nextBoolean() ? "" : "_\u00e9");
            properties.put(name, value(depth + 1, null));
            if (random.nextBoolean()) {
                required.add(name);
            }
        }
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "object");
        schema.put("properties", properties);
        schema.put("required", required);
        schema.put("additionalProperties", false);
        return schema;
    }

    private Map<String, Object> value(int depth, String forced) {
        int kind = forced != null ? 0 : random.nextInt(depth >= 3 ? 5 : 9);
        return switch (kind) {
            case 0, 1, 2 -> scalar(forced != null ? forced : SCALARS[random.nextInt(SCALARS.length)]);
            case 3 -> Map.of("enum", List.of("red", 1, true, "bl\"ue"));
            case 4 -> Map.of("const", random.nextBoolean() ? "fixed" : 42);
            case 5 -> object(depth);
            case 6 -> {
                int max = random.nextInt(4);
                yield Map.of("type", "array", "items", value(depth + 1, null), "minItems", random.nextInt(max + 1),
                        "maxItems", max);
            }
            case 7 -> Map.of(random.nextBoolean() ? "anyOf" : "oneOf", List.of(scalar("string"), scalar("integer"),
                    scalar("null")));
            default -> Map.of("type", List.of("boolean", "null"));
        };
    }

    private Map<String, Object> scalar(String type) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("type", type);
        switch (type) {
            case "string" -> {
                switch (random.nextInt(3)) {
                    case 0 -> s.put("pattern", PATTERNS[random.nextInt(PATTERNS.length)]);
                    case 1 -> s.put("format", FORMATS[random.nextInt(FORMATS.length)]);
                    default -> {
                        int max = random.nextInt(9);
                        s.put("minLength", random.nextInt(max + 1));
                        s.put("maxLength", max);
                    }
                }
            }
            case "integer", "number" -> {
                if (random.nextBoolean()) {
                    long lo = random.nextLong(-1000, 1000);
                    s.put("minimum", lo);
                    s.put(random.nextBoolean() ? "maximum" : "exclusiveMaximum", lo + 1 + random.nextInt(5000));
                }
            }
            default -> {
            }
        }
        return s;
    }
}
