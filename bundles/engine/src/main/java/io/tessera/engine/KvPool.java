package io.tessera.engine;

import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.model.Attention;
import io.tessera.common.Resources;
import java.util.Arrays;

/**
 * The engine's KV state for one model: per layer, one cache of {@code sequences × capacity} slots allocated from
 * the backend. Sequence slot {@code s} owns slots {@code [s·capacity, (s+1)·capacity)} of every layer; a global
 * layer's capacity is the context length, a sliding layer's a ring of {@code window − 1 + maxRows}. Layers with the
 * same capacity share one {@link Rows} per step.
 */
final class KvPool implements AutoCloseable {
    private final KernelBackend backend;
    private final int[] capacity;      // per layer
    private final int[] distinct;      // distinct capacities
    private final int[] group;         // per layer: index into distinct
    private final KvCache[] caches;
    private final Resources owned = new Resources();
    private final long bytes;

    KvPool(KernelBackend backend, Attention[] attention, int sequences, int contextLength, int maxRows) {
        this.backend = backend;
        int layers = attention.length;
        capacity = new int[layers];
        caches = new KvCache[layers];
        long total = 0;
        try {
            for (int l = 0; l < layers; l++) {
                Attention a = attention[l];
                capacity[l] = a.kvSlots(contextLength, maxRows);
                caches[l] = owned.add(backend.allocateKv(sequences * capacity[l], a.kvHeads(), a.keyDim(),
                        a.valueDim()));
                total += bytesPerSlot(a) * sequences * capacity[l];
            }
        } catch (RuntimeException | Error e) {
            owned.close();
            throw e;
        }
        bytes = total;
        distinct = Arrays.stream(capacity).distinct().sorted().toArray();
        group = Arrays.stream(capacity).map(c -> Arrays.binarySearch(distinct, c)).toArray();
    }

    /** F32 key and value bytes one position takes in one layer. */
    static long bytesPerSlot(Attention a) {
        return 4L * a.kvHeads() * (a.keyDim() + a.valueDim());
    }

    /** Layers with a cache: main layers, then MTP blocks. */
    int layers() {
        return caches.length;
    }

    KvCache cache(int layer) {
        return caches[layer];
    }

    long bytes() {
        return bytes;
    }

    /** The backend row descriptors of one step, one per distinct capacity; close after the step. */
    StepRows rows(Step step) {
        Rows[] rows = new Rows[distinct.length];
        int n = step.count();
        int[] base = new int[n];
        int[] cap = new int[n];
        for (int g = 0; g < distinct.length; g++) {
            for (int r = 0; r < n; r++) {
                base[r] = step.slots()[r] * distinct[g];
                cap[r] = distinct[g];
            }
            // the backend may keep the arrays while the step runs: each descriptor gets its own
            rows[g] = backend.rows(Arrays.copyOf(step.positions(), n), base.clone(), cap.clone());
        }
        return new StepRows(rows, group);
    }

    /** Rows of one step for each layer. */
    record StepRows(Rows[] rows, int[] group) implements AutoCloseable {
        Rows of(int layer) {
            return rows[group[layer]];
        }

        @Override
        public void close() {
            for (Rows r : rows) {
                r.close();
            }
        }
    }

    @Override
    public void close() {
        owned.close();
    }
}
