package io.tessera.http;

import io.tessera.api.grammar.SchemaValidator;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer's output parser, with each tool call it typed validated against its tool's JSON Schema by the
 * {@link SchemaValidator}: a call that does not validate gets the validator's messages as its error (and so goes
 * to {@code invalid_tool_calls}).
 */
final class ValidatingParser implements OutputParser {
    private final OutputParser parser;
    private final Map<String, ToolSpec> tools;
    private final SchemaValidator validator;

    ValidatingParser(OutputParser parser, List<ToolSpec> tools, SchemaValidator validator) {
        this.parser = parser;
        this.tools = tools.stream().collect(java.util.stream.Collectors.toMap(ToolSpec::name, t -> t, (a, b) -> a));
        this.validator = validator;
    }

    @Override
    public Delta feed(String text) {
        return validated(parser.feed(text));
    }

    @Override
    public Delta finish() {
        return validated(parser.finish());
    }

    private Delta validated(Delta delta) {
        if (delta.toolCalls().isEmpty()) {
            return delta;
        }
        return new Delta(delta.reasoning(), delta.content(), delta.toolCalls().stream().map(this::validated).toList());
    }

    private ToolCall validated(ToolCall call) {
        ToolSpec tool = call.error() == null ? tools.get(call.name()) : null;
        if (tool == null || tool.parameters() == null) {
            return call;
        }
        List<String> errors;
        try {
            errors = validator.validate(call.arguments(), tool.parameters());
        } catch (IllegalArgumentException e) {
            errors = List.of("the tool's schema cannot be checked: " + e.getMessage());
        }
        return errors.isEmpty() ? call
                : new ToolCall(call.id(), call.name(), call.arguments(), "arguments do not validate: "
                        + String.join("; ", errors));
    }
}
