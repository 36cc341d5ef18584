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
    private static final int COPY_FLOATS = 1 << 20;   // host staging of a KV copy: at most 4 MiB per array

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

    KernelBackend backend() {
        return backend;
    }

    /** Whether {@code other} has the same layers, capacities and head shapes, so its slots map one to one. */
    boolean sameShape(KvPool other) {
        if (!Arrays.equals(capacity, other.capacity)) {
            return false;
        }
        for (int l = 0; l < caches.length; l++) {
            KvCache a = caches[l];
            KvCache b = other.caches[l];
            if (a.kvHeads() != b.kvHeads() || a.keyDim() != b.keyDim() || a.valueDim() != b.valueDim()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Copies the live KV of every sequence slot into {@code target} (same shape, any backend) through the
     * backend-neutral {@link KernelBackend#readKv}/{@link KernelBackend#writeKv}: sequence slot {@code s} has
     * written positions {@code [0, extent[s])}, which fill a ring layer's slots once they reach its capacity.
     * Returns the positions copied, summed over layers.
     */
    long copyTo(KvPool target, int[] extent) {
        long copied = 0;
        float[] keys = new float[0];
        float[] values = new float[0];
        for (int l = 0; l < caches.length; l++) {
            KvCache from = caches[l];
            int perChunk = Math.max(1, COPY_FLOATS / (from.kvHeads() * Math.max(from.keyDim(), from.valueDim())));
            for (int s = 0; s < extent.length; s++) {
                int count = Math.min(extent[s], capacity[l]);
                for (int done = 0; done < count; done += perChunk) {
                    int n = Math.min(perChunk, count - done);
                    int slot = s * capacity[l] + done;
                    if (keys.length < n * from.kvHeads() * from.keyDim()
                            || values.length < n * from.kvHeads() * from.valueDim()) {
                        keys = new float[n * from.kvHeads() * from.keyDim()];
                        values = new float[n * from.kvHeads() * from.valueDim()];
                    }
                    backend.readKv(from, slot, n, keys, values);
                    target.backend.writeKv(target.caches[l], slot, n, keys, values);
                }
                copied += count;
            }
        }
        return copied;
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
