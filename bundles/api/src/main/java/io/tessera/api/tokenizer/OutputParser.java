package io.tessera.api.tokenizer;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Splits streamed model output into reasoning, content and tool calls in the format of the tokenizer's chat
 * template (e.g. {@code <think>…</think>} and {@code <tool_call>…</tool_call>} with MiMo's XML or Qwen3's JSON body;
 * Llama 3.1's JSON replies). Works on arbitrary fragments: text that might still be the start of a tag (or of a
 * call) is held back until it cannot be. Not thread-safe: one per stream.
 */
@ProviderType
public interface OutputParser {

    /** Feeds the next fragment of decoded text and returns what became final. */
    Delta feed(String text);

    /** Ends the stream: returns what was held back; an unterminated tool call is returned with an error. */
    Delta finish();

    /**
     * What one {@link #feed} or {@link #finish} produced.
     *
     * @param reasoning new reasoning text (may be empty)
     * @param content   new content text (may be empty)
     * @param toolCalls tool calls completed by this fragment
     */
    record Delta(String reasoning, String content, List<ToolCall> toolCalls) {
        public static final Delta EMPTY = new Delta("", "", List.of());
    }
}
