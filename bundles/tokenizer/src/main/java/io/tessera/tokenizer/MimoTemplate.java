package io.tessera.tokenizer;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.List;
import java.util.Map;

/**
 * MiMo-V2-Flash's chat format (spec section 5) as written down in tools/tokenizer/mimo_chat_template.jinja, which
 * this class renders byte for byte: ChatML, a default system prompt, tools in the system turn, assistant turns as
 * {@code <think>reasoning</think>content} plus XML tool calls, and an empty {@code <think></think>} after the
 * generation prompt unless thinking is on.
 */
final class MimoTemplate implements ChatTemplate {
    static final String DEFAULT_SYSTEM = "You are MiMo, an AI assistant developed by Xiaomi.";

    @Override
    public OutputParser newParser(List<ToolSpec> tools) {
        return new TagOutputParser(tools, false);
    }

    @Override
    public String render(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        StringBuilder out = new StringBuilder("<|im_start|>system\n");
        boolean firstIsSystem = !messages.isEmpty() && messages.getFirst().role().equals("system");
        out.append(firstIsSystem ? ChatTemplate.content(messages.getFirst()) : DEFAULT_SYSTEM);
        if (!tools.isEmpty()) {
            tools(tools, out);
        }
        out.append("<|im_end|>\n");
        for (int i = firstIsSystem ? 1 : 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            switch (m.role()) {
                case "assistant" -> {
                    out.append("<|im_start|>assistant\n<think>")
                            .append(m.reasoningContent() == null ? "" : m.reasoningContent()).append("</think>")
                            .append(ChatTemplate.content(m));
                    for (ToolCall call : ChatTemplate.toolCalls(m)) {
                        out.append("\n<tool_call>\n<function=").append(call.name()).append('>');
                        for (Map.Entry<String, Object> arg : ChatTemplate.arguments(call).entrySet()) {
                            out.append("\n<parameter=").append(arg.getKey()).append('>').append(text(arg.getValue()))
                                    .append("</parameter>");
                        }
                        out.append("\n</function>\n</tool_call>");
                    }
                    out.append("<|im_end|>\n");
                }
                case "tool" -> out.append("<|im_start|>tool\n<tool_response>\n").append(ChatTemplate.content(m))
                        .append("\n</tool_response><|im_end|>\n");
                default -> out.append("<|im_start|>").append(m.role()).append('\n').append(ChatTemplate.content(m))
                        .append("<|im_end|>\n");
            }
        }
        if (options.addGenerationPrompt()) {
            out.append("<|im_start|>assistant\n");
            if (!options.enableThinking()) {
                out.append("<think></think>");
            }
        }
        return out.toString();
    }

    private static void tools(List<ToolSpec> tools, StringBuilder out) {
        out.append("\n\n# Tools\n\nYou have access to the following functions:\n\n<tools>");
        for (ToolSpec tool : tools) {
            out.append("\n<function>\n<name>").append(tool.name()).append("</name>");
            if (tool.description() != null && !tool.description().isEmpty()) {
                out.append("\n<description>").append(tool.description()).append("</description>");
            }
            out.append("\n<parameters>");
            Map<String, Object> schema = tool.parameters() == null ? Map.of() : tool.parameters();
            if (schema.get("properties") instanceof Map<?, ?> properties) {
                for (Map.Entry<?, ?> e : properties.entrySet()) {
                    out.append("\n<parameter>\n<name>").append(e.getKey()).append("</name>");
                    Map<?, ?> p = e.getValue() instanceof Map<?, ?> map ? map : Map.of();
                    if (p.containsKey("type")) {
                        out.append("\n<type>").append(text(p.get("type"))).append("</type>");
                    }
                    if (p.containsKey("description")) {
                        out.append("\n<description>").append(p.get("description")).append("</description>");
                    }
                    if (p.containsKey("enum")) {
                        out.append("\n<enum>").append(PyJson.dumps(p.get("enum"))).append("</enum>");
                    }
                    out.append("\n</parameter>");
                }
            }
            if (schema.containsKey("required")) {
                out.append("\n<required>").append(PyJson.dumps(schema.get("required"))).append("</required>");
            }
            out.append("\n</parameters>\n</function>");
        }
        out.append("\n</tools>\n\nIf you choose to call a function, reply ONLY in the following format with no "
                + "suffix:\n\n<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>value_1"
                + "</parameter>\n<parameter=example_parameter_2>value_2</parameter>\n</function>\n</tool_call>\n\n"
                + "Reminder:\n- Function calls MUST follow the specified format\n- Required parameters MUST be "
                + "specified\n- You may call one or more functions in one reply");
    }

    /** A value as the template prints it: strings as they are, anything else as JSON. */
    private static String text(Object value) {
        return value instanceof String s ? s : PyJson.dumps(value);
    }
}
