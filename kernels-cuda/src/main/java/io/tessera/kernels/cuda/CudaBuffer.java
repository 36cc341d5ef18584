package io.tessera.kernels.cuda;

import io.tessera.api.DType;
import io.tessera.api.kernel.Buffer;

/** An F32 or I32 {@code [rows, cols]} activation buffer in device memory. */
final class CudaBuffer extends CudaMemory implements Buffer {
    final long ptr;
    private final DType dtype;
    private final int rows, cols;

    CudaBuffer(CudaBackend owner, long ptr, DType dtype, int rows, int cols) {
        super(owner, 4L * rows * cols, ptr);
        this.ptr = ptr;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public String toString() {
        return "cuda " + dtype + "[" + rows + ", " + cols + "]";
    }
}
