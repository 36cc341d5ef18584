package io.tessera.api.model;

/**
 * Timings and speculation figures of one generation.
 *
 * @param prefillNanos     from submission to the first generated token
 * @param decodeNanos      from the first to the last generated token
 * @param verifySteps      main-model steps after the prefill (with speculation each verifies 1 + drafts rows)
 * @param acceptedPerHead  drafts of MTP head k accepted (index k)
 * @param proposedPerHead  drafts of MTP head k proposed
 * @param draftNanos       time spent in the draft heads
 * @param verifyNanos      time spent in main-model steps that verified drafts
 * @param draftSteps       decode steps by the drafts they verified: index k counts steps with k drafts (the
 *                         chosen-k histogram of adaptive speculation; empty without MTP heads)
 * @param cachedTokens     prompt tokens whose KV came from the prefix cache instead of a prefill
 */
public record GenerationStats(long prefillNanos, long decodeNanos, int verifySteps, long[] acceptedPerHead,
                              long[] proposedPerHead, long draftNanos, long verifyNanos, long[] draftSteps,
                              int cachedTokens) {

    /** Without cached tokens. */
    public GenerationStats(long prefillNanos, long decodeNanos, int verifySteps, long[] acceptedPerHead,
                           long[] proposedPerHead, long draftNanos, long verifyNanos, long[] draftSteps) {
        this(prefillNanos, decodeNanos, verifySteps, acceptedPerHead, proposedPerHead, draftNanos, verifyNanos,
                draftSteps, 0);
    }

    /** Without the chosen-k histogram. */
    public GenerationStats(long prefillNanos, long decodeNanos, int verifySteps, long[] acceptedPerHead,
                           long[] proposedPerHead, long draftNanos, long verifyNanos) {
        this(prefillNanos, decodeNanos, verifySteps, acceptedPerHead, proposedPerHead, draftNanos, verifyNanos,
                new long[0]);
    }

    /** Mean tokens per main-model step after the prefill, the bonus token included (1 without speculation). */
    public double acceptanceLength(int generatedTokens) {
        return verifySteps == 0 ? 0 : (generatedTokens - 1) / (double) verifySteps;
    }
}
