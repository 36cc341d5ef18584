package io.tessera.kernels.cpu;

import io.tessera.api.kernel.BlockTable;
import io.tessera.api.kernel.Rows;
import java.util.concurrent.atomic.AtomicLong;

/** The rows of one step: position and KV slots (a contiguous range or a block table) of each row's sequence. */
final class CpuRows extends Handle implements Rows {
    final int[] positions, kvBase, kvCapacity;
    private final BlockTable table;   // null: contiguous

    CpuRows(Object owner, AtomicLong counter, int[] positions, int[] kvBase, int[] kvCapacity) {
        super(owner, counter, 0);
        this.positions = positions.clone();
        this.kvBase = kvBase.clone();
        this.kvCapacity = kvCapacity.clone();
        this.table = null;
    }

    CpuRows(Object owner, AtomicLong counter, int[] positions, BlockTable table) {
        super(owner, counter, 0);
        this.positions = positions.clone();
        this.kvBase = null;
        this.kvCapacity = null;
        this.table = table.copy();
    }

    public int count() { return positions.length; }

    int slot(int r, int position) {
        return table != null ? table.slot(r, position) : kvBase[r] + position % kvCapacity[r];
    }

    /** Positions row {@code r}'s sequence can hold. */
    int capacity(int r) { return table != null ? table.capacity(r) : kvCapacity[r]; }

    /** One past the last slot row {@code r}'s sequence may use. */
    long slotsReached(int r) { return table != null ? table.slotsReached(r) : (long) kvBase[r] + kvCapacity[r]; }
}
