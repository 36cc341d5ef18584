package io.tessera.kernels.cuda;

import io.tessera.api.kernel.Rows;

/** The rows of one step on the device: I32 positions, kvBase and kvCapacity, {@code count} each, back to back. */
final class CudaRows extends CudaMemory implements Rows {
    final long positions, kvBase, kvCapacity;
    private final int count;

    CudaRows(CudaBackend owner, long ptr, int count) {
        super(owner, 12L * count, ptr);
        this.count = count;
        this.positions = ptr;
        this.kvBase = ptr + 4L * count;
        this.kvCapacity = ptr + 8L * count;
    }

    @Override
    public int count() {
        return count;
    }
}
