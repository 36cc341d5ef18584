package io.tessera.api.tokenizer;

/**
 * How to render a conversation.
 *
 * @param addGenerationPrompt end with the assistant header so the model answers
 * @param enableThinking      let the model think; when false (MiMo-V2-Flash's default) the generation prompt
 *                            ends with an empty {@code <think></think>}
 */
public record ChatOptions(boolean addGenerationPrompt, boolean enableThinking) {
    /** Generation prompt on, thinking off. */
    public static final ChatOptions DEFAULT = new ChatOptions(true, false);
}
