package io.tessera.engine;

/**
 * The rows of one engine step: row {@code r} is token {@code tokens[r]} of the sequence in KV slot
 * {@code slots[r]}, at position {@code positions[r]}. Rows of one sequence are contiguous and in position order.
 */
record Step(int[] tokens, int[] positions, int[] slots, int count) {
}
