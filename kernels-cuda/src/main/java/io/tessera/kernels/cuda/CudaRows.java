package io.tessera.kernels.cuda;

import io.tessera.api.kernel.Rows;

/**
 * The rows of one step on the device: I32 positions, kvBase and kvCapacity, {@code count} each, back to back; for
 * paged rows kvBase holds where each row's block table starts, kvCapacity its length, and the tables follow.
 */
final class CudaRows extends CudaMemory implements Rows {
    final long positions, kvBase, kvCapacity, table;
    final int blockTokens;      // 0: contiguous
    final long slotsReached;    // one past the highest KV slot any row may use (checked against the cache)
    private final int count;

    CudaRows(CudaBackend owner, long ptr, long bytes, int count, int blockTokens, long slotsReached) {
        super(owner, bytes, ptr);
        this.count = count;
        this.positions = ptr;
        this.kvBase = ptr + 4L * count;
        this.kvCapacity = ptr + 8L * count;
        this.table = blockTokens > 0 ? ptr + 12L * count : 0;
        this.blockTokens = blockTokens;
        this.slotsReached = slotsReached;
    }

    @Override
    public int count() {
        return count;
    }
}
