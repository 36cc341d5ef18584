package io.tessera.api.model;

/**
 * What a model's scheduler is doing, for monitoring. Counters only grow while the model stays loaded.
 *
 * @param model            model name
 * @param queued           requests waiting for a KV slot
 * @param running          sequences holding a KV slot
 * @param kvSlots          KV slots (sequences that can run at once)
 * @param kvTokens         tokens held in KV by the running sequences
 * @param kvCapacity       tokens the KV pool can hold ({@code kvSlots ×} context length)
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
 */
public record ModelMetrics(String model, int queued, int running, int kvSlots, long kvTokens, long kvCapacity,
                           long promptTokens, long generatedTokens, double tokensPerSecond, long steps, long decodeSteps,
                           long decodeTokens, long[][] expertLoad, int expertLoadEvery, long[] draftSteps,
                           long[] acceptedPerHead, long[] proposedPerHead) {

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
