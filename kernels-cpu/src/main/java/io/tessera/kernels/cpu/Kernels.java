package io.tessera.kernels.cpu;

import static io.tessera.api.kernel.WeightData.BLOCK;

import io.tessera.api.kernel.WeightData;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels: dot products of weight rows read in place (F32, BF16, FP8 E4M3 with block scales,
 * decoded in registers) with F32 activations, and the small vector helpers of the element-wise ops.
 * Species are chosen once; every loop has a scalar tail.
 */
final class Kernels {
    /** At least 256 bits, so the BF16 (half width) and FP8 (quarter width) species exist. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;
    static final int L = F.length();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows of W per dot kernel call: four independent FMA chains sharing each load of x. */
    static final int TILE = 4;

    private Kernels() {
    }

    /** The first {@code cols} columns of a weight row decoded exactly, for the scalar tails. */
    private static float scalar(WeightData w, int row, int col) {
        return w.get(row, col);
    }

    /**
     * {@code out[j] = W[o + j] · x[xo, xo + cols)} for {@code j < TILE}, rows past the last clamped to it (their
     * results are ignored by the caller).
     */
    static void dot(WeightData w, int o, float[] x, int xo, float[] out) {
        int last = w.rows() - 1;
        int o0 = Math.min(o, last), o1 = Math.min(o + 1, last), o2 = Math.min(o + 2, last), o3 = Math.min(o + 3, last);
        switch (w.dtype()) {
            case F32 -> f32(w, o0, o1, o2, o3, x, xo, out);
            case BF16 -> bf16(w, o0, o1, o2, o3, x, xo, out);
            case F8_E4M3 -> fp8(w, o0, o1, o2, o3, x, xo, out);
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
            s0 += xc * scalar(w, o0, c);
            s1 += xc * scalar(w, o1, c);
            s2 += xc * scalar(w, o2, c);
            s3 += xc * scalar(w, o3, c);
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    private static void fp8(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        MemorySegment m = w.data();
        int cols = w.cols();
        long r0 = (long) o0 * cols, r1 = (long) o1 * cols, r2 = (long) o2 * cols, r3 = (long) o3 * cols;
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int cb = 0; cb < cols; cb += BLOCK) {
            int end = Math.min(cb + BLOCK, cols);
            int blk = cb / BLOCK;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int c = cb;
            for (; c + L <= end; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c);
                a0 = fp8(m, r0 + c).fma(xv, a0);
                a1 = fp8(m, r1 + c).fma(xv, a1);
                a2 = fp8(m, r2 + c).fma(xv, a2);
                a3 = fp8(m, r3 + c).fma(xv, a3);
            }
            float sc0 = w.scale(o0 / BLOCK, blk), sc1 = w.scale(o1 / BLOCK, blk);
            float sc2 = w.scale(o2 / BLOCK, blk), sc3 = w.scale(o3 / BLOCK, blk);
            t0 = a0.fma(FloatVector.broadcast(F, sc0), t0);
            t1 = a1.fma(FloatVector.broadcast(F, sc1), t1);
            t2 = a2.fma(FloatVector.broadcast(F, sc2), t2);
            t3 = a3.fma(FloatVector.broadcast(F, sc3), t3);
            for (; c < end; c++) {
                float xc = x[xo + c];
                s0 += xc * scalar(w, o0, c);
                s1 += xc * scalar(w, o1, c);
                s2 += xc * scalar(w, o2, c);
                s3 += xc * scalar(w, o3, c);
            }
        }
        out[0] = s0 + sum(t0);
        out[1] = s1 + sum(t1);
        out[2] = s2 + sum(t2);
        out[3] = s3 + sum(t3);
    }

    /**
     * FP8 E4M3 to F32 in registers: sign and the 7 exponent-mantissa bits move into F32 position (bias 127
     * − 7 = 120 is restored by an exact multiplication by 2^120, which also scales subnormals right); 0x7F is
     * NaN.
     */
    static FloatVector fp8(MemorySegment m, long offset) {
        IntVector i = (IntVector) ByteVector.fromMemorySegment(B, m, offset, LE).convertShape(VectorOperators.B2I, I, 0);
        IntVector em = i.and(0x7F);
        FloatVector f = em.lanewise(VectorOperators.LSHL, 20).or(i.and(0x80000000)).reinterpretAsFloats()
                .mul(0x1p120f);
        return f.blend(Float.NaN, em.eq(0x7F).cast(F));
    }

    /**
     * The lanes summed in lane order. {@code reduceLanes(ADD)} may sum in another order once compiled than when
     * interpreted, so one input could give two results; this order is the same in every tier.
     */
    static float sum(FloatVector v) {
        float s = 0;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** {@code Σ a[ao + i] · b[bo + i]} for {@code i < n}. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** {@code y[yo + i] += a · x[xo + i]} for {@code i < n}. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    /** {@code x[i] *= a} for {@code i} in {@code [from, from + n)}. */
    static void scale(float[] x, int from, int n, float a) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, from + i).mul(a).intoArray(x, from + i);
        }
        for (; i < n; i++) {
            x[from + i] *= a;
        }
    }
}
