package io.tessera.kernels.cpu;

import io.tessera.api.kernel.Rows;
import java.util.concurrent.atomic.AtomicLong;

/** The rows of one step: position and KV slot range of each row's sequence. */
final class CpuRows extends Handle implements Rows {
    final int[] positions, kvBase, kvCapacity;

    CpuRows(Object owner, AtomicLong counter, int[] positions, int[] kvBase, int[] kvCapacity) {
        super(owner, counter, 0);
        this.positions = positions.clone();
        this.kvBase = kvBase.clone();
        this.kvCapacity = kvCapacity.clone();
    }

    public int count() { return positions.length; }

    int slot(int r, int position) { return kvBase[r] + position % kvCapacity[r]; }
}
