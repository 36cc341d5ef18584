package io.tessera.tokenizer;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A checkpoint's chat format: how a conversation is rendered and how the model's output is parsed back. The text of
 * tokenizer_config.json's {@code chat_template} selects it: MiMo's and Qwen3's templates are rendered natively (the
 * Jinja engine cannot parse Qwen3's; see the bundle README), every other template by the Jinja engine
 * ({@link JinjaTemplate}); no template at all is MiMo's.
 */
interface ChatTemplate {

    String render(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options);

    /** A parser for the reasoning and tool-call format this template asks the model for. */
    OutputParser newParser(List<ToolSpec> tools);

    /**
     * Picks the renderer and output format for a chat_template text.
     *
     * @param specialTokens the special tokens of tokenizer_config.json ({@code bos_token}, ...) the template may use
     */
    static ChatTemplate select(String template, Path configFile, Map<String, String> specialTokens) {
        if (template == null || template.contains("<function=")) {
            return new MimoTemplate();
        }
        if (template.contains("<function-name>") && template.contains("reasoning_content")) {
            return new Qwen3Template();
        }
        Function<List<ToolSpec>, OutputParser> parsers = template.contains("<|python_tag|>")
                || template.contains("<|start_header_id|>") ? LlamaOutputParser::new
                : tools -> new TagOutputParser(tools, template.contains("<tool_call>\n{"));
        return new JinjaTemplate(template, configFile + ": chat_template", specialTokens, ZoneId.systemDefault(),
                System::currentTimeMillis, parsers);
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
