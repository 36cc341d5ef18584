package io.tessera.api.model;

/**
 * The log-probability of a generated token under the model's distribution at its position (log-softmax of the
 * logits after penalties, before temperature and top-k/top-p), and the most likely ids there.
 *
 * @param id          the generated id
 * @param logprob     its log-probability
 * @param topIds      the most likely ids, most likely first (as many as asked for)
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprob(int id, float logprob, int[] topIds, float[] topLogprobs) {
}
