package io.tessera.kernels.cpu;

import io.tessera.api.DType;
import io.tessera.api.kernel.Weight;
import io.tessera.api.kernel.WeightData;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A weight read in place: nothing is copied, so it counts 0 bytes. FP8: its plain-block flags (one bit per 128
 * weights, {@link Fp8Kernels#plainBits}), a tile's filled at its first use (then {@code scanned}). A one-row
 * weight (norm, bias, sinks) is decoded once to F32 at its first use by an op ({@link #values}).
 */
final class CpuWeight extends Handle implements Weight {
    final WeightData data;
    final long[] plain;
    final boolean[] scanned;
    private float[] values;

    CpuWeight(Object owner, AtomicLong counter, WeightData data) {
        super(owner, counter, 0);
        this.data = data;
        boolean fp8 = data.dtype() == DType.F8_E4M3;
        plain = fp8 ? Fp8Kernels.plainBits(data) : null;
        scanned = fp8 ? new boolean[(data.rows() + Fp8Kernels.TILE - 1) / Fp8Kernels.TILE] : null;
    }

    /** All values, row-major, decoded exactly; for the small weights only (callers hold the op lock). */
    float[] values() {
        if (values == null) {
            float[] v = new float[Math.multiplyExact(data.rows(), data.cols())];
            for (int r = 0; r < data.rows(); r++) {
                for (int c = 0; c < data.cols(); c++) {
                    v[r * data.cols() + c] = data.get(r, c);
                }
            }
            values = v;
        }
        return values;
    }

    public String name() { return data.name(); }
    public DType dtype() { return data.dtype(); }
    public int rows() { return data.rows(); }
    public int cols() { return data.cols(); }

    @Override
    public String toString() { return "cpu weight " + data.name(); }
}
