package io.tessera.api.model;

/**
 * @param tokens        generated ids
 * @param finish        why it stopped
 * @param promptTokens  prompt length
 * @param stats         timings and speculation figures
 * @param routing       the routing record if asked for, else null
 */
public record GenerationResult(int[] tokens, Finish finish, int promptTokens, GenerationStats stats,
                               RoutingRecord routing) {
    public enum Finish { STOP, LENGTH, CANCELLED, ERROR }
}
