package io.tessera.api.model;

/**
 * @param temperature 0 for greedy
 * @param topK        0 for all
 * @param topP        1 for all
 * @param seed        seed of the request's random stream
 */
public record SamplingParams(float temperature, int topK, float topP, long seed) {
    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0L);

    public SamplingParams {
        if (!(temperature >= 0) || topK < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("temperature must be >= 0, top_k >= 0 and top_p in (0, 1]; got "
                    + temperature + ", " + topK + ", " + topP);
        }
    }
}
