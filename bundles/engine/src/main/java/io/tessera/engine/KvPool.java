package io.tessera.engine;

import io.tessera.api.kernel.BlockTable;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.model.Attention;
import io.tessera.common.Resources;
import java.util.Arrays;

/**
 * The engine's KV storage for one model, allocated from the backend as {@link KvLayout} sizes it: a paged layer's
 * cache holds {@code blocks × blockTokens} slots, which {@link KvBlocks} hands to sequences; a ring layer's cache
 * holds {@code sequences × ringSlots}, sequence slot {@code s} owning {@code [s·ringSlots, (s+1)·ringSlots)}.
 * Ring layers with the same capacity share one {@link Rows} per step, paged layers another.
 */
final class KvPool implements AutoCloseable {
    private final KernelBackend backend;
    private final KvLayout layout;
    private final KvBlocks blocks;
    private final int[] distinct;      // distinct ring capacities; group distinct.length is the paged one
    private final int[] group;         // per layer: its group
    private final KvCache[] caches;
    private final Resources owned = new Resources();
    private static final int COPY_FLOATS = 1 << 20;   // host staging of a KV copy: at most 4 MiB per array

    KvPool(KernelBackend backend, Attention[] attention, KvLayout layout, KvBlocks blocks, int sequences) {
        if (attention.length != layout.layers() && attention.length != layout.mainLayers()) {
            throw new IllegalArgumentException("KV pool: " + attention.length + " attention layers for a layout of "
                    + layout.layers() + " (" + layout.mainLayers() + " without the MTP blocks)");
        }
        this.backend = backend;
        this.layout = layout;
        this.blocks = blocks;
        int layers = attention.length;
        caches = new KvCache[layers];
        try {
            for (int l = 0; l < layers; l++) {
                Attention a = attention[l];
                int slots = layout.paged()[l] ? layout.blocks() * layout.blockTokens()
                        : sequences * layout.ringSlots()[l];
                caches[l] = owned.add(backend.allocateKv(slots, a.kvHeads(), a.keyDim(), a.valueDim()));
            }
        } catch (RuntimeException | Error e) {
            owned.close();
            throw e;
        }
        distinct = Arrays.stream(layout.ringSlots()).filter(c -> c > 0).distinct().sorted().toArray();
        group = new int[layers];
        for (int l = 0; l < layers; l++) {
            group[l] = layout.paged()[l] ? distinct.length : Arrays.binarySearch(distinct, layout.ringSlots()[l]);
        }
    }

    /** Layers with a cache: main layers, then the MTP blocks unless the assembly it was made for had none. */
    int layers() {
        return caches.length;
    }

    KvCache cache(int layer) {
        return caches[layer];
    }

    KvLayout layout() {
        return layout;
    }

    long bytes() {
        return layout.bytes();
    }

    KernelBackend backend() {
        return backend;
    }

