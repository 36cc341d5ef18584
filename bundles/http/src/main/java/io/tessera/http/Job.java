package io.tessera.http;

import io.tessera.api.model.RoutingRecord;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.List;

/**
 * A checked completion request.
 *
 * @param chat           /v1/chat/completions (else /v1/completions)
 * @param messages       chat: the conversation
 * @param tools          chat: the functions offered (empty with tool_choice "none")
 * @param thinking       chat: render with thinking on
 * @param prompt         completions: the prompt text, or null when given as token ids
 * @param promptIds      completions: the prompt as token ids, or null
 * @param maxTokens      most new tokens, or null for the server's default
 * @param seed           random seed, or null for a random one
 * @param logprobs       -1: none; else the number of alternatives per token
 * @param routing        return the routing record (extension {@code tessera_routing})
 * @param replay         routing record to replay (extension {@code tessera_replay_routing}), or null
 * @param draftTokens    speculative drafts per step (extension {@code tessera_draft_tokens}), -1 the model's default
 * @param structured     response_format, a forced tool_choice and logit_bias
 */
record Job(boolean chat, String model, List<ChatMessage> messages, List<ToolSpec> tools, boolean thinking,
           String prompt, int[] promptIds, Integer maxTokens, float temperature, float topP, int topK, Long seed,
           float frequencyPenalty, float presencePenalty, List<String> stop, int n, boolean stream,
           boolean includeUsage, int logprobs, boolean routing, RoutingRecord replay, int draftTokens,
           StructuredOutput structured, String cacheSalt) {
}
