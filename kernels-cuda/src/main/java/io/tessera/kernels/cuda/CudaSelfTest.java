package io.tessera.kernels.cuda;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The check a backend passes before it is registered: RMSNorm, BF16 and block-scaled FP8 matmuls (vector and scalar
 * paths, a partial 128-block) and argmax on the device, against a plain host computation of the same math.
 */
final class CudaSelfTest {
    private CudaSelfTest() {
    }

    /** {@code null} when every check passes, else what failed. */
    static String run(KernelBackend b) {
        SplittableRandom rnd = new SplittableRandom(42);
        try (Arena arena = Arena.ofConfined()) {
            String failure = matmul(b, arena, rnd, DType.BF16, 40, 5, 3);
            failure = failure != null ? failure : matmul(b, arena, rnd, DType.F8_E4M3, 256, 130, 3);
            failure = failure != null ? failure : matmul(b, arena, rnd, DType.F8_E4M3, 136, 9, 2);
            return failure != null ? failure : normAndArgmax(b, arena, rnd);
        } catch (RuntimeException e) {
            return e.toString();
        }
    }

    private static String matmul(KernelBackend b, Arena arena, SplittableRandom rnd, DType dtype, int in, int out,
                                 int n) {
        Tensor t = tensor(arena, rnd, "selftest." + dtype, dtype, out, in);
        float[] x = randoms(rnd, n * in), want = new float[n * out], got = new float[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * element(t, o, i);
                }
                want[r * out + o] = (float) s;
            }
        }
        try (Weight w = b.weight(t); Buffer xb = b.allocate(DType.F32, n, in); Buffer yb = b.allocate(DType.F32, n, out)) {
            b.write(xb, 0, x, 0, x.length);
            b.matmul(xb, w, n, yb);
            b.read(yb, 0, got, 0, got.length);
        }
        return compare("matmul " + dtype + " [" + out + ", " + in + "] x " + n, want, got, in);
    }

    private static String normAndArgmax(KernelBackend b, Arena arena, SplittableRandom rnd) {
        int n = 2, cols = 300;
        Tensor t = tensor(arena, rnd, "selftest.norm", DType.BF16, 1, cols);
        float[] x = randoms(rnd, n * cols), want = new float[n * cols], got = new float[n * cols];
        int[] wantIds = new int[n], gotIds = new int[n];
        for (int r = 0; r < n; r++) {
            double ss = 0;
            for (int c = 0; c < cols; c++) {
                ss += x[r * cols + c] * x[r * cols + c];
            }
            double inv = 1 / Math.sqrt(ss / cols + 1e-5);
            for (int c = 0; c < cols; c++) {
                want[r * cols + c] = (float) (element(t, 0, c) * x[r * cols + c] * inv);
                if (want[r * cols + c] > want[r * cols + wantIds[r]]) {
                    wantIds[r] = c;
                }
            }
        }
        try (Weight w = b.weight(t); Buffer xb = b.allocate(DType.F32, n, cols);
             Buffer ids = b.allocate(DType.I32, n, 1)) {
            b.write(xb, 0, x, 0, x.length);
            b.rmsNorm(xb, w, 1e-5f, n, xb);
            b.argmax(xb, n, ids);
            b.read(xb, 0, got, 0, got.length);
            b.read(ids, 0, gotIds, 0, n);
        }
        String failure = compare("rmsNorm", want, got, 1);
        return failure != null ? failure : java.util.Arrays.equals(wantIds, gotIds) ? null
                : "argmax: got " + java.util.Arrays.toString(gotIds) + ", want " + java.util.Arrays.toString(wantIds);
    }

    /** Relative to the row's magnitude: F32 sums of {@code terms} products of values of size ~1. */
    private static String compare(String what, float[] want, float[] got, int terms) {
        double tolerance = 1e-5 * Math.sqrt(terms) + 1e-6;
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(want[i] - got[i]) <= tolerance * Math.max(1, Math.abs(want[i])))) {
                return what + ": element " + i + " is " + got[i] + ", want " + want[i];
            }
        }
        return null;
    }

    private static float[] randoms(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }

    /** A random {@code [rows, cols]} tensor of {@code dtype} (FP8 with random block scales). */
    static Tensor tensor(Arena arena, SplittableRandom rnd, String name, DType dtype, int rows, int cols) {
        MemorySegment data = arena.allocate((long) rows * cols * dtype.bytes(), 16);
        for (long i = 0; i < (long) rows * cols; i++) {
            switch (dtype) {
                case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT, i,
                        (short) (Float.floatToRawIntBits((float) rnd.nextDouble(-1, 1)) >>> 16));
                case F8_E4M3 -> data.set(ValueLayout.JAVA_BYTE, i, (byte) pickFinite(rnd));
                default -> data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
            }
        }
        Optional<Tensor> scales = Optional.empty();
        if (dtype == DType.F8_E4M3) {
            int sr = (rows + 127) / 128, sc = (cols + 127) / 128;
            MemorySegment s = arena.allocate(4L * sr * sc, 16);
            for (int i = 0; i < sr * sc; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(1e-3, 1e-2));
            }
            scales = Optional.of(new Tensor(name + "_scale_inv", DType.F32, new long[] {sr, sc}, s, Optional.empty()));
        }
        long[] shape = rows == 1 ? new long[] {cols} : new long[] {rows, cols};
        return new Tensor(name, dtype, shape, data, scales);
    }

    /** A random finite E4M3 byte (not 0x7F / 0xFF, the NaNs). */
    private static int pickFinite(SplittableRandom rnd) {
        int b = rnd.nextInt(256);
        return (b & 0x7F) == 0x7F ? b - 1 : b;
    }

    /** W[r][c] as the contract defines it: BF16/F32 exact, FP8 times its 128x128 block scale. */
    static double element(Tensor t, int r, int c) {
        int cols = t.dim(t.rank() - 1);
        long i = (long) r * cols + c;
        return switch (t.dtype()) {
            case BF16 -> Float.intBitsToFloat((t.data().getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xFFFF) << 16);
            case F8_E4M3 -> e4m3(t.data().get(ValueLayout.JAVA_BYTE, i))
                    * t.scaleInv().orElseThrow().data().getAtIndex(ValueLayout.JAVA_FLOAT,
                            (long) (r / 128) * ((cols + 127) / 128) + c / 128);
            default -> t.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        };
    }

    /** E4M3FN decoding: bias 7, subnormals at e = 0, 0x7F/0xFF NaN, no infinities. */
    static float e4m3(byte b) {
        int e = (b >> 3) & 0xF, m = b & 7;
        float sign = b < 0 ? -1 : 1;
        if (e == 0xF && m == 7) {
            return Float.NaN;
        }
        return sign * (e == 0 ? m / 8f * 0x1p-6f : (1 + m / 8f) * (float) Math.scalb(1.0, e - 7));
    }
}
