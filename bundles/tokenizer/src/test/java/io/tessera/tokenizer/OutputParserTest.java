package io.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutputParserTest {
    private static final List<ToolSpec> TOOLS = List.of(
            new ToolSpec("get_weather", "weather", Map.of("type", "object", "properties", Map.of(
                    "city", Map.of("type", "string"),
                    "days", Map.of("type", "integer"),
                    "unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit"))),
                    "required", List.of("city"))),
            new ToolSpec("configure", "all types", Map.of("type", "object", "properties", Map.of(
                    "ratio", Map.of("type", "number"),
                    "on", Map.of("type", "boolean"),
                    "opts", Map.of("type", "object"),
                    "tags", Map.of("type", "array"),
                    "note", Map.of("type", List.of("null", "string"))))));

    private static final String OUTPUT = "<think>Let me think about <b>tags</b> and < signs.\n</think>\n\nSure, "
            + "checking <tool.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSão Paulo\n</parameter>\n"
            + "<parameter=days>3</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=configure>\n"
            + "<parameter=ratio>0.5</parameter>\n<parameter=on>true</parameter>\n<parameter=opts>{\"a\": [1, 2]}"
            + "</parameter>\n<parameter=tags>[\"x\", \"y\"]</parameter>\n<parameter=note>null</parameter>\n"
            + "</function>\n</tool_call>\nDone 🙂 <thin";

    /** Everything one stream produced. */
    private record Result(String reasoning, String content, List<ToolCall> calls) {
    }

    private static Result run(List<String> fragments) {
        OutputParser p = new TagOutputParser(TOOLS, false);
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        for (String f : fragments) {
            OutputParser.Delta d = p.feed(f);
            reasoning.append(d.reasoning());
            content.append(d.content());
            calls.addAll(d.toolCalls());
        }
        OutputParser.Delta d = p.finish();
        reasoning.append(d.reasoning());
        content.append(d.content());
        calls.addAll(d.toolCalls());
        return new Result(reasoning.toString(), content.toString(), calls);
    }

    @Test
    void splitsReasoningContentAndTypedToolCalls() {
        Result r = run(List.of(OUTPUT));
        assertEquals("Let me think about <b>tags</b> and < signs.\n", r.reasoning());
        assertEquals("\n\nSure, checking <tool.\n\n\nDone 🙂 <thin", r.content());
        assertEquals(2, r.calls().size());
        ToolCall weather = r.calls().get(0);
        assertEquals("get_weather", weather.name());
        assertEquals(Map.of("city", "São Paulo", "days", 3L), weather.arguments());
        assertNull(weather.error());
        ToolCall configure = r.calls().get(1);
        assertNull(configure.error(), configure.error());
        Map<String, Object> want = new LinkedHashMap<>();
        want.put("ratio", 0.5);
        want.put("on", true);
        want.put("opts", Map.of("a", List.of(1, 2)));
        want.put("tags", List.of("x", "y"));
        want.put("note", null);
        assertEquals(want, configure.arguments());
    }

    @Test
    void randomFragmentationsGiveTheSameResult() {
        Result whole = run(List.of(OUTPUT));
        Random random = new Random(42);
        for (int trial = 0; trial < 2000; trial++) {
            List<String> fragments = new ArrayList<>();
            int i = 0;
            while (i < OUTPUT.length()) {
                int n = Math.min(OUTPUT.length() - i, 1 + random.nextInt(trial % 3 == 0 ? 3 : 20));
                fragments.add(OUTPUT.substring(i, i + n));
                i += n;
            }
            assertEquals(whole, run(fragments), "fragments " + fragments);
        }
    }

    @Test
    void randomTagSoupIsFragmentationInvariant() {
        String[] alphabet = {"<", ">", "/", "think", "tool_call", "<think>", "</think>", "<tool_call>", "</tool_call>",
            "<function=get_weather>", "<parameter=city>", "</parameter>", "</function>", "x", "\n", "é", "🙂", "<thi",
            "</tool_c"};
        Random random = new Random(7);
        for (int trial = 0; trial < 3000; trial++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(30); i > 0; i--) {
                text.append(alphabet[random.nextInt(alphabet.length)]);
            }
            List<String> fragments = new ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int n = Math.min(text.length() - i, 1 + random.nextInt(6));
                fragments.add(text.substring(i, i + n));
                i += n;
            }
            Result whole = run(List.of(text.toString()));
            assertEquals(whole, run(fragments), "text " + text + " fragments " + fragments);
            // nothing is lost or invented outside tool calls
            String visible = whole.reasoning() + whole.content();
            assertTrue(visible.length() <= text.length(), text.toString());
        }
    }

    @Test
    void holdsBackOnlyWhatCouldStartATag() {
        OutputParser p = new TagOutputParser(TOOLS, false);
        assertEquals("abc", p.feed("abc<").content());
        assertEquals("", p.feed("thi").content());
        assertEquals("<thix ", p.feed("x <").content());
        assertEquals("", p.feed("").content());
        assertEquals("", p.feed("tool_c").content());
        assertEquals("<tool_cx", p.feed("x").content());
        assertEquals("", p.feed("<").content());
        assertEquals("<", p.finish().content());
        OutputParser q = new TagOutputParser(TOOLS, false);
        q.feed("<think>abc</th");
        assertEquals("", q.feed("").reasoning());
        assertEquals("</thx", q.feed("x").reasoning());
    }

    @Test
    void callsThatDoNotValidateCarryAnError() {
        assertError("<function=get_weather>\n<parameter=days>three</parameter>\n</function>",
                "'three' is not a valid integer");
        assertError("<function=get_weather>\n<parameter=days>2</parameter>\n</function>",
                "missing required parameter 'city'");
        assertError("<function=get_weather>\n<parameter=city>x</parameter>\n<parameter=zip>1</parameter>\n</function>",
                "unknown parameter 'zip'");
        assertError("<function=get_weather>\n<parameter=city>x</parameter>\n<parameter=unit>kelvin</parameter>\n"
                + "</function>", "is not one of");
        assertError("<function=nope>\n</function>", "unknown tool 'nope'");
        assertError("{\"name\": \"get_weather\"}", "not <function=NAME>");
        assertError("<function=configure>\n<parameter=on>yes</parameter>\n</function>", "not a valid boolean");
        assertError("<function=configure>\n<parameter=ratio>1.5x</parameter>\n</function>", "not a valid number");
        assertError("<function=configure>\n<parameter=opts>[1]</parameter>\n</function>", "not a valid object");
        assertError("<function=configure>\nstray<parameter=on>true</parameter>\n</function>", "unexpected text");
        OutputParser p = new TagOutputParser(TOOLS, false);
        p.feed("<tool_call>\n<function=get_weather>\n<parameter=city>Oslo</parameter>\n");
        ToolCall cut = p.finish().toolCalls().getFirst();
        assertTrue(cut.error().contains("unterminated"), cut.error());
    }

    private static void assertError(String body, String fragment) {
        List<ToolCall> calls = run(List.of("<tool_call>\n" + body + "\n</tool_call>")).calls();
        assertEquals(1, calls.size());
        String error = calls.getFirst().error();
        assertTrue(error != null && error.contains(fragment), body + " -> " + error);
    }
}
