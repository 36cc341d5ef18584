package io.tessera.engine;

import io.tessera.api.model.RoutingControl;

/**
 * Routing record and replay (R3) for one main-model step. The scheduler makes a step's rows either all replay a
 * routing record or none do (the router takes one mode per call); rows of sequences that record have their
 * experts stored by position, so a later pass over a position (a draft verified again) overwrites what a
 * rejected draft left, and only accepted tokens remain.
 */
final class StepRouting implements RoutingControl {
    private final int k;
    private Sequence[] sequences;
    private int[] positions;
    private int rows;
    private boolean replaying;
    private boolean recording;

    StepRouting(int expertsPerToken) {
        this.k = expertsPerToken;
    }

    /** Prepares for a step: row {@code r} is {@code positions[r]} of {@code sequences[r]}. */
    void reset(Sequence[] sequences, int[] positions, int rows, boolean replaying) {
        this.sequences = sequences;
        this.positions = positions;
        this.rows = rows;
        this.replaying = replaying;
        this.recording = false;
        for (int r = 0; r < rows; r++) {
            recording |= sequences[r].request.recordRouting();
        }
    }

    @Override
    public int[] replay(int layer, int n) {
        if (!replaying) {
            return null;
        }
        int[] ids = new int[n * k];
        for (int r = 0; r < n; r++) {
            System.arraycopy(sequences[r].replayed(positions[r], layer), 0, ids, r * k, k);
        }
        return ids;
    }

    @Override
    public boolean recording() {
        return recording;
    }

    @Override
    public void record(int layer, int n, int[] ids) {
        for (int r = 0; r < Math.min(n, rows); r++) {
            if (sequences[r].request.recordRouting()) {
                sequences[r].record(positions[r], layer, ids, r * k, k);
            }
        }
    }
}
