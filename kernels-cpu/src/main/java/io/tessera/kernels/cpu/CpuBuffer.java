package io.tessera.kernels.cpu;

import io.tessera.api.DType;
import io.tessera.api.kernel.Buffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/** F32 or I32 {@code [rows, cols]}, row-major. */
final class CpuBuffer extends Handle implements Buffer {
    final DType dtype;
    final int rows, cols;
    final float[] f;
    final int[] i;

    CpuBuffer(Object owner, AtomicLong counter, DType dtype, int rows, int cols) {
        super(owner, counter, 4L * rows * cols);
        if ((long) rows * cols > Integer.MAX_VALUE - 16) {
            throw new OutOfMemoryError("buffer [" + rows + ", " + cols + "] exceeds a Java array");
        }
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        f = dtype == DType.F32 ? new float[rows * cols] : null;
        i = dtype == DType.I32 ? new int[rows * cols] : null;
    }

    public DType dtype() { return dtype; }
    public int rows() { return rows; }
    public int cols() { return cols; }

    @Override
    void poison() {
        if (f != null) {
            Arrays.fill(f, Float.NaN);
        } else {
            Arrays.fill(i, -1);
        }
    }

    @Override
    public String toString() { return "cpu " + dtype + "[" + rows + ", " + cols + "]"; }
}
