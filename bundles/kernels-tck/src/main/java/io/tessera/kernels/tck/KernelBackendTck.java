package io.tessera.kernels.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.AttentionParams;
import io.tessera.api.kernel.BlockTable;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.ExpertWeights;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.ScoreFunction;
import io.tessera.api.kernel.Weight;
import io.tessera.api.kernel.WeightData;
import io.tessera.kernels.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit of {@link KernelBackend}: extend it, return the backend under test from {@link #backend()},
 * and run it with JUnit 5. Every op is compared with the {@link ReferenceBackend} (the oracle, which sums in
 * double) on random shapes, including odd sizes and partial FP8 blocks; a few known answers pin the oracle
 * itself.
 *
 * <p>Tolerances follow the precision contract (F32 accumulation, exact weights): a sum of {@code n} terms may
 * differ from the exact one by {@code n · 2⁻²⁴ · Σ|terms|} (the worst case of recursive F32 summation), and an
 * element-wise op by a few units in the last place of its inputs' magnitude. They are never widened to let a
 * backend pass.
 */
public abstract class KernelBackendTck {
    /** Unit roundoff of F32. */
    protected static final double U = 0x1p-24;

    /** The backend under test: the same instance on every call (handles must stay valid across calls). */
    protected abstract KernelBackend backend();

    private final KernelBackend oracle = new ReferenceBackend();

    // ---- helpers --------------------------------------------------------------------------------------------

    /** Runs the same computation on the backend under test and on the oracle: {test, oracle}. */
    private float[][] both(Function<KernelBackend, float[]> op) {
        return new float[][] {op.apply(backend()), op.apply(oracle)};
    }

    protected static Buffer upload(KernelBackend b, int rows, int cols, float[] data) {
        Buffer buf = b.allocate(DType.F32, rows, cols);
        b.write(buf, 0, data, 0, data.length);
        return buf;
    }

    protected static Buffer uploadIds(KernelBackend b, int rows, int cols, int[] data) {
        Buffer buf = b.allocate(DType.I32, rows, cols);
        b.write(buf, 0, data, 0, data.length);
        return buf;
    }

    protected static float[] download(KernelBackend b, Buffer buf, int elements) {
        float[] out = new float[elements];
        b.read(buf, 0, out, 0, elements);
        return out;
    }

    protected static int[] downloadIds(KernelBackend b, Buffer buf, int elements) {
        int[] out = new int[elements];
        b.read(buf, 0, out, 0, elements);
        return out;
    }

    protected static float[] gaussian(Random rnd, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (sigma * rnd.nextGaussian());
        }
        return x;
    }

    /** Element-wise comparison: equal NaN-ness and infinities, else |a − b| ≤ tolerance[i]. */
    protected static void assertClose(String what, float[] expected, float[] actual, double[] tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a) || Float.isInfinite(e) || Float.isInfinite(a)) {
                if (Float.compare(e, a) != 0 && !(Float.isNaN(e) && Float.isNaN(a))) {
                    fail(what + "[" + i + "]: expected " + e + ", got " + a);
                }
            } else if (Math.abs(e - a) > tolerance[i]) {
                fail(what + "[" + i + "]: expected " + e + ", got " + a + " (|diff| " + Math.abs(e - a)
                        + " > tolerance " + tolerance[i] + ")");
            }
        }
    }

    /** Bound of an F32 dot product of {@code n} terms: {@code (n + 2) · u · Σ|terms|} plus the subnormal floor. */
    protected static double dotTolerance(int n, double magnitude) {
        return (n + 2) * U * magnitude + Float.MIN_NORMAL;
    }

    /** {@code Σ_i |x[r][i] · W[o][i]|} for every output, in double. */
    private static double[] matmulTolerance(float[] x, WeightData w, int n) {
        double[] tol = new double[n * w.rows()];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < w.rows(); o++) {
                double m = 0;
                for (int i = 0; i < w.cols(); i++) {
                    m += Math.abs((double) x[r * w.cols() + i] * w.get(o, i));
                }
                tol[r * w.rows() + o] = dotTolerance(w.cols(), m);
            }
        }
        return tol;
    }

    private static double[] uniform(int n, double tol) {
        double[] t = new double[n];
        java.util.Arrays.fill(t, tol);
        return t;
    }

    private static double[] ulps(float[] expected, int ulps) {
        double[] t = new double[expected.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = ulps * Math.ulp(Math.abs(expected[i])) + Float.MIN_NORMAL;
        }
        return t;
    }

    // ---- the oracle's known answers ---------------------------------------------------------------------

    @Test
    void fp8DecodesE4m3fn() {
        assertEquals(1f, WeightData.e4m3((byte) 0x38));
        assertEquals(448f, WeightData.e4m3((byte) 0x7E));
        assertEquals(-448f, WeightData.e4m3((byte) 0xFE));
        assertEquals(0x1p-9f, WeightData.e4m3((byte) 0x01));
        assertEquals(7 * 0x1p-9f, WeightData.e4m3((byte) 0x07));
        assertEquals(0x1p-6f, WeightData.e4m3((byte) 0x08));
        assertEquals(-0f, WeightData.e4m3((byte) 0x80));
        assertTrue(Float.isNaN(WeightData.e4m3((byte) 0x7F)) && Float.isNaN(WeightData.e4m3((byte) 0xFF)));
    }

    /**
     * Every non-NaN FP8 byte through the backend's matmul: x = e_j picks column j, scales 2 and 0.5 per column
     * block (the NaN bytes 0x7F and 0xFF are zero here, as 0 · NaN would poison every row; see the NaN test).
     * Row 0 holds every byte; row 1 only the normal bytes (then 1.0), so that both of its blocks are free of
     * zero, subnormal and NaN bytes, which a backend may decode by a faster path.
     */
    @Test
    void fp8MatmulDecodesEveryByteWithItsBlockScale() {
        int cols = 256;
        byte[] bytes = new byte[2 * cols];
        int normal = cols;
        for (int i = 0; i < cols; i++) {
            bytes[i] = (i & 0x7F) == 0x7F ? 0 : (byte) i;
            if ((i & 0x78) != 0 && (i & 0x7F) != 0x7F) {
                bytes[normal++] = (byte) i;
            }
        }
        java.util.Arrays.fill(bytes, normal, 2 * cols, (byte) 0x38);
        Tensor t = Weights.fp8("w", 2, cols, bytes, new float[] {2f, 0.5f});
        KernelBackend b = backend();
        Weight w = b.weight(t);
        float[] eye = new float[cols * cols];
        for (int i = 0; i < cols; i++) {
            eye[i * cols + i] = 1;
        }
        for (int from = 0; from < cols; from += 64) { // 64-row batches, the largest small batch
            Buffer xs = upload(b, 64, cols, java.util.Arrays.copyOfRange(eye, from * cols, (from + 64) * cols));
            Buffer ys = b.allocate(DType.F32, 64, 2);
            b.matmul(xs, w, 64, ys);
            float[] got = download(b, ys, 128);
            for (int i = 0; i < 64; i++) {
                int j = from + i;
                for (int row = 0; row < 2; row++) {
                    byte v = bytes[row * cols + j];
                    float want = WeightData.e4m3(v) * (j < 128 ? 2f : 0.5f);
                    float g = got[2 * i + row];
                    assertEquals(Float.floatToIntBits(want == 0 ? 0f : want), Float.floatToIntBits(g == 0 ? 0f : g),
                            "byte 0x" + Integer.toHexString(v & 0xFF) + " in row " + row + ", column " + j);
                }
            }
        }
    }

    @Test
    void attentionWithSinkMatchesHandComputation() {
        // one head, one key: p = e^a / (e^a + e^s), out = p · valueScale · v
        KernelBackend b = backend();
        AttentionParams p = new AttentionParams(1, 1, 2, 1, 4, 0.5f, 2f);
        try (KvCache kv = b.allocateKv(4, 1, 2, 1); Rows rows = b.rows(new int[] {0}, new int[] {0}, new int[] {4})) {
            Buffer q = upload(b, 1, 2, new float[] {1, 2});
            Buffer k = upload(b, 1, 2, new float[] {3, 1});
            Buffer v = upload(b, 1, 1, new float[] {5});
            Buffer out = b.allocate(DType.F32, 1, 1);
            b.attention(rows, q, k, v, kv, p, b.weight(Weights.vector("sink", new float[] {1f})), out);
            double a = (1 * 3 + 2 * 1) * 0.5;
            double want = Math.exp(a) / (Math.exp(a) + Math.exp(1)) * 10;
            assertEquals(want, download(b, out, 1)[0], 4 * U * want);
        }
    }

    // ---- matmul -------------------------------------------------------------------------------------------

    @Test
    void matmulMatchesOracleForEveryDtypeAndShape() {
        Random rnd = new Random(1);
        int[][] shapes = {{1, 1, 1}, {1, 200, 333}, {3, 200, 333}, {64, 129, 130}, {5, 7, 17}, {16, 256, 128},
            {2, 130, 4096}};
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F8_E4M3, DType.F16}) {
            for (int[] s : shapes) {
                int n = s[0], out = s[1], in = s[2];
                Tensor t = Weights.random("w", dt, out, in, rnd);
                float[] x = gaussian(rnd, n * in, 1);
                float[][] r = both(b -> {
                    Buffer xb = upload(b, n, in, x);
                    Buffer yb = b.allocate(DType.F32, n + 1, out); // larger than n: only n rows are touched
                    b.matmul(xb, b.weight(t), n, yb);
                    return download(b, yb, (n + 1) * out);
                });
                double[] tol = java.util.Arrays.copyOf(matmulTolerance(x, WeightData.of(t), n), (n + 1) * out);
                assertClose("matmul " + dt + " " + java.util.Arrays.toString(s), r[1], r[0], tol);
            }
        }
    }

    /**
     * Batch invariance (see {@link KernelBackend}): matmul of n rows gives, bit for bit, what n one-row matmuls
     * give, for every dtype. FP8 weights here are like a checkpoint's, most blocks free of zero and subnormal
     * bytes, some not; they are also compared with the oracle.
     */
    @Test
    void matmulIsBatchInvariant() {
        Random rnd = new Random(7);
        int n = 9, out = 130, in = 700;
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16, DType.F8_E4M3}) {
            Tensor t = dt == DType.F8_E4M3 ? Weights.checkpointFp8("w", out, in, rnd)
                    : Weights.random("w", dt, out, in, rnd);
            float[] x = gaussian(rnd, n * in, 1);
            float[][] r = both(b -> {
                Buffer yb = b.allocate(DType.F32, n, out);
                b.matmul(upload(b, n, in, x), b.weight(t), n, yb);
                return download(b, yb, n * out);
            });
            assertClose("matmul " + dt, r[1], r[0], matmulTolerance(x, WeightData.of(t), n));
            KernelBackend b = backend();
            Weight w = b.weight(t);
            for (int row = 0; row < n; row++) {
                Buffer y = b.allocate(DType.F32, 1, out);
                b.matmul(upload(b, 1, in, java.util.Arrays.copyOfRange(x, row * in, (row + 1) * in)), w, 1, y);
                float[] one = download(b, y, out);
                for (int o = 0; o < out; o++) {
                    assertEquals(Float.floatToRawIntBits(one[o]), Float.floatToRawIntBits(r[0][row * out + o]),
                            dt + ": row " + row + " of " + n + ", output " + o + " differs from the one-row call");
                }
            }
        }
    }

    /**
     * The sub-vocabulary matmul (a shortlist lm_head) is the full matmul's listed rows, in the listed order (repeats
     * and any order allowed), within the same bound; only the first column of a wider id buffer is read; an id
     * outside W is rejected.
     */
    @Test
    void matmulRowsIsTheMatmulOfTheListedRows() {
        Random rnd = new Random(11);
        int n = 3, out = 150, in = 333;
        int[] ids = {149, 0, 7, 7, 100, 3, 148, 42, 1};
        int count = ids.length;
        int[] wide = new int[2 * count];   // [count, 2]: ids in column 0, junk in column 1
        for (int j = 0; j < count; j++) {
            wide[2 * j] = ids[j];
            wide[2 * j + 1] = -1;
        }
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16, DType.F8_E4M3}) {
            Tensor t = Weights.random("w", dt, out, in, rnd);
            float[] x = gaussian(rnd, n * in, 1);
            float[][] r = both(b -> {
                Buffer yb = b.allocate(DType.F32, n + 1, count); // larger than n: only n rows are touched
                b.matmulRows(upload(b, n, in, x), b.weight(t), uploadIds(b, count, 2, wide), n, yb);
                return download(b, yb, (n + 1) * count);
            });
            double[] full = matmulTolerance(x, WeightData.of(t), n);
            double[] tol = new double[(n + 1) * count];
            for (int row = 0; row < n; row++) {
                for (int j = 0; j < count; j++) {
                    tol[row * count + j] = full[row * out + ids[j]];
                }
            }
            assertClose("matmulRows " + dt, r[1], r[0], tol);
        }
        KernelBackend b = backend();
        Tensor t = Weights.random("w", DType.F32, out, in, rnd);
        assertThrows(IllegalArgumentException.class, () -> b.matmulRows(b.allocate(DType.F32, 1, in), b.weight(t),
                uploadIds(b, 2, 1, new int[] {3, out}), 1, b.allocate(DType.F32, 1, 2)),
                "an id past W's rows must be rejected");
    }

    @Test
    void matmulPropagatesNanAndInf() {
        Random rnd = new Random(2);
        int in = 150, out = 9;
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F8_E4M3}) {
            Tensor t = Weights.random("w", dt, out, in, rnd);
            float[] x = gaussian(rnd, 3 * in, 1);
            x[5] = Float.NaN;                // row 0: NaN everywhere
            x[in + 149] = Float.POSITIVE_INFINITY; // row 1: ±Inf or NaN (Inf · 0)
            float[][] r = both(b -> {
                Buffer yb = b.allocate(DType.F32, 3, out);
                b.matmul(upload(b, 3, in, x), b.weight(t), 3, yb);
                return download(b, yb, 3 * out);
            });
            for (int o = 0; o < out; o++) {
                assertTrue(Float.isNaN(r[0][o]), dt + ": NaN input must give NaN, got " + r[0][o]);
            }
            double[] tol = matmulTolerance(x, WeightData.of(t), 3);
            assertClose("matmul inf " + dt, r[1], r[0], tol);
        }
        // a NaN weight byte (0x7F) poisons its row only
        // (rows 2 and 3: 1.0 everywhere, row 2 with a NaN byte inside its first block, which has no zero byte)
        byte[] bytes = new byte[4 * 130];
        bytes[130 + 129] = 0x7F;
        java.util.Arrays.fill(bytes, 2 * 130, 4 * 130, (byte) 0x38);
        bytes[2 * 130 + 5] = (byte) 0xFF;
        Tensor t = Weights.fp8("nan", 4, 130, bytes, new float[] {1, 1});
        KernelBackend b = backend();
        Buffer y = b.allocate(DType.F32, 1, 4);
        b.matmul(upload(b, 1, 130, gaussian(rnd, 130, 1)), b.weight(t), 1, y);
        float[] got = download(b, y, 4);
        assertEquals(0f, got[0]);
        assertTrue(Float.isNaN(got[1]), "NaN weight must give NaN, got " + got[1]);
        assertTrue(Float.isNaN(got[2]), "NaN weight among normal ones must give NaN, got " + got[2]);
        assertTrue(Float.isFinite(got[3]), "normal weights must give a finite result, got " + got[3]);
    }

    // ---- element-wise ops ---------------------------------------------------------------------------------

    @Test
    void elementwiseOpsMatchOracle() {
        Random rnd = new Random(3);
        int n = 3, d = 37, vocab = 11;
        float[] a = gaussian(rnd, 4 * d, 3);
        float[] c = gaussian(rnd, 4 * d, 3);
        a[7] = Float.NaN;
        c[8] = Float.POSITIVE_INFINITY;
        Tensor norm = Weights.random("norm", DType.BF16, 1, d, rnd);
        Tensor table = Weights.random("embed", DType.F8_E4M3, vocab, d, rnd);
        int[] ids = {10, 0, 4};
        float[][] rms = both(b -> {
            Buffer x = upload(b, 4, d, a);
            b.rmsNorm(x, b.weight(norm), 1e-5f, n, x); // in place
            return download(b, x, 4 * d);
        });
        double[] tol = new double[4 * d];
        for (int i = 0; i < tol.length; i++) {
            tol[i] = (d + 8) * U * Math.abs(rms[1][i]) + Float.MIN_NORMAL;
        }
        assertClose("rmsNorm", rms[1], rms[0], tol);
        float[][] silu = both(b -> {
            Buffer g = upload(b, 4, d, a);
            b.siluMul(g, upload(b, 4, d, c), n, g);
            return download(b, g, 4 * d);
        });
        assertClose("siluMul", silu[1], silu[0], ulps(silu[1], 8));
        float[][] add = both(b -> {
            Buffer x = upload(b, 4, d, a);
            b.add(x, upload(b, 4, d, c), n);
            return download(b, x, 4 * d);
        });
        assertClose("add", add[1], add[0], uniform(4 * d, 0));
        float[][] cat = both(b -> {
            Buffer o = b.allocate(DType.F32, n, 2 * d + 1);
            b.concat(upload(b, 4, d, a), upload(b, 4, d + 1, java.util.Arrays.copyOf(c, 4 * (d + 1))), n, o);
            return download(b, o, n * (2 * d + 1));
        });
        assertClose("concat", cat[1], cat[0], uniform(cat[1].length, 0));
        float[][] gather = both(b -> {
            Buffer o = b.allocate(DType.F32, 2, d);
            b.gatherRows(upload(b, 4, d, a), uploadIds(b, 2, 1, new int[] {3, 1}), 2, o);
            return download(b, o, 2 * d);
        });
        assertClose("gatherRows", gather[1], gather[0], uniform(2 * d, 0));
        float[][] scatter = both(b -> {
            Buffer o = b.allocate(DType.F32, 5, d);
            b.scatterRows(upload(b, 2, d, java.util.Arrays.copyOf(a, 2 * d)), uploadIds(b, 2, 1, new int[] {4, 0}), 2,
                    o);
            return download(b, o, 5 * d);
        });
        assertClose("scatterRows", scatter[1], scatter[0], uniform(5 * d, 0));
        float[][] emb = both(b -> {
            Buffer o = b.allocate(DType.F32, n, d);
            b.embed(b.weight(table), uploadIds(b, n, 1, ids), n, o);
            return download(b, o, n * d);
        });
        assertClose("embed", emb[1], emb[0], uniform(n * d, 0));
        KernelBackend b = backend();
        assertThrows(IllegalArgumentException.class, () -> b.embed(b.weight(table), uploadIds(b, 1, 1,
                new int[] {vocab}), 1, b.allocate(DType.F32, 1, d)), "an id past the table must be rejected");
    }

    @Test
    void ropeMatchesOracleAtLongPositions() {
        Random rnd = new Random(4);
        int heads = 3, headDim = 38, rot = 22;
        int[] pos = {0, 1, 127, 4097, 262143};
        float[] x = gaussian(rnd, pos.length * heads * headDim, 1);
        for (double theta : new double[] {1e4, 5e6}) {
            float[][] r = both(b -> {
                Buffer xb = upload(b, pos.length, heads * headDim, x);
                try (Rows rows = b.rows(pos, new int[pos.length], new int[] {1, 1, 1, 1, 1})) {
                    b.rope(rows, xb, heads, headDim, rot, theta);
                }
                return download(b, xb, x.length);
            });
            double[] tol = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int d = i % headDim;
                int partner = d < rot / 2 ? i + rot / 2 : d < rot ? i - rot / 2 : i;
                tol[i] = 8 * U * (Math.abs(x[i]) + Math.abs(x[partner])) + Float.MIN_NORMAL;
            }
            assertClose("rope theta " + theta, r[1], r[0], tol);
        }
    }

    @Test
    void ropeFromTableMatchesOracleAndTheThetaForm() {
        Random rnd = new Random(14);
        int heads = 2, headDim = 40, half = 16;
        int[] pos = {0, 3, 8191, 131071};
        double[] table = new double[half];   // any table: scaled, smoothed, not monotone
        for (int d = 0; d < half; d++) {
            table[d] = Math.pow(500_000, -2.0 * d / (2 * half)) * (0.1 + rnd.nextDouble());
        }
        float[] x = gaussian(rnd, pos.length * heads * headDim, 1);
        float[][] r = both(b -> {
            Buffer xb = upload(b, pos.length, heads * headDim, x);
            try (Rows rows = b.rows(pos, new int[pos.length], new int[] {1, 1, 1, 1})) {
                b.rope(rows, xb, heads, headDim, table);
            }
            return download(b, xb, x.length);
        });
        double[] tol = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int d = i % headDim;
            int partner = d < half ? i + half : d < 2 * half ? i - half : i;
            tol[i] = 8 * U * (Math.abs(x[i]) + Math.abs(x[partner])) + Float.MIN_NORMAL;
        }
        assertClose("rope table", r[1], r[0], tol);
        // the theta form is the plain table: one implementation, bit-equal results
        KernelBackend b = backend();
        double theta = 1e4;
        double[] plain = new double[half];
        for (int d = 0; d < half; d++) {
            plain[d] = Math.pow(theta, -2.0 * d / (2 * half));
        }
        Buffer viaTheta = upload(b, pos.length, heads * headDim, x);
        Buffer viaTable = upload(b, pos.length, heads * headDim, x);
        try (Rows rows = b.rows(pos, new int[pos.length], new int[] {1, 1, 1, 1})) {
            b.rope(rows, viaTheta, heads, headDim, 2 * half, theta);
            b.rope(rows, viaTable, heads, headDim, plain);
            assertThrows(IllegalArgumentException.class, () -> b.rope(rows, viaTable, heads, headDim,
                    new double[headDim / 2 + 1]), "a table wider than the head must be rejected");
        }
        assertArrayEquals(download(b, viaTable, x.length), download(b, viaTheta, x.length), "rope theta vs table");
    }

    @Test
    void rmsNormHeadsMatchesOracleAndPerRowNorm() {
        Random rnd = new Random(15);
        int n = 3, heads = 5, d = 24;
        float[] a = gaussian(rnd, 4 * heads * d, 3);
        a[d + 2] = Float.NaN;   // only head 1 of row 0 becomes NaN
        Tensor norm = Weights.random("q_norm", DType.BF16, 1, d, rnd);
        float[][] got = both(b -> {
            Buffer x = upload(b, 4, heads * d, a);
            b.rmsNormHeads(x, b.weight(norm), 1e-6f, n, heads, x); // in place
            return download(b, x, n * heads * d);
        });
        double[] tol = new double[n * heads * d];
        for (int i = 0; i < tol.length; i++) {
            tol[i] = (d + 8) * U * Math.abs(got[1][i]) + Float.MIN_NORMAL;
        }
        assertClose("rmsNormHeads", got[1], got[0], tol);
        assertTrue(Float.isNaN(got[0][d]) && Float.isFinite(got[0][0]) && Float.isFinite(got[0][2 * d]),
                "a NaN stays in its head");
        // each head's view is normalised like a row of its own
        float[][] rows = both(b -> {
            Buffer x = upload(b, 4 * heads, d, a);
            b.rmsNorm(x, b.weight(norm), 1e-6f, n * heads, x);
            return download(b, x, n * heads * d);
        });
        assertClose("rmsNormHeads vs rmsNorm over [n·heads, d]", rows[0], got[0], tol);
    }

    // ---- attention ----------------------------------------------------------------------------------------

    /** One decode/prefill schedule: per step, the rows of each sequence; returns every step's output. */
    private List<float[]> attentionRun(KernelBackend b, AttentionParams p, boolean sink, int[][][] steps,
                                       int[] capacity, long seed, KvCache[] keep) {
        return attentionRun(b, p, sink, steps, capacity, null, seed, keep);
    }

    /**
     * {@link #attentionRun} with each sequence's KV paged through {@code tables} (blocks of {@link #BLOCK}
     * slots; null: contiguous ranges of {@code capacity}).
     */
    private List<float[]> attentionRun(KernelBackend b, AttentionParams p, boolean sink, int[][][] steps,
                                       int[] capacity, int[][] tables, long seed, KvCache[] keep) {
        Random rnd = new Random(seed);
        int seqs = capacity.length;
        int[] base = new int[seqs];
        for (int s = 1; s < seqs; s++) {
            base[s] = base[s - 1] + capacity[s - 1];
        }
        int slots = tables == null ? base[seqs - 1] + capacity[seqs - 1] + 3
                : (Arrays.stream(tables).flatMapToInt(Arrays::stream).max().orElseThrow() + 1) * BLOCK;
        KvCache kv = b.allocateKv(slots, p.kvHeads(), p.keyDim(), p.valueDim());
        Weight sinks = sink ? b.weight(Weights.vector("sinks", gaussian(rnd, p.heads(), 1))) : null;
        List<float[]> outs = new ArrayList<>();
        for (int[][] step : steps) { // step = {seq, position} pairs
            int n = step.length;
            int[] pos = new int[n], kb = new int[n], cap = new int[n];
            for (int r = 0; r < n; r++) {
                pos[r] = step[r][1];
                kb[r] = base[step[r][0]];
                cap[r] = capacity[step[r][0]];
            }
            Buffer q = upload(b, n, p.heads() * p.keyDim(), gaussian(rnd, n * p.heads() * p.keyDim(), 1));
            Buffer k = upload(b, n, p.kvHeads() * p.keyDim(), gaussian(rnd, n * p.kvHeads() * p.keyDim(), 1));
            Buffer v = upload(b, n, p.kvHeads() * p.valueDim(), gaussian(rnd, n * p.kvHeads() * p.valueDim(), 1));
            Buffer out = b.allocate(DType.F32, n, p.heads() * p.valueDim());
            try (Rows rows = tables == null ? b.rows(pos, kb, cap) : pagedRows(b, pos, step, tables)) {
                b.attention(rows, q, k, v, kv, p, sinks, out);
            }
            outs.add(download(b, out, n * p.heads() * p.valueDim()));
        }
        keep[0] = kv;
        return outs;
    }

    private static final int BLOCK = 4;

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Paged rows of one step: row r of sequence {@code step[r][0]} reads that sequence's table. */
    private static Rows pagedRows(KernelBackend b, int[] pos, int[][] step, int[][] tables) {
        int[] flat = Arrays.stream(tables).flatMapToInt(Arrays::stream).toArray();
        int[] start = new int[pos.length];
        int[] length = new int[pos.length];
        for (int r = 0; r < pos.length; r++) {
            int s = step[r][0];
            for (int t = 0; t < s; t++) {
                start[r] += tables[t].length;
            }
            length[r] = tables[s].length;
        }
        return b.pagedRows(pos, new BlockTable(BLOCK, flat, start, length));
    }

    /**
     * The ragged schedule above with paged KV, blocks listed out of order: the same outputs, bit for bit, as this
     * backend's contiguous KV, and the oracle's within the attention tolerance.
     */
    @Test
    void pagedAttentionIsTheContiguousAttentionWithBlocksInAnyOrder() {
        int[][][] steps = {
            {{0, 0}, {0, 1}, {0, 2}, {1, 0}},
            {{1, 1}, {0, 3}, {0, 4}, {0, 5}},
            {{0, 6}, {1, 2}},
            {{0, 7}, {0, 8}, {0, 9}, {1, 3}},
            {{1, 4}, {0, 10}, {0, 11}},
        };
        int[][] tables = {{4, 0, 2}, {3, 1}};
        for (boolean sliding : new boolean[] {true, false}) {
            AttentionParams p = new AttentionParams(6, 2, 13, 9, sliding ? 5 : 0, (float) (1 / Math.sqrt(13)), 0.7f);
            List<float[]> contiguous = attentionRun(backend(), p, sliding, steps, new int[] {12, 5}, 5, new KvCache[1]);
            List<float[]> paged = attentionRun(backend(), p, sliding, steps, new int[] {12, 5}, tables, 5,
                    new KvCache[1]);
            List<float[]> oracleRun = attentionRun(oracle, p, sliding, steps, new int[] {12, 5}, tables, 5,
                    new KvCache[1]);
            double tol = attentionTolerance(p, 12, 4.5);
            for (int s = 0; s < steps.length; s++) {
                String what = "paged attention step " + s + (sliding ? " sliding" : " global");
                assertArrayEquals(contiguous.get(s), paged.get(s), what + " vs contiguous");
                assertClose(what, oracleRun.get(s), paged.get(s), uniform(paged.get(s).length, tol));
            }
        }
    }

    /**
     * Two sequences share a full prefix block (the second never writes it) and each has its own partly written
     * last block: the second one's rows give what they give when it wrote the prefix itself, contiguously.
     */
    @Test
    void pagedAttentionReadsSharedAndPartialBlocks() {
        AttentionParams p = new AttentionParams(4, 2, 8, 6, 0, (float) (1 / Math.sqrt(8)), 0.7f);
        Random rnd = new Random(31);
        int qw = p.heads() * p.keyDim(), kw = p.kvHeads() * p.keyDim(), vw = p.kvHeads() * p.valueDim();
        float[] prefixQ = gaussian(rnd, 4 * qw, 1), prefixK = gaussian(rnd, 4 * kw, 1);
        float[] prefixV = gaussian(rnd, 4 * vw, 1);
        float[] aQ = gaussian(rnd, 2 * qw, 1), aK = gaussian(rnd, 2 * kw, 1), aV = gaussian(rnd, 2 * vw, 1);
        float[] bQ = gaussian(rnd, 3 * qw, 1), bK = gaussian(rnd, 3 * kw, 1), bV = gaussian(rnd, 3 * vw, 1);
        for (KernelBackend b : List.of(backend(), oracle)) {
            Buffer out = b.allocate(DType.F32, 6, p.heads() * p.valueDim());
            float[] shared;
            float[] own;
            try (KvCache kv = b.allocateKv(4 * BLOCK, p.kvHeads(), p.keyDim(), p.valueDim())) {
                // sequence A: positions 0..5 in blocks [2, 0] (block 0 half written)
                try (Rows rows = b.pagedRows(new int[] {0, 1, 2, 3, 4, 5},
                        new BlockTable(BLOCK, new int[] {2, 0}, new int[6], new int[] {2, 2, 2, 2, 2, 2}))) {
                    b.attention(rows, upload(b, 6, qw, concat(prefixQ, aQ)), upload(b, 6, kw, concat(prefixK, aK)),
                            upload(b, 6, vw, concat(prefixV, aV)), kv, p, null, out);
                }
                // sequence B: shares block 2 (positions 0..3), positions 4..6 in its own block 1
                try (Rows rows = b.pagedRows(new int[] {4, 5, 6},
                        new BlockTable(BLOCK, new int[] {2, 1}, new int[3], new int[] {2, 2, 2}))) {
                    b.attention(rows, upload(b, 3, qw, bQ), upload(b, 3, kw, bK), upload(b, 3, vw, bV), kv, p, null,
                            out);
                }
                shared = download(b, out, 3 * p.heads() * p.valueDim());
            }
            try (KvCache kv = b.allocateKv(8, p.kvHeads(), p.keyDim(), p.valueDim())) {
                try (Rows rows = b.rows(new int[] {0, 1, 2, 3}, new int[4], new int[] {8, 8, 8, 8})) {
                    b.attention(rows, upload(b, 4, qw, prefixQ), upload(b, 4, kw, prefixK), upload(b, 4, vw, prefixV),
                            kv, p, null, out);
                }
                try (Rows rows = b.rows(new int[] {4, 5, 6}, new int[3], new int[] {8, 8, 8})) {
                    b.attention(rows, upload(b, 3, qw, bQ), upload(b, 3, kw, bK), upload(b, 3, vw, bV), kv, p, null,
                            out);
                }
                own = download(b, out, 3 * p.heads() * p.valueDim());
            }
            assertArrayEquals(own, shared, (b == oracle ? "oracle" : "backend") + ": attention over a shared block");
        }
    }

    @Test
    void pagedAttentionRejectsBlocksOutsideTheCacheAndPositionsPastTheTable() {
        KernelBackend b = backend();
        AttentionParams p = new AttentionParams(2, 1, 4, 4, 0, 0.5f, 1f);
        Buffer q = b.allocate(DType.F32, 1, 8);
        Buffer k = b.allocate(DType.F32, 1, 4);
        Buffer v = b.allocate(DType.F32, 1, 4);
        Buffer out = b.allocate(DType.F32, 1, 8);
        try (KvCache kv = b.allocateKv(2 * BLOCK, 1, 4, 4);
             Rows outside = b.pagedRows(new int[] {1}, new BlockTable(BLOCK, new int[] {2}, new int[1], new int[] {1}));
             Rows past = b.pagedRows(new int[] {BLOCK}, new BlockTable(BLOCK, new int[] {1}, new int[1],
                     new int[] {1}))) {
            assertThrows(IllegalArgumentException.class, () -> b.attention(outside, q, k, v, kv, p, null, out));
            assertThrows(IllegalArgumentException.class, () -> b.attention(past, q, k, v, kv, p, null, out));
        }
        assertThrows(IllegalArgumentException.class, () -> b.pagedRows(new int[] {0, 1},
                new BlockTable(BLOCK, new int[] {0}, new int[1], new int[] {1})));
    }

    /**
     * Output tolerance: logits carry {@code keyDim·u·Σ|q·k|·scale} (inputs of magnitude 1: at most
     * {@code keyDim·scale} each), which moves each softmax weight by at most twice that, relatively; the weighted
     * sum adds {@code keys·u}. Values are at most {@code maxV}.
     */
    private static double attentionTolerance(AttentionParams p, int keys, double maxV) {
        double logit = (p.keyDim() + 2) * U * p.keyDim() * 25 * p.scale(); // |q_d k_d| < 25 for N(0,1) draws
        return (2 * logit + (keys + 4) * U) * maxV * Math.abs(p.valueScale()) * 4 + Float.MIN_NORMAL;
    }

    @Test
    void attentionMatchesOracleOnRaggedBatchesWithWindowSinkGqaAndRingWrap() {
        // two sequences in one ragged batch; sliding window 5 with sink on a ring of 5 − 1 + 3 slots, and global
        int[][][] steps = {
            {{0, 0}, {0, 1}, {0, 2}, {1, 0}},          // prefill both
            {{1, 1}, {0, 3}, {0, 4}, {0, 5}},          // chunk of three for seq 0
            {{0, 6}, {1, 2}},
            {{0, 7}, {0, 8}, {0, 9}, {1, 3}},          // wraps the ring
            {{1, 4}, {0, 10}, {0, 11}},
        };
        for (boolean sliding : new boolean[] {true, false}) {
            AttentionParams p = new AttentionParams(6, 2, 13, 9, sliding ? 5 : 0, (float) (1 / Math.sqrt(13)), 0.7f);
            int[] capacity = sliding ? new int[] {7, 7} : new int[] {12, 5};
            KvCache[] kvT = new KvCache[1];
            KvCache[] kvO = new KvCache[1];
            List<float[]> got = attentionRun(backend(), p, sliding, steps, capacity, 5, kvT);
            List<float[]> want = attentionRun(oracle, p, sliding, steps, capacity, 5, kvO);
            double tol = attentionTolerance(p, 12, 4.5);
            for (int s = 0; s < steps.length; s++) {
                assertClose("attention step " + s + (sliding ? " sliding" : " global"), want.get(s), got.get(s),
                        uniform(want.get(s).length, tol));
            }
            // the backend-neutral KV view agrees (hot swap)
            int slots = kvT[0].slots();
            float[][] kT = {new float[slots * 2 * 13], new float[slots * 2 * 9]};
            float[][] kO = {new float[slots * 2 * 13], new float[slots * 2 * 9]};
            backend().readKv(kvT[0], 0, slots, kT[0], kT[1]);
            oracle.readKv(kvO[0], 0, slots, kO[0], kO[1]);
            assertArrayEquals(kO[0], kT[0], "keys");
            assertClose("values", kO[1], kT[1], ulps(kO[1], 1));
        }
    }

    @Test
    void attentionPropagatesNan() {
        // a NaN in the query of (row 0, head 0) poisons that head only; a NaN key poisons every head of its group
        // that attends it (row 1 and later rows of the sequence), never the other group
        AttentionParams p = new AttentionParams(4, 2, 8, 6, 0, 0.35f, 1f);
        Random rnd = new Random(13);
        int n = 3;
        float[] q = gaussian(rnd, n * 4 * 8, 1);
        float[] k = gaussian(rnd, n * 2 * 8, 1);
        float[] v = gaussian(rnd, n * 2 * 6, 1);
        q[3] = Float.NaN;
        k[(1 * 2 + 1) * 8 + 2] = Float.NaN; // row 1, kv head 1
        float[][] r = both(b -> {
            Buffer out = b.allocate(DType.F32, n, 4 * 6);
            try (KvCache kv = b.allocateKv(4, 2, 8, 6);
                 Rows rows = b.rows(new int[] {0, 1, 2}, new int[3], new int[] {4, 4, 4})) {
                b.attention(rows, upload(b, n, 32, q), upload(b, n, 16, k), upload(b, n, 12, v), kv, p, null, out);
            }
            return download(b, out, n * 24);
        });
        for (int row = 0; row < n; row++) {
            for (int h = 0; h < 4; h++) {
                boolean nan = (row == 0 && h == 0) || (row >= 1 && h >= 2);
                assertEquals(nan, Float.isNaN(r[0][row * 24 + h * 6]), "row " + row + " head " + h);
            }
        }
        assertClose("attention NaN", r[1], r[0], uniform(n * 24, attentionTolerance(p, 3, 4.5)));
    }

    @Test
    void kvMovesBetweenBackends() {
        KernelBackend b = backend();
        Random rnd = new Random(6);
        float[] keys = gaussian(rnd, 3 * 2 * 5, 1);
        float[] values = gaussian(rnd, 3 * 2 * 4, 1);
        try (KvCache kv = b.allocateKv(6, 2, 5, 4)) {
            b.writeKv(kv, 2, 3, keys, values);
            float[] k = new float[keys.length];
            float[] v = new float[values.length];
            b.readKv(kv, 2, 3, k, v);
            assertArrayEquals(keys, k);
            assertArrayEquals(values, v);
            assertThrows(IllegalArgumentException.class, () -> b.readKv(kv, 4, 3, k, v));
        }
    }

    /**
     * Hot swap: KV the oracle filled (a wrapped sliding ring), moved in the backend-neutral form into this backend's
     * cache, is what this backend's attention then reads: the next step agrees with the oracle's.
     */
    @Test
    void kvMovedFromAnotherBackendIsAttended() {
        AttentionParams p = new AttentionParams(4, 2, 8, 6, 5, (float) (1 / Math.sqrt(8)), 1f);
        int[][][] steps = {{{0, 0}, {0, 1}, {0, 2}}, {{0, 3}, {0, 4}, {0, 5}}, {{0, 6}, {0, 7}, {0, 8}}};
        KvCache[] kvO = new KvCache[1];
        attentionRun(oracle, p, true, steps, new int[] {7}, 9, kvO);
        int slots = kvO[0].slots();
        float[] keys = new float[slots * 2 * 8];
        float[] values = new float[slots * 2 * 6];
        oracle.readKv(kvO[0], 0, slots, keys, values);
        KernelBackend b = backend();
        try (KvCache moved = b.allocateKv(slots, 2, 8, 6)) {
            b.writeKv(moved, 0, slots, keys, values);
            float[] want = attendOnce(oracle, kvO[0], p);
            float[] got = attendOnce(b, moved, p);
            assertClose("attention after the move", want, got, uniform(want.length, attentionTolerance(p, 5, 4.5)));
        } finally {
            kvO[0].close();
        }
    }

    /** One decode row at position 9 of a ring of 7 slots, the same random q, k, v on every backend. */
    private static float[] attendOnce(KernelBackend b, KvCache kv, AttentionParams p) {
        Random rnd = new Random(21);
        Buffer q = upload(b, 1, p.heads() * p.keyDim(), gaussian(rnd, p.heads() * p.keyDim(), 1));
        Buffer k = upload(b, 1, p.kvHeads() * p.keyDim(), gaussian(rnd, p.kvHeads() * p.keyDim(), 1));
        Buffer v = upload(b, 1, p.kvHeads() * p.valueDim(), gaussian(rnd, p.kvHeads() * p.valueDim(), 1));
        Buffer out = b.allocate(DType.F32, 1, p.heads() * p.valueDim());
        try (Rows rows = b.rows(new int[] {9}, new int[] {0}, new int[] {7})) {
            b.attention(rows, q, k, v, kv, p, null, out);
        }
        return download(b, out, p.heads() * p.valueDim());
    }

    // ---- MoE ----------------------------------------------------------------------------------------------

    @Test
    void routeMatchesOracleAndReplays() {
        Random rnd = new Random(7);
        int n = 5, experts = 37, k = 6;
        float[] logits = new float[n * experts];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (rnd.nextInt(2000) - 1000) / 250f; // distinct enough that rounding never reorders
        }
        logits[3] = Float.NaN;           // row 0 selects expert 3 first
        logits[experts + 1] = logits[experts + 2] = 40f; // row 1: a tie (σ = 1) goes to the lower index
        float[] biasV = new float[experts];
        for (int i = 0; i < experts; i++) {
            biasV[i] = rnd.nextInt(100) / 100000f; // small: σ(4) + bias < 1
        }
        biasV[1] = biasV[2] = 0;
        Tensor bias = Weights.vector("bias", biasV);
        for (boolean normalize : new boolean[] {true, false}) {
            int[][] ids = new int[2][];
            float[][] w = both(b -> {
                Buffer idb = b.allocate(DType.I32, n, k);
                Buffer wb = b.allocate(DType.F32, n, k);
                b.route(upload(b, n, experts, logits), b.weight(bias), n, k, normalize, 2.5f, false, idb, wb);
                ids[b == oracle ? 1 : 0] = downloadIds(b, idb, n * k);
                return download(b, wb, n * k);
            });
            assertArrayEquals(ids[1], ids[0], "route ids");
            assertEquals(3, ids[0][0]);
            assertEquals(1, ids[0][k]);
            assertEquals(2, ids[0][k + 1]);
            assertClose("route weights", w[1], w[0], ulps(w[1], 4 + 2 * k));
        }
        // replay: given ids are kept and weighted with the new logits
        int[] replay = new int[n * k];
        for (int i = 0; i < replay.length; i++) {
            replay[i] = (i * 7) % experts;
        }
        int[][] idsOut = new int[2][];
        float[][] w = both(b -> {
            Buffer idb = uploadIds(b, n, k, replay);
            Buffer wb = b.allocate(DType.F32, n, k);
            b.route(upload(b, n, experts, logits), null, n, k, true, 1f, true, idb, wb);
            idsOut[b == oracle ? 1 : 0] = downloadIds(b, idb, n * k);
            return download(b, wb, n * k);
        });
        assertArrayEquals(replay, idsOut[0], "replay must not change ids");
        assertClose("replayed weights", w[1], w[0], ulps(w[1], 4 + 2 * k));
    }

    @Test
    void softmaxRouteMatchesOracle() {
        Random rnd = new Random(16);
        int n = 4, experts = 40, k = 8;
        float[] logits = new float[n * experts];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (rnd.nextInt(4000) - 2000) / 100f; // wide range: exp would overflow without the max
        }
        logits[experts + 5] = logits[experts + 9] = 30f;   // row 1: a tie goes to the lower index
        for (boolean normalize : new boolean[] {true, false}) {
            int[][] ids = new int[2][];
            float[][] w = both(b -> {
                Buffer idb = b.allocate(DType.I32, n, k);
                Buffer wb = b.allocate(DType.F32, n, k);
                b.route(upload(b, n, experts, logits), null, n, k, ScoreFunction.SOFTMAX, normalize, 1.5f, false,
                        idb, wb);
                ids[b == oracle ? 1 : 0] = downloadIds(b, idb, n * k);
                return download(b, wb, n * k);
            });
            assertArrayEquals(ids[1], ids[0], "softmax route ids");
            assertEquals(5, ids[0][k]);
            assertEquals(9, ids[0][k + 1]);
            assertClose("softmax route weights", w[1], w[0], ulps(w[1], 8 + 2 * experts));
            double first = 0;
            for (int j = 0; j < k; j++) {
                first += w[0][j];
            }
            if (normalize) {
                assertEquals(1.5, first, 1e-5, "normalised weights sum to the scaling");
            }
        }
        assertEquals(ScoreFunction.SOFTMAX, ScoreFunction.of("softmax"));
        assertThrows(IllegalArgumentException.class, () -> ScoreFunction.of("sparsemax"));
    }

    @Test
    void expertsMatchOracle() {
        Random rnd = new Random(8);
        int count = 5, hidden = 200, inter = 72, n = 6, k = 3;
        for (DType dt : new DType[] {DType.F8_E4M3, DType.BF16}) {
            List<Tensor> g = new ArrayList<>(), u = new ArrayList<>(), d = new ArrayList<>();
            for (int e = 0; e < count; e++) {
                g.add(Weights.random("gate" + e, dt, inter, hidden, rnd));
                u.add(Weights.random("up" + e, dt, inter, hidden, rnd));
                d.add(Weights.random("down" + e, dt, hidden, inter, rnd));
            }
            float[] x = gaussian(rnd, n * hidden, 0.05);
            int[] ids = new int[n * k];
            float[] w = new float[n * k];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < k; j++) {
                    ids[r * k + j] = (r + 2 * j) % count; // distinct per row, every expert used, expert 4 twice
                    w[r * k + j] = rnd.nextFloat();
                }
            }
            float[][] r = both(b -> {
                Function<List<Tensor>, List<Weight>> up = ts -> ts.stream().map(b::weight).toList();
                ExpertWeights ew = new ExpertWeights(up.apply(g), up.apply(u), up.apply(d));
                Buffer out = b.allocate(DType.F32, n, hidden);
                b.experts(upload(b, n, hidden, x), ew, uploadIds(b, n, k, ids), upload(b, n, k, w), n, out);
                return download(b, out, n * hidden);
            });
            // magnitude of the computation with every term made positive (|silu(z)| ≤ |z|, silu' ≤ 1.1)
            double[] tol = new double[n * hidden];
            for (int row = 0; row < n; row++) {
                for (int j = 0; j < k; j++) {
                    int e = ids[row * k + j];
                    WeightData gw = WeightData.of(g.get(e)), uw = WeightData.of(u.get(e)), dw = WeightData.of(d.get(e));
                    double[] act = new double[inter];
                    for (int i = 0; i < inter; i++) {
                        double gm = 0, um = 0;
                        for (int c = 0; c < hidden; c++) {
                            gm += Math.abs(x[row * hidden + c] * gw.get(i, c));
                            um += Math.abs(x[row * hidden + c] * uw.get(i, c));
                        }
                        act[i] = 1.1 * gm * um;
                    }
                    for (int c = 0; c < hidden; c++) {
                        double m = 0;
                        for (int i = 0; i < inter; i++) {
                            m += act[i] * Math.abs(dw.get(c, i));
                        }
                        tol[row * hidden + c] += w[row * k + j] * (hidden + inter + k + 8) * U * 2 * m;
                    }
                }
                for (int c = 0; c < hidden; c++) {
                    tol[row * hidden + c] += Float.MIN_NORMAL;
                }
            }
            assertClose("experts " + dt, r[1], r[0], tol);
        }
    }

    // ---- token choice ---------------------------------------------------------------------------------------

    @Test
    void argmaxTakesFirstMaximumAndFirstNan() {
        int v = 100;
        float[] l = gaussian(new Random(9), 3 * v, 1);
        l[17] = 50;
        l[60] = 50;                 // row 0: tie → 17
        l[v + 40] = Float.NaN;
        l[v + 90] = Float.NaN;      // row 1: first NaN → 40
        l[2 * v + 99] = 60;          // row 2: the tail
        KernelBackend b = backend();
        Buffer ids = b.allocate(DType.I32, 3, 1);
        b.argmax(upload(b, 3, v, l), 3, ids);
        assertArrayEquals(new int[] {17, 40, 99}, downloadIds(b, ids, 3));
    }

    @Test
    void maskLogitsClearsExactlyTheDisallowedIdsAndSamplingRespectsIt() {
        Random rnd = new Random(12);
        int v = 1000, n = 4, words = (v + 31) / 32 + 1;   // one spare word: allowed may be wider than needed
        float[] l = gaussian(rnd, n * v, 3);
        int[] allowed = new int[n * words];
        for (int i = 0; i < allowed.length; i++) {
            allowed[i] = rnd.nextInt() & rnd.nextInt();   // about a quarter of the ids allowed
        }
        allowed[words] = 0;                   // row 1: nothing in the first word ...
        allowed[words + 3] = 1 << 7;          // ... and id 103 in the fourth
        Arrays.fill(allowed, 2 * words, 3 * words, -1);   // row 2: everything allowed
        KernelBackend b = backend();
        Buffer logits = upload(b, n, v, l);
        b.maskLogits(logits, uploadIds(b, n, words, allowed), n - 1);   // the last row is not masked
        float[] got = download(b, logits, n * v);
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < v; c++) {
                boolean kept = r == n - 1 || (allowed[r * words + (c >>> 5)] >>> (c & 31) & 1) == 1;
                assertEquals(kept ? l[r * v + c] : Float.NEGATIVE_INFINITY, got[r * v + c], "row " + r + " id " + c);
            }
        }
        Buffer ids = b.allocate(DType.I32, n, 1);
        b.argmax(logits, n, ids);
        int[] best = downloadIds(b, ids, n);
        float[] u = {0.9f, 0.5f, 0.1f, 0.7f};
        b.sample(logits, n, v, new float[] {1, 1, 1, 1}, new int[n], new float[] {1, 1, 1, 1}, u, ids);
        int[] drawn = downloadIds(b, ids, n);
        for (int r = 0; r < n - 1; r++) {
            for (int id : new int[] {best[r], drawn[r]}) {
                assertEquals(1, allowed[r * words + (id >>> 5)] >>> (id & 31) & 1, "row " + r + " chose " + id);
            }
        }
    }

    @Test
    void sampleMatchesOracle() {
        Random rnd = new Random(10);
        int v = 1000, n = 8;
        float[] l = gaussian(rnd, n * v, 3);
        float[] temperature = {0, 0.7f, 1, 1.3f, 1, 0.5f, 1, 2};
        int[] topK = {0, 0, 50, 0, 1, 10, 0, 3};
        float[] topP = {1, 0.9f, 1, 0.5f, 1, 0.95f, 1e-6f, 1};
        float[] u = {0.5f, 0.13f, 0.77f, 0.99f, 0.3f, 0.0f, 0.6f, 0.41f};
        int[][] ids = new int[2][];
        for (KernelBackend b : new KernelBackend[] {backend(), oracle}) {
            Buffer out = b.allocate(DType.I32, n, 1);
            b.sample(upload(b, n, v, l), n, v, temperature, topK, topP, u, out);
            ids[b == oracle ? 1 : 0] = downloadIds(b, out, n);
        }
        assertArrayEquals(ids[1], ids[0]);
        int best = 0;
        for (int i = 1; i < v; i++) {
            best = l[i] > l[best] ? i : best;
        }
        assertEquals(best, ids[0][0], "temperature 0 is argmax");
    }

    /**
     * Peaked and flat rows of a larger vocabulary under every kind of filter, with draws near the ends (u close to
     * 0 and 1): a backend that orders only part of the vocabulary must draw what a full ordering draws.
     */
    @Test
    void sampleMatchesOracleOnPeakedAndFlatRows() {
        Random rnd = new Random(11);
        int v = 4096, n = 48;
        float[] l = new float[n * v];
        float[] temperature = new float[n];
        int[] topK = new int[n];
        float[] topP = new float[n];
        float[] u = new float[n];
        int[] ks = {0, 1, 7, 40, v};
        float[] ps = {1, 0.95f, 0.5f, 1e-6f};
        for (int r = 0; r < n; r++) {
            double sigma = new double[] {0.05, 1, 4, 12}[r % 4];       // flat to sharply peaked
            System.arraycopy(gaussian(rnd, v, sigma), 0, l, r * v, v);
            temperature[r] = new float[] {0.3f, 1, 1.7f}[r % 3];
            topK[r] = ks[(r / 4) % ks.length];
            topP[r] = ps[(r / 3) % ps.length];
            u[r] = r % 5 == 0 ? 0.999999f : r % 5 == 1 ? 1e-7f : rnd.nextFloat();
        }
        int[][] ids = new int[2][];
        for (KernelBackend b : new KernelBackend[] {backend(), oracle}) {
            Buffer out = b.allocate(DType.I32, n, 1);
            b.sample(upload(b, n, v, l), n, v, temperature, topK, topP, u, out);
            ids[b == oracle ? 1 : 0] = downloadIds(b, out, n);
        }
        assertArrayEquals(ids[1], ids[0]);
    }

    @Test
    void sampleNeverPicksIdsPastTheVocabulary() {
        int v = 50;
        float[] l = new float[2 * v];
        l[v - 1] = 100;                 // padding rows past the tokenizer's size would win every draw
        l[v + v - 1] = 100;
        l[7] = 1;
        l[v + 3] = 2;
        KernelBackend b = backend();
        Buffer out = b.allocate(DType.I32, 2, 1);
        b.sample(upload(b, 2, v, l), 2, v - 1, new float[] {0, 1}, new int[] {0, 0}, new float[] {1, 1},
                new float[] {0.999f, 0.999f}, out);
        int[] ids = downloadIds(b, out, 2);
        assertEquals(7, ids[0], "greedy among the first vocab ids");
        assertTrue(ids[1] < v - 1, "sampled id " + ids[1] + " is past the vocabulary");
    }

    // ---- contract -----------------------------------------------------------------------------------------

    @Test
    void rejectsForeignHandlesAndBadWeights() {
        KernelBackend b = backend();
        Buffer foreign = oracle.allocate(DType.F32, 1, 4);
        Weight w = b.weight(Weights.random("w", DType.F32, 2, 4, new Random(11)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.matmul(foreign, w, 1, b.allocate(DType.F32, 1, 2)));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
        Tensor noScales = new Tensor("model.x.weight", DType.F8_E4M3, new long[] {2, 4},
                Weights.random("x", DType.F8_E4M3, 2, 4, new Random(1)).data(), java.util.Optional.empty());
        e = assertThrows(IllegalArgumentException.class, () -> b.weight(noScales));
        assertTrue(e.getMessage().contains("model.x.weight"), e.getMessage());
        Tensor i64 = new Tensor("model.ids", DType.I64, new long[] {2},
                java.lang.foreign.Arena.ofAuto().allocate(16), java.util.Optional.empty());
        e = assertThrows(IllegalArgumentException.class, () -> b.weight(i64));
        assertTrue(e.getMessage().contains("model.ids"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.allocate(DType.BF16, 1, 1));
        Buffer closed = b.allocate(DType.F32, 1, 4);
        closed.close();
        assertThrows(IllegalStateException.class, () -> b.read(closed, 0, new float[4], 0, 4));
    }

    @Test
    void concurrentUseFromSeveralThreadsGivesTheSequentialResults() throws Exception {
        KernelBackend b = backend();
        Random rnd = new Random(12);
        int threads = 4, n = 3, in = 300, out = 257;
        Weight w = b.weight(Weights.random("w", DType.F8_E4M3, out, in, rnd));
        List<float[]> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            float[] x = gaussian(rnd, n * in, 1);
            inputs.add(x);
            Buffer y = b.allocate(DType.F32, n, out);
            b.matmul(upload(b, n, in, x), w, n, y);
            expected.add(download(b, y, n * out));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    Buffer x = upload(b, n, in, inputs.get(id));
                    Buffer y = b.allocate(DType.F32, n, out);
                    for (int i = 0; i < 20; i++) {
                        b.matmul(x, w, n, y);
                        if (!java.util.Arrays.equals(expected.get(id), download(b, y, n * out))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertTrue(f.get(), "a concurrent matmul differed from the sequential one");
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
