package io.tessera.kernels.cpu;

import io.tessera.api.kernel.KvCache;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/** Slot-major KV: key of slot {@code s}, kv head {@code h} at {@code (s·kvHeads + h)·keyDim}. */
final class CpuKv extends Handle implements KvCache {
    final int slots, kvHeads, keyDim, valueDim;
    final float[] keys, values;

    CpuKv(Object owner, AtomicLong counter, int slots, int kvHeads, int keyDim, int valueDim) {
        super(owner, counter, 4L * slots * kvHeads * (keyDim + valueDim));
        if ((long) slots * kvHeads * Math.max(keyDim, valueDim) > Integer.MAX_VALUE - 16) {
            throw new OutOfMemoryError("KV cache of " + slots + " slots × " + kvHeads + " heads exceeds a "
                    + "Java array; allocate fewer slots per cache");
        }
        this.slots = slots;
        this.kvHeads = kvHeads;
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        keys = new float[slots * kvHeads * keyDim];
        values = new float[slots * kvHeads * valueDim];
    }

    public int slots() { return slots; }
    public int kvHeads() { return kvHeads; }
    public int keyDim() { return keyDim; }
    public int valueDim() { return valueDim; }

    @Override
    void poison() {
        Arrays.fill(keys, Float.NaN);
        Arrays.fill(values, Float.NaN);
    }

    @Override
    public String toString() { return "cpu KV[" + slots + " slots]"; }
}
