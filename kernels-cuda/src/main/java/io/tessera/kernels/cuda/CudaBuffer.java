package io.tessera.kernels.cuda;

import io.tessera.api.DType;
import io.tessera.api.kernel.Buffer;

/** An F32 or I32 {@code [rows, cols]} activation buffer in device memory. */
final class CudaBuffer extends CudaMatrix implements Buffer {

    CudaBuffer(CudaBackend owner, long ptr, DType dtype, int rows, int cols) {
        super(owner, dtype, rows, cols, 4L * rows * cols, ptr);
    }

    @Override
    public String toString() {
        return shape();
    }
}
