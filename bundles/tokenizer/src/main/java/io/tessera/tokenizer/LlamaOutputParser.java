package io.tessera.tokenizer;

import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Llama 3.1's tool calls: a reply that is a JSON object {@code {"name": …, "parameters": {…}}} (what its template
 * asks for; several are separated by {@code ;}), optionally after {@code <|python_tag|>}. A reply that starts with
 * {@code {} or the tag is held until the end of the stream and then parsed; one that is not a call after all is
 * content (without the tag), except that text after the tag is a call that fails to parse. Any other reply is
 * content as it streams. Llama 3 has no reasoning.
 */
final class LlamaOutputParser implements OutputParser {
    static final String PYTHON_TAG = "<|python_tag|>";

    private final ToolCallParser calls;
    private final StringBuilder held = new StringBuilder();
    private boolean decided;
    private boolean call;

    LlamaOutputParser(List<ToolSpec> tools) {
        calls = new ToolCallParser(tools);
    }

    @Override
    public Delta feed(String text) {
        if (decided && !call) {
            return text.isEmpty() ? Delta.EMPTY : new Delta("", text, List.of());
        }
        held.append(text);
        if (!decided) {
            String s = held.toString().stripLeading();
            if (s.isEmpty() || PYTHON_TAG.startsWith(s)) {
                return Delta.EMPTY;
            }
            decided = true;
            call = s.startsWith("{") || s.startsWith(PYTHON_TAG);
            if (!call) {
                String content = held.toString();
                held.setLength(0);
                return new Delta("", content, List.of());
            }
        }
        return Delta.EMPTY;
    }

    @Override
    public Delta finish() {
        String s = held.toString();
        held.setLength(0);
        String body = s.stripLeading();
        boolean tagged = body.startsWith(PYTHON_TAG);
        if (tagged) {
            body = body.substring(PYTHON_TAG.length());
        }
        if (body.isBlank()) {
            return s.isEmpty() || tagged && body.isEmpty() ? Delta.EMPTY : new Delta("", s, List.of());
        }
        List<ToolCall> found = new ArrayList<>();
        for (String part : body.split(";(?=\\s*\\{)")) {
            ToolCall c = calls.parseJson(part, part.contains("\"parameters\"") ? "parameters" : "arguments");
            if (c.name() == null && !tagged) {
                return new Delta("", s, List.of());
            }
            found.add(c);
        }
        return new Delta("", "", List.copyOf(found));
    }
}
