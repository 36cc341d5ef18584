package io.tessera.grammar;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tessera.api.grammar.GrammarException;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.common.schema.RandomSchemas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded, bounded fuzz of the schema compiler: random schemas with keys, values and nesting mutated at random
 * either compile (and give a first mask) or are refused with a {@link GrammarException} naming a keyword —
 * never another exception, never past the compile bound.
 */
class SchemaFuzzTest {
    private static final String[] KEYS = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties",
            "required", "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength", "pattern",
            "format", "minimum", "maximum", "exclusiveMinimum", "not", "patternProperties", "uniqueItems", "$defs"};
    private static final Object[] VALUES = {"string", "object", "integer", "wat", -3, 0, 2.5, 1e30, 100000, true,
            false, null, List.of(), List.of("a", 1), Map.of(), Map.of("type", "boolean"), "#/nowhere", "#", "[a-",
            "(x)\\1", "^a{2,1}$", List.of(Map.of("type", "null"))};

    @Test
    void mutatedSchemasCompileOrAreRefusedByKeyword() {
        Tokenizer tokenizer = Vocabularies.fixture();
        GrammarService compiler = new GrammarService();
        RandomSchemas schemas = new RandomSchemas(3);
        SplittableRandom random = new SplittableRandom(3);
        int[] bits = new int[(tokenizer.vocabSize() + 31) / 32];
        int refused = 0;
        for (int i = 0; i < 400; i++) {
            Map<String, Object> schema = schemas.next();
            for (int m = 0; m < 1 + random.nextInt(4); m++) {
                mutate(schema, random);
            }
            long start = System.nanoTime();
            try {
                compiler.jsonSchema(schema, tokenizer, random.nextBoolean()).matcher().fillMask(bits);
            } catch (GrammarException e) {
                refused++;
                assertTrue(e.keyword() != null && !e.getMessage().isEmpty(), e.toString());
            } catch (RuntimeException e) {
                fail("schema " + schema + " threw " + e, e);
            }
            assertTrue(System.nanoTime() - start < 2 * SchemaCompiler.MAX_NANOS, "compile took too long: " + schema);
        }
        assertTrue(refused > 40 && refused < 360, refused + " of 400 refused: the mutations should do both");
    }

    /** Sets a random key of a random nested object to a random value. */
    @SuppressWarnings("unchecked")
    private static void mutate(Map<String, Object> schema, SplittableRandom random) {
        Map<String, Object> at = schema;
        for (int d = 0; d < 3; d++) {
            List<Map<String, Object>> children = new ArrayList<>();
            for (Object v : at.values()) {
                if (v instanceof Map<?, ?> m && !m.isEmpty()) {
                    children.add((Map<String, Object>) m);
                }
            }
            if (children.isEmpty() || random.nextBoolean()) {
                break;
            }
            Map<String, Object> child = children.get(random.nextInt(children.size()));
            Map<String, Object> copy = new LinkedHashMap<>(child);   // the generator's maps may be immutable
            try {
                at.replaceAll((k, v) -> v == child ? copy : v);
            } catch (UnsupportedOperationException e) {
                break;
            }
            at = copy;
        }
        try {
            at.put(KEYS[random.nextInt(KEYS.length)], VALUES[random.nextInt(VALUES.length)]);
        } catch (UnsupportedOperationException e) {
            // an immutable map of the generator: this mutation is skipped
        }
    }
}
