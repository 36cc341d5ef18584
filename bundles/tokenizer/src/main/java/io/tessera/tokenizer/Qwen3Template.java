package io.tessera.tokenizer;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.List;

/** Qwen3's chat template (the Jinja in Qwen3's tokenizer_config.json), statement by statement. */
final class Qwen3Template implements ChatTemplate {

    @Override
    public OutputParser newParser(List<ToolSpec> tools) {
        return new TagOutputParser(tools, true);
    }

    @Override
    public String render(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("messages: empty (the Qwen3 template reads messages[0])");
        }
        StringBuilder out = new StringBuilder();
        boolean firstIsSystem = messages.getFirst().role().equals("system");
        if (!tools.isEmpty()) {
            out.append("<|im_start|>system\n");
            if (firstIsSystem) {
                out.append(ChatTemplate.content(messages.getFirst())).append("\n\n");
            }
            out.append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                    + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
            for (ToolSpec tool : tools) {
                out.append('\n').append(PyJson.dumps(ChatTemplate.toolObject(tool)));
            }
            out.append("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                    + "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                    + "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n");
        } else if (firstIsSystem) {
            out.append("<|im_start|>system\n").append(ChatTemplate.content(messages.getFirst()))
                    .append("<|im_end|>\n");
        }
        // the last user turn that is not a wrapped tool response: reasoning is shown only after it
        int lastQuery = messages.size() - 1;
        for (int i = messages.size() - 1; i >= 0; i--) {
            ChatMessage m = messages.get(i);
            String c = ChatTemplate.content(m);
            if (m.role().equals("user") && !(c.startsWith("<tool_response>") && c.endsWith("</tool_response>"))) {
                lastQuery = i;
                break;
            }
        }
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String role = m.role();
            boolean last = i == messages.size() - 1;
            if (role.equals("user") || (role.equals("system") && i > 0)) {
                out.append("<|im_start|>").append(role).append('\n').append(ChatTemplate.content(m))
                        .append("<|im_end|>\n");
            } else if (role.equals("assistant")) {
                assistant(m, i > lastQuery, last, out);
            } else if (role.equals("tool")) {
                if (i == 0 || !messages.get(i - 1).role().equals("tool")) {
                    out.append("<|im_start|>user");
                }
                out.append("\n<tool_response>\n").append(ChatTemplate.content(m)).append("\n</tool_response>");
                if (last || !messages.get(i + 1).role().equals("tool")) {
                    out.append("<|im_end|>\n");
                }
            }
        }
        if (options.addGenerationPrompt()) {
            out.append("<|im_start|>assistant\n");
            if (!options.enableThinking()) {
                out.append("<think>\n\n</think>\n\n");
            }
        }
        return out.toString();
    }

    private static void assistant(ChatMessage m, boolean afterLastQuery, boolean last, StringBuilder out) {
        String content = ChatTemplate.content(m);
        String reasoning = "";
        if (m.reasoningContent() != null) {
            reasoning = m.reasoningContent();
        } else if (content.contains("</think>")) {
            String before = content.substring(0, content.indexOf("</think>"));
            reasoning = ChatTemplate.strip(ChatTemplate.strip(before, "\n", false, true)
                    .substring(lastIndexAfter(ChatTemplate.strip(before, "\n", false, true), "<think>")),
                    "\n", true, false);
            content = ChatTemplate.strip(content.substring(content.lastIndexOf("</think>") + "</think>".length()),
                    "\n", true, false);
        }
        if (afterLastQuery && (last || !reasoning.isEmpty())) {
            out.append("<|im_start|>assistant\n<think>\n").append(ChatTemplate.strip(reasoning, "\n", true, true))
                    .append("\n</think>\n\n").append(ChatTemplate.strip(content, "\n", true, false));
        } else {
            out.append("<|im_start|>assistant\n").append(content);
        }
        List<ToolCall> calls = ChatTemplate.toolCalls(m);
        for (int j = 0; j < calls.size(); j++) {
            if (j > 0 || !content.isEmpty()) {
                out.append('\n');
            }
            ToolCall call = calls.get(j);
            out.append("<tool_call>\n{\"name\": \"").append(call.name()).append("\", \"arguments\": ")
                    .append(PyJson.dumps(ChatTemplate.arguments(call))).append("}\n</tool_call>");
        }
        out.append("<|im_end|>\n");
    }

    /** Where Python's s.split(sep)[-1] starts. */
    private static int lastIndexAfter(String s, String sep) {
        int i = s.lastIndexOf(sep);
        return i < 0 ? 0 : i + sep.length();
    }
}
