package io.tessera.api.model;

/**
 * Experts chosen for each token and MoE layer: {@code experts[token][layer][k]}; layers without experts
 * (dense) have empty arrays.
 *
 * @param startPosition position of the first token recorded
 */
public record RoutingRecord(int startPosition, int[][][] experts) {
}
