package io.tessera.kernels.cuda;

import io.tessera.api.kernel.KvCache;

/** One layer's KV slots: keys {@code [slots, kvHeads, keyDim]} and values {@code [slots, kvHeads, valueDim]}, F32. */
final class CudaKvCache extends CudaMemory implements KvCache {
    final long keys, values;
    private final int slots, kvHeads, keyDim, valueDim;

    CudaKvCache(CudaBackend owner, int slots, int kvHeads, int keyDim, int valueDim, long keys, long values) {
        super(owner, 4L * slots * kvHeads * (keyDim + valueDim), keys, values);
        this.slots = slots;
        this.kvHeads = kvHeads;
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.keys = keys;
        this.values = values;
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int kvHeads() {
        return kvHeads;
    }

    @Override
    public int keyDim() {
        return keyDim;
    }

    @Override
    public int valueDim() {
        return valueDim;
    }
}
