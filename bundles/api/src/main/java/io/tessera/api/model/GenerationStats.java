package io.tessera.api.model;

/**
 * @param prefillNanos     time to process the prompt
 * @param decodeNanos      time from the first to the last generated token
 * @param verifySteps      main-model steps during decode
 * @param acceptedPerHead  drafts accepted by head k (index k)
 * @param proposedPerHead  drafts proposed by head k
 */
public record GenerationStats(long prefillNanos, long decodeNanos, int verifySteps, long[] acceptedPerHead,
                              long[] proposedPerHead) {
}
