package io.tessera.api.model;

/**
 * What a model's scheduler is doing, for monitoring. Counters only grow while the model stays loaded.
 *
 * @param model            model name
 * @param queued           requests waiting for a KV slot
 * @param running          sequences holding a KV slot
 * @param kvSlots          sequences that can run at once
 * @param kvTokens         tokens held in KV by the running sequences
 * @param kvCapacity       tokens the KV pool can hold (its blocks; shared prefixes count once)
 * @param promptTokens     prompt tokens admitted so far
 * @param generatedTokens  tokens generated so far
 * @param tokensPerSecond  generated tokens per second over the last few seconds
 * @param steps            main-model passes (each one ragged batch over every running sequence)
 * @param decodeSteps      main-model steps of sequences past their prefill
 * @param decodeTokens     tokens those steps produced (their ratio is the mean acceptance length)
 * @param expertLoad       tokens routed to each expert, {@code [layer][expert]} (dense layers empty), counted on a
 *                         sample of steps (see {@link #expertLoadEvery})
 * @param expertLoadEvery  one step in this many is counted in {@code expertLoad}
 * @param draftSteps       decode steps by the drafts they verified: index k counts steps with k drafts (the
 *                         chosen-k histogram; empty without MTP heads)
 * @param acceptedPerHead  drafts of MTP head k accepted (index k)
 * @param proposedPerHead  drafts of MTP head k proposed
 * @param contextLength    positions one sequence may reach (0: unknown)
 * @param cachedTokens     prompt tokens served from the prefix cache instead of a prefill
 * @param prefixLookups    sequences that looked up the prefix cache
 * @param prefixHits       lookups that reused a cached prefix
 * @param preempted        running sequences preempted (KV freed, re-queued, recomputed) when the KV ran out
 */
public record ModelMetrics(String model, int queued, int running, int kvSlots, long kvTokens, long kvCapacity,
                           long promptTokens, long generatedTokens, double tokensPerSecond, long steps, long decodeSteps,
                           long decodeTokens, long[][] expertLoad, int expertLoadEvery, long[] draftSteps,
                           long[] acceptedPerHead, long[] proposedPerHead, int contextLength, long cachedTokens,
                           long prefixLookups, long prefixHits, long preempted) {

    /** Without the context length and the prefix cache figures. */
    public ModelMetrics(String model, int queued, int running, int kvSlots, long kvTokens, long kvCapacity,
                        long promptTokens, long generatedTokens, double tokensPerSecond, long steps, long decodeSteps,
                        long decodeTokens, long[][] expertLoad, int expertLoadEvery, long[] draftSteps,
                        long[] acceptedPerHead, long[] proposedPerHead) {
        this(model, queued, running, kvSlots, kvTokens, kvCapacity, promptTokens, generatedTokens, tokensPerSecond,
                steps, decodeSteps, decodeTokens, expertLoad, expertLoadEvery, draftSteps, acceptedPerHead,
                proposedPerHead, 0, 0, 0, 0, 0);
    }

    /** Without speculation figures. */
    public ModelMetrics(String model, int queued, int running, int kvSlots, long kvTokens, long kvCapacity,
                        long promptTokens, long generatedTokens, double tokensPerSecond, long steps, long decodeSteps,
                        long decodeTokens, long[][] expertLoad, int expertLoadEvery) {
        this(model, queued, running, kvSlots, kvTokens, kvCapacity, promptTokens, generatedTokens, tokensPerSecond,
                steps, decodeSteps, decodeTokens, expertLoad, expertLoadEvery, new long[0], new long[0], new long[0]);
    }

    /** Mean tokens per decode step (1 without speculation; 0 before any decode step). */
    public double acceptanceLength() {
        return decodeSteps == 0 ? 0 : decodeTokens / (double) decodeSteps;
    }
}
