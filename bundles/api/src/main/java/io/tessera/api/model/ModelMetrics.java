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
 */
public record ModelMetrics(String model, int queued, int running, int kvSlots, long kvTokens, long kvCapacity,
                           long promptTokens, long generatedTokens, double tokensPerSecond, long steps, long decodeSteps,
                           long decodeTokens, long[][] expertLoad, int expertLoadEvery) {

    /** Mean tokens per decode step (1 without speculation; 0 before any decode step). */
    public double acceptanceLength() {
        return decodeSteps == 0 ? 0 : decodeTokens / (double) decodeSteps;
    }
}
