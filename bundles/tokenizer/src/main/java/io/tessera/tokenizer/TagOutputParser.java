package io.tessera.tokenizer;

import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits streamed output into reasoning ({@code <think>…</think>}), content and tool calls
 * ({@code <tool_call>…</tool_call>}): MiMo's and Qwen3's format, which differ only in the call's body (MiMo's XML
 * {@code <function=…>}, Qwen3's JSON {@code {"name": …, "arguments": …}}), parsed by {@link ToolCallParser}. Text is
 * passed on as soon as it cannot be the start of a tag; only a suffix that is a proper prefix of a tag expected in
 * the current state is held back.
 */
final class TagOutputParser implements OutputParser {
    static final String THINK = "<think>";
    static final String END_THINK = "</think>";
    static final String TOOL_CALL = "<tool_call>";
    static final String END_TOOL_CALL = "</tool_call>";

    private enum Mode { CONTENT, REASONING, TOOL_CALL }

    private final ToolCallParser calls;
    private final boolean jsonBody;
    private final StringBuilder pending = new StringBuilder();
    private final StringBuilder callBody = new StringBuilder();
    private Mode mode = Mode.CONTENT;

    /** @param jsonBody the call's body is Qwen3's JSON object (else MiMo's XML) */
    TagOutputParser(List<ToolSpec> tools, boolean jsonBody) {
        calls = new ToolCallParser(tools);
        this.jsonBody = jsonBody;
    }

    private ToolCall parse(String body) {
        return jsonBody ? calls.parseJson(body, "arguments") : calls.parse(body);
    }

    @Override
    public Delta feed(String text) {
        pending.append(text);
        return drain(false);
    }

    @Override
    public Delta finish() {
        Delta delta = drain(true);
        if (mode != Mode.TOOL_CALL) {
            return delta;
        }
        List<ToolCall> all = new ArrayList<>(delta.toolCalls());
        ToolCall partial = parse(callBody.toString());
        all.add(new ToolCall(null, partial.name(), partial.arguments(), "unterminated tool call (no "
                + END_TOOL_CALL + ")" + (partial.error() == null ? "" : "; " + partial.error())));
        callBody.setLength(0);
        mode = Mode.CONTENT;
        return new Delta(delta.reasoning(), delta.content(), List.copyOf(all));
    }

    private Delta drain(boolean end) {
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        List<ToolCall> done = new ArrayList<>();
        while (true) {
            List<String> tags = switch (mode) {
                case CONTENT -> List.of(THINK, TOOL_CALL);
                case REASONING -> List.of(END_THINK);
                case TOOL_CALL -> List.of(END_TOOL_CALL);
            };
            int at = -1;
            String tag = null;
            for (String t : tags) {
                int i = pending.indexOf(t);
                if (i >= 0 && (at < 0 || i < at)) {
                    at = i;
                    tag = t;
                }
            }
            StringBuilder sink = switch (mode) {
                case CONTENT -> content;
                case REASONING -> reasoning;
                case TOOL_CALL -> callBody;
            };
            if (tag == null) {
                int keep = end ? 0 : heldBack(tags);
                sink.append(pending, 0, pending.length() - keep);
                pending.delete(0, pending.length() - keep);
                break;
            }
            sink.append(pending, 0, at);
            pending.delete(0, at + tag.length());
            switch (tag) {
                case THINK -> mode = Mode.REASONING;
                case TOOL_CALL -> mode = Mode.TOOL_CALL;
                case END_TOOL_CALL -> {
                    done.add(parse(callBody.toString()));
                    callBody.setLength(0);
                    mode = Mode.CONTENT;
                }
                default -> mode = Mode.CONTENT;
            }
        }
        if (reasoning.isEmpty() && content.isEmpty() && done.isEmpty()) {
            return Delta.EMPTY;
        }
        return new Delta(reasoning.toString(), content.toString(), List.copyOf(done));
    }

    /** Length of the longest suffix of pending that is a proper prefix of one of the tags. */
    private int heldBack(List<String> tags) {
        int best = 0;
        for (String t : tags) {
            for (int len = Math.min(t.length() - 1, pending.length()); len > best; len--) {
                if (endsWith(pending, t, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    private static boolean endsWith(StringBuilder s, String tag, int len) {
        int from = s.length() - len;
        for (int i = 0; i < len; i++) {
            if (s.charAt(from + i) != tag.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
