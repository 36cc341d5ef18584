package io.tessera.tokenizer;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chat template implemented natively (see the bundle README for why no Jinja engine is used). The template text
 * of tokenizer_config.json selects which one: Qwen3's, or MiMo's (also the default when there is none).
 */
interface ChatTemplate {

    String render(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options);

    /** Picks the native template matching a chat_template text, or one that refuses to render. */
    static ChatTemplate select(String template, Path configFile) {
        if (template == null || template.contains("<function=")) {
            return new MimoTemplate();
        }
        if (template.contains("<function-name>") && template.contains("reasoning_content")) {
            return new Qwen3Template();
        }
        return (messages, tools, options) -> {
            throw new UnsupportedOperationException(configFile + ": chat_template: not a template this bundle "
                    + "renders (supported: Qwen3's and MiMo's, see the tokenizer bundle README)");
        };
    }

    /** A tool as an OpenAI tools entry: what templates receive in {@code tools}. */
    static Map<String, Object> toolObject(ToolSpec tool) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", tool.name());
        if (tool.description() != null) {
            function.put("description", tool.description());
        }
        if (tool.parameters() != null) {
            function.put("parameters", tool.parameters());
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("type", "function");
        entry.put("function", function);
        return entry;
    }

    static String content(ChatMessage m) {
        return m.content() == null ? "" : m.content();
    }

    static List<ToolCall> toolCalls(ChatMessage m) {
        return m.toolCalls() == null ? List.of() : m.toolCalls();
    }

    static Map<String, Object> arguments(ToolCall call) {
        return call.arguments() == null ? Map.of() : call.arguments();
    }

    /** Python's str.strip/lstrip/rstrip with a character set. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && chars.indexOf(s.charAt(from)) >= 0) {
            from++;
        }
        while (right && to > from && chars.indexOf(s.charAt(to - 1)) >= 0) {
            to--;
        }
        return s.substring(from, to);
    }
}
