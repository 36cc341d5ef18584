package io.tessera.tokenizer;

import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A checkpoint's own {@code chat_template}, rendered by {@link Jinja2} with the variables transformers passes
 * (messages, tools, add_generation_prompt, enable_thinking, the special tokens), and the output format that goes
 * with it. A template the engine cannot render is refused naming the file, the line and the construct; a
 * {@code raise_exception} of the template refuses the conversation with the template's message. Thread-safe: each
 * render gets its own interpreter.
 */
final class ChatTemplate {
    private final String template;
    private final String where;
    private final Map<String, String> specialTokens;
    private final Jinja2 jinja;
    private final Function<List<ToolSpec>, OutputParser> parsers;

    /**
     * @param where         "FILE: chat_template", for errors
     * @param specialTokens {@code bos_token}, {@code eos_token}, ... as the template sees them
     * @param jinja         the engine ({@link Jinja2}: its clock is {@code strftime_now}'s)
     * @param parsers       the output format that goes with this template
     */
    ChatTemplate(String template, String where, Map<String, String> specialTokens, Jinja2 jinja,
                 Function<List<ToolSpec>, OutputParser> parsers) {
        this.template = template;
        this.where = where;
        this.specialTokens = Map.copyOf(specialTokens);
        this.jinja = jinja;
        this.parsers = parsers;
    }

    /**
     * The chat format of a checkpoint: its chat_template text (MiMo's, from this bundle, when it has none) and the
     * output parser for the tool-call format that text asks for: MiMo's XML calls ({@code <function=}), JSON in
     * {@code <tool_call>} (Qwen3), or Llama 3.1's JSON replies ({@code <|start_header_id|>} templates).
     *
     * @param specialTokens the special tokens of tokenizer_config.json ({@code bos_token}, ...) the template may use
     */
    static ChatTemplate select(String template, Path configFile, Map<String, String> specialTokens) {
        String where = configFile + ": chat_template";
        if (template == null) {
            where = "the tokenizer bundle's MiMo chat template (" + configFile + " has no chat_template)";
            try (InputStream in = ChatTemplate.class.getResourceAsStream("mimo_chat_template.jinja")) {
                template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String text = template;
        Function<List<ToolSpec>, OutputParser> parsers = text.contains("<function=")
                ? tools -> new TagOutputParser(tools, false)
                : text.contains("<tool_call>") ? tools -> new TagOutputParser(tools, true)
                : text.contains("<|start_header_id|>") || text.contains(LlamaOutputParser.PYTHON_TAG)
                ? LlamaOutputParser::new : tools -> new TagOutputParser(tools, false);
        return new ChatTemplate(text, where, specialTokens, Jinja2.create(ZoneId.systemDefault(),
                System::currentTimeMillis), parsers);
    }

    /** Renders a conversation, byte-identical to transformers' apply_chat_template. */
    String render(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        Map<String, Object> context = new HashMap<>(specialTokens);
        // Jinja2 globals are variables too: templates test "strftime_now is defined" before calling it
        context.put("strftime_now", "strftime_now");
        context.put("raise_exception", "raise_exception");
        List<Object> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            msgs.add(message(m));
        }
        context.put("messages", msgs);
        if (!tools.isEmpty()) {
            context.put("tools", tools.stream().map(ChatTemplate::toolObject).toList());
        }
        context.put("add_generation_prompt", options.addGenerationPrompt());
        context.put("enable_thinking", options.enableThinking());
        RenderResult result = jinja.renderForResult(template, context);
        for (TemplateError e : result.getErrors()) {
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof Jinja2.Raised) {
                    throw new IllegalArgumentException(where + " refuses the conversation: " + t.getMessage());
                }
            }
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new UnsupportedOperationException(where + ": line " + e.getLineno() + ": " + e.getMessage()
                        + (e.getFieldName() == null ? "" : " (at '" + e.getFieldName().strip() + "')")
                        + ": a construct the Jinja engine (Jinjava) does not render as Jinja2 does");
            }
        }
        return result.getOutput();
    }

    /** A parser for the reasoning and tool-call format this template asks the model for. */
    OutputParser newParser(List<ToolSpec> tools) {
        return parsers.apply(tools);
    }

    /** A message as an OpenAI messages entry: optional keys only when set (templates test {@code 'k' in m}). */
    private static Map<String, Object> message(ChatMessage m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", m.role());
        out.put("content", m.content());
        if (m.reasoningContent() != null) {
            out.put("reasoning_content", m.reasoningContent());
        }
        List<ToolCall> calls = toolCalls(m);
        if (!calls.isEmpty()) {
            List<Object> list = new ArrayList<>();
            for (ToolCall c : calls) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", c.name());
                function.put("arguments", arguments(c));
                Map<String, Object> call = new LinkedHashMap<>();
                if (c.id() != null) {
                    call.put("id", c.id());
                }
                call.put("type", "function");
                call.put("function", function);
                list.add(call);
            }
            out.put("tool_calls", list);
        }
        if (m.toolCallId() != null) {
            out.put("tool_call_id", m.toolCallId());
        }
        return out;
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

    static List<ToolCall> toolCalls(ChatMessage m) {
        return m.toolCalls() == null ? List.of() : m.toolCalls();
    }

    static Map<String, Object> arguments(ToolCall call) {
        return call.arguments() == null ? Map.of() : call.arguments();
    }

}
