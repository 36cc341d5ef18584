package io.tessera.kernels.cpu;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** The vector species, chosen once, and the small F32 vector helpers of the ops; every loop has a scalar tail. */
final class VectorMath {
    /** At least 256 bits, so the BF16 (half width) species exists. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;
    static final int L = F.length();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorMath() {
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

    /** {@code Σ a[ao + i] · b[bo + i]} for {@code i < n}, two lane accumulators (even, odd vectors). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int i = 0;
        for (int bound = n - 2 * L; i <= bound; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), acc1);
        }
        if (i + L <= n) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            i += L;
        }
        float s = sum(acc0.add(acc1));
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
