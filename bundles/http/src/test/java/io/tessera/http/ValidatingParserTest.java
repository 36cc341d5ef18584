package io.tessera.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import io.tessera.grammar.NetworkntValidator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tool calls the tokenizer typed are checked against their schema by networknt; failures carry its message. */
class ValidatingParserTest {
    private static final ToolSpec WEATHER = new ToolSpec("get_weather", "", Map.of("type", "object",
            "properties", Map.of("city", Map.of("type", "string", "pattern", "^[A-Z]"),
                    "days", Map.of("type", "integer", "maximum", 7)), "required", List.of("city")));

    /** A parser that reports the given calls, as the tokenizer's would after typing them. */
    private static OutputParser reporting(List<ToolCall> calls) {
        return new OutputParser() {
            @Override
            public Delta feed(String text) {
                return new Delta("", text, calls);
            }

            @Override
            public Delta finish() {
                return Delta.EMPTY;
            }
        };
    }

    @Test
    void callsOutsideTheSchemaGetTheValidatorsMessage() {
        List<ToolCall> calls = List.of(
                new ToolCall("a", "get_weather", Map.of("city", "Paris", "days", 3L), null),
                new ToolCall("b", "get_weather", Map.of("city", "paris", "days", 99L), null),
                new ToolCall("c", "get_weather", Map.of("days", 1L), "parameter 'city' given twice"),
                new ToolCall("d", "other", Map.of(), null));
        OutputParser parser = new ValidatingParser(reporting(calls), List.of(WEATHER), new NetworkntValidator());
        List<ToolCall> checked = parser.feed("x").toolCalls();
        assertNull(checked.get(0).error());
        String error = checked.get(1).error();
        assertTrue(error.startsWith("arguments do not validate: ") && error.contains("7")
                && error.contains("[A-Z]"), error);
        assertEquals("parameter 'city' given twice", checked.get(2).error(), "the parser's own error stays");
        assertNull(checked.get(3).error(), "a tool without a spec here is left to the parser");
        assertEquals("x", parser.feed("x").content());
    }
}
