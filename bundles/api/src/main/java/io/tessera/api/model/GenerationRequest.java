package io.tessera.api.model;

import io.tessera.api.grammar.Grammar;
import java.util.Map;
import java.util.Set;

/**
 * One generation.
 *
 * @param model          model name
 * @param prompt         prompt token ids (non-empty)
 * @param maxTokens      most new tokens
 * @param sampling       temperature, top-k, top-p, seed, penalties
 * @param stopTokens     ids that end the generation (none are added: pass the tokenizer's stop tokens)
 * @param draftTokens    speculative draft tokens per step, 0–3 (−1: the model's default)
 * @param recordRouting  return the routing record of the generated tokens
 * @param replayRouting  routing record to replay (R3), or null
 * @param logprobs       −1: none; else report each generated token's log-probability and that many of the most
 *                       likely alternatives (0–20) through {@link GenerationListener#onToken}
 * @param grammar        constrains the output (each sequence gets its own matcher; the stop tokens are allowed
 *                       where the grammar is complete), or null
 * @param logitBias      added to the logits of the given ids before sampling (OpenAI's logit_bias), or empty
 */
public record GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                                Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                                RoutingRecord replayRouting, int logprobs, Grammar grammar,
                                Map<Integer, Float> logitBias) {
    /** The most alternatives {@link #logprobs} may ask for. */
    public static final int MAX_LOGPROBS = 20;

    public GenerationRequest {
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    }

    /** Unconstrained. */
    public GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                             Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                             RoutingRecord replayRouting, int logprobs) {
        this(model, prompt, maxTokens, sampling, stopTokens, draftTokens, recordRouting, replayRouting, logprobs,
                null, Map.of());
    }

    /** Without log-probabilities. */
    public GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                             Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                             RoutingRecord replayRouting) {
        this(model, prompt, maxTokens, sampling, stopTokens, draftTokens, recordRouting, replayRouting, -1);
    }
}
