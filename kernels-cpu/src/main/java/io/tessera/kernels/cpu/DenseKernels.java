package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.VectorMath.F;
import static io.tessera.kernels.cpu.VectorMath.I;
import static io.tessera.kernels.cpu.VectorMath.L;
import static io.tessera.kernels.cpu.VectorMath.LE;
import static io.tessera.kernels.cpu.VectorMath.S;
import static io.tessera.kernels.cpu.VectorMath.sum;

import io.tessera.api.DType;
import io.tessera.api.kernel.WeightData;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * F32 and BF16 weight rows read in place against F32 activations, four rows per call: four independent FMA
 * chains share each load of x. F16 takes the exact scalar decode (no Vector API conversion for it).
 */
final class DenseKernels {
    private DenseKernels() {
    }

    /**
     * {@code out[j] = W[o + j] · x[xo, xo + cols)} for {@code j < 4}, rows past the last clamped to it (their
     * results are ignored by the caller).
     */
    static void dot4(WeightData w, int o, float[] x, int xo, float[] out) {
        int last = w.rows() - 1;
        dot4(w, Math.min(o, last), Math.min(o + 1, last), Math.min(o + 2, last), Math.min(o + 3, last), x, xo, out);
    }

    /** {@code out[j] = W[o_j] · x[xo, xo + cols)} for four rows of W anywhere (a shortlist's rows). */
    static void dot4(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        switch (w.dtype()) {
            case F32 -> f32(w, o0, o1, o2, o3, x, xo, out);
            case BF16 -> bf16(w, o0, o1, o2, o3, x, xo, out);
            case F8_E4M3 -> throw new AssertionError("FP8 rows go through Fp8Kernels (x permuted)");
            default -> scalarDot(w, o0, o1, o2, o3, x, xo, out);
        }
    }

    /** F16 (no Vector API conversion yet): the exact scalar decode. */
    private static void scalarDot(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        FloatVector z = FloatVector.zero(F);
        finish(w, o0, o1, o2, o3, x, xo, 0, w.cols(), z, z, z, z, out);
    }

    private static void f32(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        MemorySegment m = w.data();
        int cols = w.cols();
        long r0 = 4L * o0 * cols, r1 = 4L * o1 * cols, r2 = 4L * o2 * cols, r3 = 4L * o3 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (int bound = F.loopBound(cols); c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long off = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, m, r0 + off, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, m, r1 + off, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, m, r2 + off, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, m, r3 + off, LE).fma(xv, a3);
        }
        finish(w, o0, o1, o2, o3, x, xo, c, cols, a0, a1, a2, a3, out);
    }

    private static void bf16(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        MemorySegment m = w.data();
        int cols = w.cols();
        long r0 = 2L * o0 * cols, r1 = 2L * o1 * cols, r2 = 2L * o2 * cols, r3 = 2L * o3 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (int bound = F.loopBound(cols); c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long off = 2L * c;
            a0 = bf16(m, r0 + off).fma(xv, a0);
            a1 = bf16(m, r1 + off).fma(xv, a1);
            a2 = bf16(m, r2 + off).fma(xv, a2);
            a3 = bf16(m, r3 + off).fma(xv, a3);
        }
        finish(w, o0, o1, o2, o3, x, xo, c, cols, a0, a1, a2, a3, out);
    }

    /** BF16 is the high half of an F32: widen and shift. */
    private static FloatVector bf16(MemorySegment m, long offset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, m, offset, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Adds the scalar tail from column {@code c} to the lane sums. */
    private static void finish(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, int c, int cols,
                               FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] out) {
        float s0 = sum(a0), s1 = sum(a1);
        float s2 = sum(a2), s3 = sum(a3);
        for (; c < cols; c++) {
            float xc = x[xo + c];
            s0 += xc * w.get(o0, c);
            s1 += xc * w.get(o1, c);
            s2 += xc * w.get(o2, c);
            s3 += xc * w.get(o3, c);
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    /** Row {@code r} of w decoded exactly into {@code o} from {@code oo}: F32 and BF16 vectorised, else scalar. */
    static void row(WeightData w, int r, float[] o, int oo) {
        MemorySegment m = w.data();
        int cols = w.cols();
        int c = 0;
        if (w.dtype() == DType.F32) {
            MemorySegment.copy(m, WeightData.F32, 4L * r * cols, o, oo, cols);
            return;
        }
        if (w.dtype() == DType.BF16) {
            for (int bound = F.loopBound(cols); c < bound; c += L) {
                bf16(m, 2L * ((long) r * cols + c)).intoArray(o, oo + c);
            }
        }
        for (; c < cols; c++) {
            o[oo + c] = w.get(r, c);
        }
    }
}
