package io.tessera.kernels.cuda;

import io.tessera.api.DType;
import io.tessera.api.kernel.Weight;

/** A checkpoint tensor copied to the device as stored (BF16, F16, F32 or FP8 with its F32 128x128 block scales). */
final class CudaWeight extends CudaMatrix implements Weight {
    /** The FP8 block scales, or 0. */
    final long scales;
    private final String name;

    CudaWeight(CudaBackend owner, String name, DType dtype, int rows, int cols, long ptr, long scales, long bytes) {
        super(owner, dtype, rows, cols, bytes, ptr, scales);
        this.name = name;
        this.scales = scales;
    }

    /** The kernels' dtype number ({@code DT_*} in tessera.cuh). */
    int code() {
        return code(dtype());
    }

    /** The kernel-name suffix of this dtype: {@code gemv_bf16}, {@code expert_down_f8}, ... */
    String suffix() {
        return switch (dtype()) {
            case F32 -> "f32";
            case BF16 -> "bf16";
            case F16 -> "f16";
            default -> "f8";
        };
    }

    static int code(DType dtype) {
        return switch (dtype) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
            case F8_E4M3 -> 3;
            default -> throw new IllegalArgumentException("no CUDA weight dtype " + dtype);
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + " (" + shape() + ")";
    }
}
