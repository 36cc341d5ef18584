package io.tessera.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MiMo's XML tool calls as the server checks them: the tokenizer's parser only types the values, networknt
 * judges them — here with the keywords the parser's old hand-written subset ignored (nested properties, bounds,
 * pattern, anyOf, $ref, additionalProperties) beside enum and required.
 */
class ToolArgumentValidationTest {
    private static final Map<String, Object> SCHEMA = Map.of("type", "object",
            "$defs", Map.of("unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit"))),
            "properties", Map.of(
                    "city", Map.of("type", "string", "pattern", "^[A-Z][a-z]+$"),
                    "days", Map.of("type", "integer", "minimum", 1, "maximum", 7),
                    "unit", Map.of("$ref", "#/$defs/unit"),
                    "where", Map.of("type", "object", "properties", Map.of("lat", Map.of("type", "number",
                            "maximum", 90)), "required", List.of("lat")),
                    "when", Map.of("anyOf", List.of(Map.of("type", "integer"), Map.of("const", "now")))),
            "required", List.of("city"), "additionalProperties", false);
    private static final ToolSpec WEATHER = new ToolSpec("get_weather", "", SCHEMA);

    @Test
    void validArgumentsPass() {
        assertEquals(List.of(), errors("city>Paris", "days>7", "unit>celsius", "where>{\"lat\": 48.8}", "when>now"));
        assertEquals(List.of(), errors("city>Oslo", "when>3"));
    }

    @Test
    void theLibraryRefusesWhatTheOldSubsetLetThrough() {
        assertRefused("days", "city>Paris", "days>8");                        // bound
        assertRefused("city", "city>paris");                                  // pattern
        assertRefused("unit", "city>Paris", "unit>kelvin");                   // enum behind a $ref
        assertRefused("lat", "city>Paris", "where>{\"lat\": 100}");           // nested bound
        assertRefused("lat", "city>Paris", "where>{}");                       // nested required
        assertRefused("when", "city>Paris", "when>later");                    // anyOf
        assertRefused("city", "days>2");                                      // required
        assertRefused("zip", "city>Paris", "zip>75001");                      // additionalProperties
        assertRefused("days", "city>Paris", "days>three");                    // a value that is no integer
    }

    private static void assertRefused(String about, String... parameters) {
        List<String> errors = errors(parameters);
        assertTrue(!errors.isEmpty() && String.join("; ", errors).contains(about), about + ": " + errors);
    }

    /** The validator's messages for a call with the given {@code NAME>VALUE} parameters. */
    private static List<String> errors(String... parameters) {
        StringBuilder text = new StringBuilder("<tool_call>\n<function=get_weather>\n");
        for (String p : parameters) {
            text.append("<parameter=").append(p).append("</parameter>\n");
        }
        text.append("</function>\n</tool_call>");
        OutputParser parser = Vocabularies.fixture().newOutputParser(List.of(WEATHER));
        List<ToolCall> calls = new ArrayList<>(parser.feed(text.toString()).toolCalls());
        calls.addAll(parser.finish().toolCalls());
        assertEquals(1, calls.size(), text.toString());
        assertNull(calls.getFirst().error(), text.toString());
        return new NetworkntValidator().validate(calls.getFirst().arguments(), SCHEMA);
    }
}
