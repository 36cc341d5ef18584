package io.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.OutputParser.Delta;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        return run(new TagOutputParser(TOOLS, false), fragments);
    }

    private static Result run(OutputParser p, List<String> fragments) {
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
            List<String> fragments = fragments(OUTPUT, random, trial % 3 == 0 ? 3 : 20);
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
            List<String> fragments = fragments(text.toString(), random, 6);
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
    void callsThatBreakTheFormatCarryAnError() {
        assertError("<function=nope>\n</function>", "unknown tool 'nope'");
        assertError("{\"name\": \"get_weather\"}", "not <function=NAME>");
        assertError("<function=configure>\nstray<parameter=on>true</parameter>\n</function>", "unexpected text");
        assertError("<function=get_weather>\n<parameter=city>a</parameter>\n<parameter=city>b</parameter>\n"
                + "</function>", "given twice");
        OutputParser p = new TagOutputParser(TOOLS, false);
        p.feed("<tool_call>\n<function=get_weather>\n<parameter=city>Oslo</parameter>\n");
        ToolCall cut = p.finish().toolCalls().getFirst();
        assertTrue(cut.error().contains("unterminated"), cut.error());
    }

    /** Values that do not read as their declared type stay text: the schema validator, not the parser, refuses. */
    @Test
    void valuesAreTypedNotJudged() {
        assertArguments("<function=get_weather>\n<parameter=days>three</parameter>\n</function>",
                Map.of("days", "three"));
        assertArguments("<function=get_weather>\n<parameter=city>x</parameter>\n<parameter=zip>1</parameter>\n"
                + "</function>", Map.of("city", "x", "zip", 1L));
        assertArguments("<function=get_weather>\n<parameter=unit>kelvin</parameter>\n</function>",
                Map.of("unit", "kelvin"));
        assertArguments("<function=configure>\n<parameter=on>yes</parameter>\n<parameter=ratio>1.5x</parameter>\n"
                + "<parameter=opts>[1]</parameter>\n<parameter=tags>[\"a\"]</parameter>\n</function>",
                Map.of("on", "yes", "ratio", "1.5x", "opts", "[1]", "tags", List.of("a")));
        Map<String, Object> nullNote = new LinkedHashMap<>();
        nullNote.put("ratio", 2L);
        nullNote.put("note", null);
        assertArguments("<function=configure>\n<parameter=ratio>2</parameter>\n<parameter=note>null</parameter>\n"
                + "</function>", nullNote);
    }

    private static void assertArguments(String body, Map<String, Object> arguments) {
        List<ToolCall> calls = run(List.of("<tool_call>\n" + body + "\n</tool_call>")).calls();
        assertEquals(1, calls.size());
        assertNull(calls.getFirst().error(), body);
        assertEquals(arguments, calls.getFirst().arguments(), body);
    }

    private static void assertError(String body, String fragment) {
        List<ToolCall> calls = run(List.of("<tool_call>\n" + body + "\n</tool_call>")).calls();
        assertEquals(1, calls.size());
        String error = calls.getFirst().error();
        assertTrue(error != null && error.contains(fragment), body + " -> " + error);
    }

    /** Qwen3: JSON calls inside {@code <tool_call>}, reasoning in {@code <think>}; any fragmentation, same result. */
    @Test
    void qwen3JsonCallsAndReasoning() {
        String out = "<think>\nplan <tool\n</think>\n\nChecking.\n<tool_call>\n{\"name\": \"get_weather\", "
                + "\"arguments\": {\"city\": \"São Paulo\", \"days\": 3}}\n</tool_call>\n<tool_call>\n{\"name\": "
                + "\"configure\", \"arguments\": {\"ratio\": 0.5, \"on\": true, \"opts\": {\"a\": [1]}, \"tags\": [\"x\"], "
                + "\"note\": null}}\n</tool_call>";
        Result whole = run(new TagOutputParser(TOOLS, true), List.of(out));
        assertEquals("\nplan <tool\n", whole.reasoning());
        assertEquals("\n\nChecking.\n\n", whole.content());
        assertEquals(List.of(new ToolCall(null, "get_weather", Map.of("city", "São Paulo", "days", 3L), null),
                new ToolCall(null, "configure", args("ratio", 0.5, "on", true, "opts", Map.of("a", List.of(1)),
                        "tags", List.of("x"), "note", null), null)), whole.calls());
        Random random = new Random(7);
        for (int trial = 0; trial < 300; trial++) {
            assertEquals(whole, run(new TagOutputParser(TOOLS, true), fragments(out, random, 6)), "trial " + trial);
        }
        assertJsonError("{\"name\": \"nope\", \"arguments\": {}}", "unknown tool 'nope'");
        assertJsonError("<function=get_weather>\n</function>", "not a JSON object");
        assertJsonError("{\"arguments\": {}}", "with a string \"name\"");
        assertJsonError("{\"name\": \"get_weather\", \"arguments\": [1]}", "\"arguments\" is not a JSON object");
    }

    /** Llama 3.1: a reply that is a JSON call (or several, ';'-separated), bare or after <|python_tag|>. */
    @Test
    void llamaJsonCalls() {
        String call = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 2}}";
        ToolCall oslo = new ToolCall(null, "get_weather", Map.of("city", "Oslo", "days", 2L), null);
        Random random = new Random(11);
        for (String out : List.of(call, " " + call, "<|python_tag|>" + call, call + "; " + call)) {
            Result whole = run(new LlamaOutputParser(TOOLS), List.of(out));
            assertEquals(new Result("", "", out.contains(";") ? List.of(oslo, oslo) : List.of(oslo)), whole, out);
            for (int trial = 0; trial < 100; trial++) {
                assertEquals(whole, run(new LlamaOutputParser(TOOLS), fragments(out, random, 6)), out);
            }
        }
        OutputParser text = new LlamaOutputParser(TOOLS);
        assertEquals("", text.feed("  ").content());
        assertEquals("  It is {sunny}", text.feed("It is {sunny}").content(), "plain text streams at once");
        assertEquals(" today", text.feed(" today").content());
        assertEquals(Delta.EMPTY, text.finish());
        assertEquals(new Result("", "{not a call}", List.of()), run(new LlamaOutputParser(TOOLS),
                List.of("{not a ", "call}")), "a reply that starts like JSON but is no call is content");
        List<ToolCall> builtin = run(new LlamaOutputParser(TOOLS),
                List.of("<|python_tag|>brave_search.call(query=\"x\")")).calls();
        assertEquals(1, builtin.size());
        assertTrue(builtin.getFirst().error().contains("not a JSON object"), builtin.getFirst().error());
        // validity (a required parameter missing, a wrong type) is the schema validator's, as for MiMo's calls
        ToolCall typedOnly = run(new LlamaOutputParser(TOOLS), List.of("{\"name\": \"get_weather\", \"parameters\": "
                + "{\"days\": \"three\"}}")).calls().getFirst();
        assertEquals(new ToolCall(null, "get_weather", Map.of("days", "three"), null), typedOnly);
    }

    /** The parser comes with the checkpoint's chat template: each family's own format, no family named here. */
    @Test
    void parserFollowsTheTemplate(@TempDir Path dir) throws IOException {
        String qwen = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>";
        String llama = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}";
        String mimo = "<tool_call>\n<function=get_weather>\n<parameter=city>Oslo</parameter>\n</function>\n</tool_call>";
        ToolCall oslo = new ToolCall(null, "get_weather", Map.of("city", "Oslo"), null);
        assertEquals(List.of(oslo), run(Assets.qwen3().newOutputParser(TOOLS), List.of(qwen)).calls());
        assertEquals(List.of(oslo), run(Assets.llama3().newOutputParser(TOOLS), List.of(llama)).calls());
        Path model = Assets.modelDir("small", dir);
        Files.writeString(model.resolve("tokenizer_config.json"), "{}");
        assertEquals(List.of(oslo), run(TokenizerLoader.load(model).newOutputParser(TOOLS), List.of(mimo)).calls());
    }

    private static Map<String, Object> args(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Random cuts of a text into pieces of 1 to maxLength chars. */
    private static List<String> fragments(String text, Random random, int maxLength) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); ) {
            int n = Math.min(text.length() - i, 1 + random.nextInt(maxLength));
            out.add(text.substring(i, i + n));
            i += n;
        }
        return out;
    }

    private static void assertJsonError(String body, String fragment) {
        List<ToolCall> calls = run(new TagOutputParser(TOOLS, true), List.of("<tool_call>\n" + body + "\n</tool_call>"))
                .calls();
        assertEquals(1, calls.size());
        String error = calls.getFirst().error();
        assertTrue(error != null && error.contains(fragment), body + " -> " + error);
    }
}
