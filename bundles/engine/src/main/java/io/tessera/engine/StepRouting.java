package io.tessera.engine;

import io.tessera.api.model.RoutingControl;
import java.util.Arrays;

/**
 * Routing record and replay (R3) for one main-model step. The scheduler makes a step's rows either all replay a
 * routing record or none do (the router takes one mode per call); rows of sequences that record have their
 * experts stored by position, so a later pass over a position (a draft verified again) overwrites what a
 * rejected draft left, and only accepted tokens remain.
 */
final class StepRouting implements RoutingControl {
    /** Expert load is counted on one step in this many (reading the router's choice back costs a device wait). */
    static final int LOAD_EVERY = 16;

    private final int k;
    private final long[][] load;      // [layer][expert], guarded by itself
    private boolean counting;
    private Sequence[] sequences;
    private int[] positions;
    private int rows;
    private boolean replaying;
    private boolean recording;
    /** Distinct experts are counted on one step in this many (the draft policy's step cost model). */
    static final int EXPERTS_EVERY = 4;
    private boolean countingExperts;
    private final boolean[] seen;
    private int moeLayers;
    private int distinct;

    StepRouting(int expertsPerToken, int layers, int experts) {
        this.k = expertsPerToken;
        this.load = new long[layers][experts];
        this.seen = new boolean[experts];
    }

    /**
     * Prepares for a step: row {@code r} is {@code positions[r]} of {@code sequences[r]}; {@code countLoad}: add
     * this step's routing to the expert load; {@code countExperts}: count the distinct experts its rows use.
     */
    void reset(Sequence[] sequences, int[] positions, int rows, boolean replaying, boolean countLoad,
               boolean countExperts) {
        this.sequences = sequences;
        this.positions = positions;
        this.rows = rows;
        this.replaying = replaying;
        this.counting = countLoad;
        this.countingExperts = countExperts;
        this.moeLayers = 0;
        this.distinct = 0;
        this.recording = countLoad || countExperts;
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
        if (counting) {
            synchronized (load) {
                for (int i = 0; i < Math.min(n, rows) * k; i++) {
                    load[layer][ids[i]]++;
                }
            }
        }
        if (countingExperts) {
            Arrays.fill(seen, false);
            for (int i = 0; i < Math.min(n, rows) * k; i++) {
                distinct += seen[ids[i]] ? 0 : 1;
                seen[ids[i]] = true;
            }
            moeLayers++;
        }
        for (int r = 0; r < Math.min(n, rows); r++) {
            if (sequences[r].request.recordRouting()) {
                sequences[r].record(positions[r], layer, ids, r * k, k);
            }
        }
    }

    /** Distinct experts per MoE layer the last step's rows were routed to, on average; NaN if not counted. */
    double distinctExperts() {
        return countingExperts && moeLayers > 0 ? distinct / (double) moeLayers : Double.NaN;
    }

    /** A copy of the expert load counted so far, {@code [layer][expert]}; any thread. */
    long[][] load() {
        synchronized (load) {
            long[][] copy = new long[load.length][];
            for (int l = 0; l < load.length; l++) {
                copy[l] = load[l].clone();
            }
            return copy;
        }
    }
}
