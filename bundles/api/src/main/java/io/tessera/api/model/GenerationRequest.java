package io.tessera.api.model;

import java.util.Set;

/**
 * One generation.
 *
 * @param model          model name
 * @param prompt         prompt token ids (non-empty)
 * @param maxTokens      most new tokens
 * @param sampling       temperature, top-k, top-p, seed, penalties
 * @param stopTokens     ids that end the generation (none are added: pass the tokenizer's stop tokens)
 * @param draftTokens    speculative draft tokens per step, 0–3 (−1: the node's {@code speculation} setting,
 *                       by default adaptive: chosen per step from measured costs and acceptance)
 * @param recordRouting  return the routing record of the generated tokens
 * @param replayRouting  routing record to replay (R3), or null
 * @param logprobs       −1: none; else report each generated token's log-probability and that many of the most
 *                       likely alternatives (0–20) through {@link GenerationListener#onToken}
 * @param draftOracle    drafts of known quality instead of the heads' (benchmarks), or null
 * @param cacheSalt      keeps this request's prefix cache entries apart from those of requests with another salt
 *                       (tenants; vLLM's {@code cache_salt}), or null
 */
public record GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                                Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                                RoutingRecord replayRouting, int logprobs, DraftOracle draftOracle,
                                String cacheSalt) {
    /** The most alternatives {@link #logprobs} may ask for. */
    public static final int MAX_LOGPROBS = 20;

    /** Without a cache salt. */
    public GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                             Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                             RoutingRecord replayRouting, int logprobs, DraftOracle draftOracle) {
        this(model, prompt, maxTokens, sampling, stopTokens, draftTokens, recordRouting, replayRouting, logprobs,
                draftOracle, null);
    }

    /** Without a draft oracle. */
    public GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                             Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                             RoutingRecord replayRouting, int logprobs) {
        this(model, prompt, maxTokens, sampling, stopTokens, draftTokens, recordRouting, replayRouting, logprobs,
                null, null);
    }

    /** Without log-probabilities. */
    public GenerationRequest(String model, int[] prompt, int maxTokens, SamplingParams sampling,
                             Set<Integer> stopTokens, int draftTokens, boolean recordRouting,
                             RoutingRecord replayRouting) {
        this(model, prompt, maxTokens, sampling, stopTokens, draftTokens, recordRouting, replayRouting, -1);
    }
}