    /** Whether {@code other} has the same layout and head shapes, so its slots map one to one. */
    boolean sameShape(KvPool other) {
        if (caches.length != other.caches.length || !Arrays.equals(layout.paged(), other.layout.paged())
                || !Arrays.equals(layout.ringSlots(), other.layout.ringSlots())
                || layout.blocks() != other.layout.blocks() || layout.blockTokens() != other.layout.blockTokens()) {
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
     * Copies the live KV into {@code target} (same shape, any backend) through the backend-neutral
     * {@link KernelBackend#readKv}/{@link KernelBackend#writeKv}: every block a sequence holds, and each sequence
     * slot's ring up to the positions it wrote ({@code extent[s]}). Returns the positions copied, summed over
     * layers.
     */
    long copyTo(KvPool target, int[] extent) {
        long copied = 0;
        for (int l = 0; l < caches.length; l++) {
            if (layout.paged()[l]) {
                int b = layout.blockTokens();
                for (int block = 0; block < layout.blocks(); block++) {
                    if (blocks.inUse(block)) {
                        copied += copy(target, l, block * b, b);
                    }
                }
            } else {
                int capacity = layout.ringSlots()[l];
                for (int s = 0; s < extent.length; s++) {
                    copied += copy(target, l, s * capacity, Math.min(extent[s], capacity));
                }
            }
        }
        return copied;
    }

    private int copy(KvPool target, int layer, int slot, int count) {
        KvCache from = caches[layer];
        int perChunk = Math.max(1, COPY_FLOATS / (from.kvHeads() * Math.max(from.keyDim(), from.valueDim())));
        for (int done = 0; done < count; done += perChunk) {
            int n = Math.min(perChunk, count - done);
            float[] keys = new float[n * from.kvHeads() * from.keyDim()];
            float[] values = new float[n * from.kvHeads() * from.valueDim()];
            backend.readKv(from, slot + done, n, keys, values);
            target.backend.writeKv(target.caches[layer], slot + done, n, keys, values);
        }
        return count;
    }

    /**
     * The main rings' KV of sequence slot {@code s} for the positions before {@code resume} that a resumed
     * sequence's rows will read (the last {@code window − 1} of each ring layer).
     */
    KvBlocks.Snapshot snapshot(int s, int resume) {
        int layers = caches.length;
        int[] count = new int[layers];
        float[][] keys = new float[layers][];
        float[][] values = new float[layers][];
        long bytes = 0;
        for (int l = 0; l < layout.mainLayers(); l++) {   // the draft heads recompute their window from hN
            if (layout.paged()[l]) {
                continue;
            }
            KvCache c = caches[l];
            count[l] = Math.min(resume, layout.window()[l] - 1);
            keys[l] = new float[count[l] * c.kvHeads() * c.keyDim()];
            values[l] = new float[count[l] * c.kvHeads() * c.valueDim()];
            ring(l, s, resume - count[l], count[l], keys[l], values[l], true);
            bytes += 4L * (keys[l].length + values[l].length);
        }
        return new KvBlocks.Snapshot(resume, count, keys, values, bytes);
    }

    /** Writes a snapshot into sequence slot {@code s}'s rings. */
    void restore(int s, KvBlocks.Snapshot snapshot) {
        for (int l = 0; l < layout.mainLayers(); l++) {
            if (!layout.paged()[l]) {
                ring(l, s, snapshot.resume() - snapshot.count()[l], snapshot.count()[l], snapshot.keys()[l],
                        snapshot.values()[l], false);
            }
        }
    }

    /** Reads or writes positions {@code [from, from + count)} of slot {@code s}'s ring of layer {@code l}. */
    private void ring(int l, int s, int from, int count, float[] keys, float[] values, boolean read) {
        KvCache c = caches[l];
        int capacity = layout.ringSlots()[l];
        int kw = c.kvHeads() * c.keyDim();
        int vw = c.kvHeads() * c.valueDim();
        for (int done = 0; done < count; ) {
            int at = (from + done) % capacity;
            int n = Math.min(count - done, capacity - at);   // up to the ring's end, then from its start
            float[] k = new float[n * kw];
            float[] v = new float[n * vw];
            if (read) {
                backend.readKv(c, s * capacity + at, n, k, v);
                System.arraycopy(k, 0, keys, done * kw, n * kw);
                System.arraycopy(v, 0, values, done * vw, n * vw);
            } else {
                System.arraycopy(keys, done * kw, k, 0, n * kw);
                System.arraycopy(values, done * vw, v, 0, n * vw);
                backend.writeKv(c, s * capacity + at, n, k, v);
            }
            done += n;
        }
    }

    /** The backend row descriptors of one step, one per distinct ring capacity and one for the paged layers. */
    StepRows rows(Step step) {
        Rows[] rows = new Rows[distinct.length + 1];
        int n = step.count();
        int[] base = new int[n];
        int[] cap = new int[n];
        try {
            for (int g = 0; g < distinct.length; g++) {
                for (int r = 0; r < n; r++) {
                    base[r] = step.slots()[r] * distinct[g];
                    cap[r] = distinct[g];
                }
                // the backend may keep the arrays while the step runs: each descriptor gets its own
                rows[g] = backend.rows(Arrays.copyOf(step.positions(), n), base.clone(), cap.clone());
            }
            if (distinct.length < group.length && Arrays.stream(group).anyMatch(g -> g == distinct.length)) {
                rows[distinct.length] = backend.pagedRows(Arrays.copyOf(step.positions(), n), table(step));
            }
        } catch (RuntimeException | Error e) {
            new StepRows(rows, group).close();
            throw e;
        }
        return new StepRows(rows, group);
    }

    /** The step's block tables: each sequence's once, its rows pointing at it. */
    private BlockTable table(Step step) {
        int n = step.count();
        int[] start = new int[n];
        int[] length = new int[n];
        int total = 0;
        for (int r = 0; r < n; r++) {
            if (r == 0 || step.slots()[r] != step.slots()[r - 1]) {
                total += blocks.tableLength(step.slots()[r]);
            }
        }
        int[] flat = new int[total];
        int at = 0;
        for (int r = 0; r < n; r++) {
            int s = step.slots()[r];
            if (r == 0 || s != step.slots()[r - 1]) {
                System.arraycopy(blocks.table(s), 0, flat, at, blocks.tableLength(s));
                start[r] = at;
                at += blocks.tableLength(s);
            } else {
                start[r] = start[r - 1];
            }
            length[r] = blocks.tableLength(s);
        }
        return new BlockTable(blocks.blockTokens(), flat, start, length);
    }

    /** Rows of one step for each layer. */
    record StepRows(Rows[] rows, int[] group) implements AutoCloseable {
        Rows of(int layer) {
            return rows[group[layer]];
        }

        @Override
        public void close() {
            for (Rows r : rows) {
                if (r != null) {
                    r.close();
                }
            }
        }
    }

    @Override
    public void close() {
        owned.close();
    }
}
