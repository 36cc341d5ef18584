package io.tessera.api.tokenizer;

import java.util.List;

/**
 * One message of a conversation.
 *
 * @param role             {@code system}, {@code user}, {@code assistant} or {@code tool}
 * @param content          the text (may be empty)
 * @param reasoningContent an assistant's thinking, rendered inside {@code <think>}; null if none
 * @param toolCalls        an assistant's tool calls (empty if none)
 * @param toolCallId       for role {@code tool}: the call this answers; null otherwise
 */
public record ChatMessage(String role, String content, String reasoningContent, List<ToolCall> toolCalls,
                          String toolCallId) {

    public static ChatMessage of(String role, String content) {
        return new ChatMessage(role, content, null, List.of(), null);
    }
}
