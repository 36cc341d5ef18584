package io.tessera.api.model;

/**
 * @param temperature      0 for greedy
 * @param topK             0 for all
 * @param topP             1 for all
 * @param seed             seed of the request's random stream
 * @param frequencyPenalty subtracted from a token's logit once per time it was generated so far, in [−2, 2]
 * @param presencePenalty  subtracted from the logit of every token generated so far, in [−2, 2]
 */
public record SamplingParams(float temperature, int topK, float topP, long seed, float frequencyPenalty,
                             float presencePenalty) {
    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0L);

    public SamplingParams {
        if (!(temperature >= 0) || topK < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("temperature must be >= 0, top_k >= 0 and top_p in (0, 1]; got "
                    + temperature + ", " + topK + ", " + topP);
        }
        if (!(Math.abs(frequencyPenalty) <= 2) || !(Math.abs(presencePenalty) <= 2)) {
            throw new IllegalArgumentException("frequency_penalty and presence_penalty must be in [-2, 2]; got "
                    + frequencyPenalty + ", " + presencePenalty);
        }
    }

    /** Without penalties. */
    public SamplingParams(float temperature, int topK, float topP, long seed) {
        this(temperature, topK, topP, seed, 0f, 0f);
    }

    /** Whether a penalty applies (the engine then samples on the host from logits it read back). */
    public boolean penalized() {
        return frequencyPenalty != 0 || presencePenalty != 0;
    }
}
