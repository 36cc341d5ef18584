package io.tessera.api.model;

/**
 * Drafts of known quality, for measuring speculative decoding (the {@code bench} command): the draft heads run as
 * usual, so their cost is real, but each draft they propose is replaced by the token the generation is known to
 * produce at that place (from an earlier run of the same request without drafts: greedy, or sampled with the same
 * seed, whose tokens do not depend on the drafts) with probability {@code accuracy}, and by another token
 * otherwise. The output is that run's whatever the drafts.
 *
 * @param tokens   the generation's tokens, from an earlier run without drafts
 * @param accuracy probability in [0, 1] that a draft is the known token
 */
public record DraftOracle(int[] tokens, double accuracy) {
}
