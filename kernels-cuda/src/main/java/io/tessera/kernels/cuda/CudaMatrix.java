package io.tessera.kernels.cuda;

import io.tessera.api.DType;

/** Device memory holding one {@code [rows, cols]} matrix of a dtype: the common part of buffers and weights. */
abstract class CudaMatrix extends CudaMemory {
    final long ptr;
    private final DType dtype;
    private final int rows, cols;

    /** {@code pointers[0]} holds the matrix; any others (FP8 scales) are freed with it. */
    CudaMatrix(CudaBackend owner, DType dtype, int rows, int cols, long bytes, long... pointers) {
        super(owner, bytes, pointers);
        this.ptr = pointers[0];
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    public DType dtype() {
        return dtype;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** {@code cuda DTYPE[rows, cols]}. */
    String shape() {
        return "cuda " + dtype + "[" + rows + ", " + cols + "]";
    }
}
