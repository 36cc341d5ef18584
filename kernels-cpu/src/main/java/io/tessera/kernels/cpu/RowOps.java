package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.VectorMath.F;
import static io.tessera.kernels.cpu.VectorMath.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** The element-wise row ops between the matmuls, vectorised (each row costs microseconds: run on the caller). */
final class RowOps {
    private RowOps() {
    }

    /** {@code o[r] = g ⊙ x[r] / sqrt(mean(x[r]²) + eps)} for {@code n} rows of {@code d}; o may be x. */
    static void rmsNorm(float[] x, float[] g, float eps, int n, int d, float[] o) {
        for (int r = 0; r < n; r++) {
            int base = r * d;
            float inv = (float) (1 / Math.sqrt(VectorMath.dot(x, base, x, base, d) / d + eps));
            int c = 0;
            for (int bound = F.loopBound(d); c < bound; c += L) {
                FloatVector.fromArray(F, g, c).mul(FloatVector.fromArray(F, x, base + c).mul(inv))
                        .intoArray(o, base + c);
            }
            for (; c < d; c++) {
                o[base + c] = g[c] * (x[base + c] * inv);
            }
        }
    }

    /** {@code a[i] += b[i]} for {@code i < len}. */
    static void add(float[] a, float[] b, int len) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(a, i);
        }
        for (; i < len; i++) {
            a[i] += b[i];
        }
    }

    /** {@code o = SiLU(g) · u} element-wise over {@code len} values from the given offsets; o may be g or u. */
    static void siluMul(float[] g, int go, float[] u, int uo, float[] o, int oo, int len) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += L) {
            FloatVector z = FloatVector.fromArray(F, g, go + i);
            z.div(z.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, u, uo + i))
                    .intoArray(o, oo + i);
        }
        for (; i < len; i++) {
            float z = g[go + i];
            o[oo + i] = (float) (z / (1 + Math.exp(-z))) * u[uo + i];
        }
    }

    /**
     * Rotates the first {@code rotaryDim} dims of each of {@code heads} heads of {@code rows} rows of v in place,
     * halves paired (NeoX layout), by the angles of {@code cs} (per row: {@code half} cosines, then sines).
     */
    static void rope(float[] v, int rows, int heads, int headDim, int half, float[] cs) {
        for (int r = 0; r < rows; r++) {
            int t = r * 2 * half;
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                int d = 0;
                for (int bound = F.loopBound(half); d < bound; d += L) {
                    FloatVector a = FloatVector.fromArray(F, v, base + d);
                    FloatVector b = FloatVector.fromArray(F, v, base + half + d);
                    FloatVector cos = FloatVector.fromArray(F, cs, t + d);
                    FloatVector sin = FloatVector.fromArray(F, cs, t + half + d);
                    a.mul(cos).sub(b.mul(sin)).intoArray(v, base + d);
                    b.mul(cos).add(a.mul(sin)).intoArray(v, base + half + d);
                }
                for (; d < half; d++) {
                    float a = v[base + d];
                    float b = v[base + half + d];
                    v[base + d] = a * cs[t + d] - b * cs[t + half + d];
                    v[base + half + d] = b * cs[t + d] + a * cs[t + half + d];
                }
            }
        }
    }
}
