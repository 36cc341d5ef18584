package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.AttentionParams;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.ExpertWeights;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Every op of the CUDA backend on a real device against a plain host computation of the API's math. Runs only where
 * the probe opens a backend (driver, device, NVRTC); elsewhere it is skipped with the probe's reason in the log.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@EnabledIf(value = "io.tessera.kernels.cuda.CudaBackendGpuTest#gpu", disabledReason = "no usable CUDA GPU (see the probe's reason in the test output)")
class CudaBackendGpuTest {
    private CudaBackend b;
    private final Arena arena = Arena.ofShared();
    private final SplittableRandom rnd = new SplittableRandom(7);

    static boolean gpu() {
        CudaProbe.Outcome o = probe();
        System.out.println("CUDA probe: " + o.message());
        if (o.backend() != null) {
            o.backend().close();
        }
        return o.backend() != null;
    }

    private static CudaProbe.Outcome probe() {
        try {
            return CudaProbe.probe(CudaLibraries.ofSystem(), CudaProbe.SYSTEM_LOADER, Arena.global(),
                    Files.createTempDirectory("tessera-cuda-cache"), CudaDriverProbe.prebuiltFolder(java.util.Map.of()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @BeforeAll
    void open() {
        b = probe().backend();
    }

    @AfterAll
    void close() {
        if (b != null) {
            b.close();
        }
        arena.close();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private float[] randoms(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }

    private Buffer upload(float[] data, int rows, int cols) {
        Buffer buf = b.allocate(DType.F32, rows, cols);
        b.write(buf, 0, data, 0, data.length);
        return buf;
    }

    private Buffer uploadInts(int[] data, int rows, int cols) {
        Buffer buf = b.allocate(DType.I32, rows, cols);
        b.write(buf, 0, data, 0, data.length);
        return buf;
    }

    private float[] read(Buffer buf, int n) {
        float[] out = new float[n];
        b.read(buf, 0, out, 0, n);
        return out;
    }

    private int[] readInts(Buffer buf, int n) {
        int[] out = new int[n];
        b.read(buf, 0, out, 0, n);
        return out;
    }

    private Tensor tensor(String name, DType dtype, int rows, int cols) {
        return CudaSelfTest.tensor(arena, rnd, name, dtype, rows, cols);
    }

    private static double[] values(Tensor t) {
        int rows = t.rank() == 1 ? 1 : t.dim(0), cols = t.dim(t.rank() - 1);
        double[] v = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                v[r * cols + c] = CudaSelfTest.element(t, r, c);
            }
        }
        return v;
    }

    private static void close(float[] want, float[] got, double tolerance, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(want[i] - got[i]);
            assertTrue(err <= tolerance * Math.max(1, Math.abs(want[i])),
                    what + ": element " + i + " is " + got[i] + ", want " + want[i]);
        }
    }

    // ---- ops --------------------------------------------------------------------------------------------------

    @Test
    void elementwiseOpsEmbedConcatAndGather() {
        int n = 3, cols = 70;
        float[] a = randoms(n * cols), c = randoms(n * cols);
        try (Buffer ab = upload(a, n, cols); Buffer cb = upload(c, n, cols); Buffer out = b.allocate(DType.F32, n, cols);
             Buffer cat = b.allocate(DType.F32, n, 2 * cols); Buffer idx = uploadInts(new int[] {2, 0}, 2, 1);
             Buffer gathered = b.allocate(DType.F32, 2, cols)) {
            b.concat(ab, cb, n, cat);
            b.siluMul(ab, cb, n, out);
            b.gatherRows(ab, idx, 2, gathered);
            b.add(ab, cb, n);
            float[] silu = new float[n * cols], sum = new float[n * cols], concat = new float[2 * n * cols];
            for (int i = 0; i < n * cols; i++) {
                silu[i] = (float) (a[i] / (1 + Math.exp(-a[i])) * c[i]);
                sum[i] = a[i] + c[i];
                int r = i / cols, col = i % cols;
                concat[r * 2 * cols + col] = a[i];
                concat[r * 2 * cols + cols + col] = c[i];
            }
            close(silu, read(out, n * cols), 1e-6, "siluMul");
            assertArrayEquals(sum, read(ab, n * cols), "add");
            assertArrayEquals(concat, read(cat, 2 * n * cols), "concat");
            float[] g = new float[2 * cols];
            System.arraycopy(a, 2 * cols, g, 0, cols);
            System.arraycopy(a, 0, g, cols, cols);
            assertArrayEquals(g, read(gathered, 2 * cols), "gatherRows");
            try (Buffer scattered = b.allocate(DType.F32, 5, cols); Buffer to = uploadInts(new int[] {4, 1}, 2, 1)) {
                b.scatterRows(gathered, to, 2, scattered);
                float[] want = new float[5 * cols];
                System.arraycopy(g, 0, want, 4 * cols, cols);
                System.arraycopy(g, cols, want, cols, cols);
                assertArrayEquals(want, read(scattered, 5 * cols), "scatterRows");
            }
        }
        Tensor table = tensor("embed", DType.BF16, 11, 40);
        double[] tv = values(table);
        try (Weight w = b.weight(table); Buffer ids = uploadInts(new int[] {10, 0, 3}, 3, 1);
             Buffer out = b.allocate(DType.F32, 3, 40)) {
            b.embed(w, ids, 3, out);
            float[] want = new float[3 * 40];
            int[] id = {10, 0, 3};
            for (int r = 0; r < 3; r++) {
                for (int col = 0; col < 40; col++) {
                    want[r * 40 + col] = (float) tv[id[r] * 40 + col];
                }
            }
            assertArrayEquals(want, read(out, 3 * 40), "embed");
        }
    }

    @Test
    void matmulOfEveryWeightDtypeAndRowCount() {
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F8_E4M3)) {
            for (int[] shape : new int[][] {{256, 300, 1}, {136, 9, 5}, {1024, 64, 9}}) {
                int in = shape[0], out = shape[1], n = shape[2];
                Tensor t = tensor("w", dtype, out, in);
                double[] w = values(t);
                float[] x = randoms(n * in), want = new float[n * out];
                for (int r = 0; r < n; r++) {
                    for (int o = 0; o < out; o++) {
                        double s = 0;
                        for (int i = 0; i < in; i++) {
                            s += x[r * in + i] * w[o * in + i];
                        }
                        want[r * out + o] = (float) s;
                    }
                }
                try (Weight wt = b.weight(t); Buffer xb = upload(x, n, in); Buffer y = b.allocate(DType.F32, n, out)) {
                    b.matmul(xb, wt, n, y);
                    close(want, read(y, n * out), 1e-5 * Math.sqrt(in), "matmul " + dtype + Arrays.toString(shape));
                }
            }
        }
    }

    /** The shortlist lm_head: W's listed rows only, in the listed order (repeats allowed), over several x rows. */
    @Test
    void matmulRowsOfEveryWeightDtype() {
        int in = 300, out = 70, n = 3;
        int[] ids = {69, 0, 5, 5, 33, 1, 68};
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F8_E4M3)) {
            Tensor t = tensor("w", dtype, out, in);
            double[] w = values(t);
            float[] x = randoms(n * in), want = new float[n * ids.length];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < ids.length; j++) {
                    double s = 0;
                    for (int i = 0; i < in; i++) {
                        s += x[r * in + i] * w[ids[j] * in + i];
                    }
                    want[r * ids.length + j] = (float) s;
                }
            }
            try (Weight wt = b.weight(t); Buffer xb = upload(x, n, in); Buffer ib = uploadInts(ids, ids.length, 1);
                 Buffer y = b.allocate(DType.F32, n, ids.length)) {
                b.matmulRows(xb, wt, ib, n, y);
                close(want, read(y, n * ids.length), 1e-5 * Math.sqrt(in), "matmulRows " + dtype);
            }
        }
    }

    @Test
    void ropeRotatesThePairsOfTheRotaryDims() {
        int heads = 3, headDim = 12, rotary = 8, n = 2;
        float[] x = randoms(n * heads * headDim), want = x.clone();
        int[] pos = {5, 1000};
        for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int d = 0; d < rotary / 2; d++) {
                    double angle = pos[r] * Math.pow(10000, -2.0 * d / rotary);
                    float a = x[o + d], c = x[o + d + rotary / 2];
                    want[o + d] = (float) (a * Math.cos(angle) - c * Math.sin(angle));
                    want[o + d + rotary / 2] = (float) (c * Math.cos(angle) + a * Math.sin(angle));
                }
            }
        }
        try (Rows rows = b.rows(pos, new int[] {0, 0}, new int[] {1, 1}); Buffer xb = upload(x, n, heads * headDim)) {
            b.rope(rows, xb, heads, headDim, rotary, 10000);
            close(want, read(xb, x.length), 1e-5, "rope");
        }
    }

    /** Host reference of the attention contract over a host copy of the cache (slot = base + pos mod cap). */
    private float[] attention(float[] q, int[] pos, int[] base, int[] cap, float[] kc, float[] vc, AttentionParams p,
                              double[] sinks) {
        int n = pos.length, kw = p.kvHeads() * p.keyDim(), vw = p.kvHeads() * p.valueDim();
        float[] out = new float[n * p.heads() * p.valueDim()];
        for (int r = 0; r < n; r++) {
            int lo = p.window() > 0 ? Math.max(0, pos[r] - p.window() + 1) : 0;
            for (int h = 0; h < p.heads(); h++) {
                int kvh = h / (p.heads() / p.kvHeads());
                double[] a = new double[pos[r] - lo + 1];
                double m = sinks == null ? Double.NEGATIVE_INFINITY : sinks[h];
                for (int j = lo; j <= pos[r]; j++) {
                    int slot = base[r] + j % cap[r];
                    double dot = 0;
                    for (int d = 0; d < p.keyDim(); d++) {
                        dot += q[(r * p.heads() + h) * p.keyDim() + d] * kc[slot * kw + kvh * p.keyDim() + d];
                    }
                    a[j - lo] = dot * p.scale();
                    m = Math.max(m, a[j - lo]);
                }
                double l = sinks == null ? 0 : Math.exp(sinks[h] - m);
                for (int j = 0; j < a.length; j++) {
                    a[j] = Math.exp(a[j] - m);
                    l += a[j];
                }
                for (int d = 0; d < p.valueDim(); d++) {
                    double s = 0;
                    for (int j = lo; j <= pos[r]; j++) {
                        s += a[j - lo] * vc[(base[r] + j % cap[r]) * vw + kvh * p.valueDim() + d];
                    }
                    out[(r * p.heads() + h) * p.valueDim() + d] = (float) (s / l);
                }
            }
        }
        return out;
    }

    /** One step's rows: positions, kvBase, kvCapacity. */
    private record Step(int[] pos, int[] base, int[] cap) {
    }

    /** Sequence A (base 0, capacity capA) and B (base 300, capacity 300) over three steps. */
    private static List<Step> steps(int capA) {
        int bRows = 261;  // B's prefill spans several 128-key tiles
        int[] pos = new int[2 + bRows], base = new int[2 + bRows], cap = new int[2 + bRows];
        pos[0] = 6;
        pos[1] = 7;
        cap[0] = cap[1] = capA;
        for (int i = 0; i < bRows; i++) {
            pos[2 + i] = i;
            base[2 + i] = 300;
            cap[2 + i] = 300;
        }
        return List.of(
                new Step(new int[] {0, 1, 2, 3, 4, 5}, new int[6], new int[] {capA, capA, capA, capA, capA, capA}),
                new Step(pos, base, cap),  // A verifies 2 tokens while B prefills
                new Step(new int[] {8, 9, 261}, new int[] {0, 0, 300}, new int[] {capA, capA, 300}));  // A wraps
    }

    @Test
    void attentionWithSinkSlidingWindowRingAndGlobalCausal() {
        for (int window : new int[] {0, 3, 200}) {
            AttentionParams p = new AttentionParams(4, 2, 24, 16, window, (float) (1 / Math.sqrt(24)), 0.707f);
            boolean sink = window > 0;
            Tensor sinkTensor = tensor("sinks", DType.F32, 1, 4);
            // a sliding ring of window - 1 + (most rows of A in one step) slots wraps at position 8
            int capA = window == 3 ? 2 + 6 : 300;
            int slots = 600, kw = 2 * 24, vw = 2 * 16;
            float[] kc = new float[slots * kw], vc = new float[slots * vw];
            try (KvCache cache = b.allocateKv(slots, 2, 24, 16); Weight sinks = sink ? b.weight(sinkTensor) : null) {
                int stepNo = 0;
                for (Step st : steps(capA)) {
                    int n = st.pos().length;
                    float[] q = randoms(n * 4 * 24), k = randoms(n * kw), v = randoms(n * vw);
                    for (int r = 0; r < n; r++) {
                        int slot = st.base()[r] + st.pos()[r] % st.cap()[r];
                        System.arraycopy(k, r * kw, kc, slot * kw, kw);
                        for (int i = 0; i < vw; i++) {
                            vc[slot * vw + i] = 0.707f * v[r * vw + i];
                        }
                    }
                    float[] want = attention(q, st.pos(), st.base(), st.cap(), kc, vc, p,
                            sink ? values(sinkTensor) : null);
                    try (Rows rows = b.rows(st.pos(), st.base(), st.cap()); Buffer qb = upload(q, n, 4 * 24);
                         Buffer kb = upload(k, n, kw); Buffer vb = upload(v, n, vw);
                         Buffer out = b.allocate(DType.F32, n, 4 * 16)) {
                        b.attention(rows, qb, kb, vb, cache, p, sinks, out);
                        close(want, read(out, want.length), 2e-5, "attention window=" + window + " step " + stepNo++);
                    }
                }
                float[] keys = new float[8 * kw], vals = new float[8 * vw];
                b.readKv(cache, 0, 8, keys, vals);
                assertArrayEquals(Arrays.copyOfRange(kc, 0, 8 * kw), keys, "readKv keys");
                assertArrayEquals(Arrays.copyOfRange(vc, 0, 8 * vw), vals, "readKv values");
            }
        }
    }

    @Test
    void routeSelectsByBiasedScoreAndWeighsByUnbiasedRenormalisedScore() {
        int n = 3, experts = 40, k = 8;
        float[] logits = randoms(n * experts);
        logits[experts + 5] = logits[experts + 6];  // a tie: the lower index first
        Tensor bias = tensor("bias", DType.F32, 1, experts);
        double[] bv = values(bias);
        int[] wantIds = new int[n * k];
        float[] wantW = new float[n * k];
        for (int r = 0; r < n; r++) {
            boolean[] taken = new boolean[experts];
            float sum = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < experts; e++) {
                    float c = (float) (1 / (1 + Math.exp(-logits[r * experts + e]))) + (float) bv[e];
                    float cb = best < 0 ? 0 : (float) (1 / (1 + Math.exp(-logits[r * experts + best]))) + (float) bv[best];
                    if (!taken[e] && (best < 0 || c > cb)) {
                        best = e;
                    }
                }
                taken[best] = true;
                wantIds[r * k + j] = best;
                wantW[r * k + j] = (float) (1 / (1 + Math.exp(-logits[r * experts + best])));
                sum += wantW[r * k + j];
            }
            for (int j = 0; j < k; j++) {
                wantW[r * k + j] = wantW[r * k + j] / (sum + 1e-20f) * 2.5f;
            }
        }
        try (Weight bw = b.weight(bias); Buffer lb = upload(logits, n, experts); Buffer ids = b.allocate(DType.I32, n, k);
             Buffer w = b.allocate(DType.F32, n, k)) {
            b.route(lb, bw, n, k, true, 2.5f, false, ids, w);
            assertArrayEquals(wantIds, readInts(ids, n * k), "route ids");
            close(wantW, read(w, n * k), 1e-6, "route weights");
            b.write(ids, 0, new int[] {39, 0, 1, 2, 3, 4, 5, 6}, 0, k);  // replay row 0 with other ids
            b.route(lb, bw, n, k, false, 1f, true, ids, w);
            float[] replayed = read(w, k);
            assertEquals((float) (1 / (1 + Math.exp(-logits[39]))), replayed[0], 1e-6f, "replayed weight of id 39");
            assertEquals(39, readInts(ids, 1)[0], "replay must not write ids");
        }
    }

    @Test
    void expertsSumTheWeightedSwigluOfTheSelectedExperts() {
        for (DType dtype : List.of(DType.BF16, DType.F8_E4M3)) {
            int experts = 4, hidden = 136, inter = 64, n = 2, k = 2;
            List<Weight> gate = new ArrayList<>(), up = new ArrayList<>(), down = new ArrayList<>();
            List<double[]> g = new ArrayList<>(), u = new ArrayList<>(), d = new ArrayList<>();
            for (int e = 0; e < experts; e++) {
                Tensor gt = tensor("g" + e, dtype, inter, hidden), ut = tensor("u" + e, dtype, inter, hidden),
                        dt = tensor("d" + e, dtype, hidden, inter);
                g.add(values(gt));
                u.add(values(ut));
                d.add(values(dt));
                gate.add(b.weight(gt));
                up.add(b.weight(ut));
                down.add(b.weight(dt));
            }
            float[] x = randoms(n * hidden), weights = {0.7f, 0.3f, 0.5f, 0.5f};
            int[] ids = {3, 1, 0, 3};
            float[] want = new float[n * hidden];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < k; j++) {
                    int e = ids[r * k + j];
                    double[] h = new double[inter];
                    for (int o = 0; o < inter; o++) {
                        double gs = 0, us = 0;
                        for (int i = 0; i < hidden; i++) {
                            gs += x[r * hidden + i] * g.get(e)[o * hidden + i];
                            us += x[r * hidden + i] * u.get(e)[o * hidden + i];
                        }
                        h[o] = gs / (1 + Math.exp(-gs)) * us;
                    }
                    for (int o = 0; o < hidden; o++) {
                        double s = 0;
                        for (int i = 0; i < inter; i++) {
                            s += h[i] * d.get(e)[o * inter + i];
                        }
                        want[r * hidden + o] += (float) (weights[r * k + j] * s);
                    }
                }
            }
            try (Buffer xb = upload(x, n, hidden); Buffer ib = uploadInts(ids, n, k); Buffer wb = upload(weights, n, k);
                 Buffer out = b.allocate(DType.F32, n, hidden)) {
                b.experts(xb, new ExpertWeights(gate, up, down), ib, wb, n, out);
                close(want, read(out, n * hidden), 1e-4, "experts " + dtype);
            } finally {
                gate.forEach(Weight::close);
                up.forEach(Weight::close);
                down.forEach(Weight::close);
            }
        }
    }

    @Test
    void argmaxTakesTheFirstOfTiesAndTheFirstNan() {
        float[] l = {1, 3, 3, -1, /* row 2 */ 0, Float.NaN, 5, Float.NaN, /* row 3 */ Float.NEGATIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        try (Buffer lb = upload(l, 3, 4); Buffer ids = b.allocate(DType.I32, 3, 1)) {
            b.argmax(lb, 3, ids);
            assertArrayEquals(new int[] {1, 1, 0}, readInts(ids, 3));
        }
    }

    /** The CPU backend's sampling rule, as the API defines it. */
    private static int sampleReference(float[] l, int from, int v, float t, int topK, float topP, float u) {
        int best = 0;
        for (int i = 1; i < v; i++) {
            if (l[from + i] > l[from + best]) {
                best = i;
            }
        }
        float max = l[from + best];
        if (t == 0) {
            return best;
        }
        float[] p = new float[v];
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            p[i] = (float) Math.exp((l[from + i] - max) / t);
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> p[x] != p[y] ? Float.compare(p[y], p[x]) : Integer.compare(x, y));
        int keep = topK > 0 ? Math.min(topK, v) : v;
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += p[order[i]];
        }
        double prefix = 0;
        int kept = 0;
        while (kept < keep && (kept == 0 || prefix < topP * total)) {
            prefix += p[order[kept++]];
        }
        double target = u * prefix, cumulative = 0;
        for (int i = 0; i < kept; i++) {
            cumulative += p[order[i]];
            if (target < cumulative) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    @Test
    void sampleMatchesTheReferenceRuleAcrossParameters() {
        int v = 5000, n = 8;
        float[] l = new float[n * v];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) (rnd.nextGaussian() * 3);
        }
        l[3 * v + 17] = l[3 * v + 18] = 40;  // tied top tokens
        float[] t = {0, 1, 0.7f, 1, 1.3f, 1, 0.5f, 2};
        int[] topK = {0, 0, 50, 1, 0, 2, 5000, 20};
        float[] topP = {1, 1, 0.9f, 1, 0.5f, 1, 0.95f, 0.3f};
        try (Buffer lb = upload(l, n, v); Buffer ids = b.allocate(DType.I32, n, 1)) {
            for (int trial = 0; trial < 20; trial++) {
                float[] u = new float[n];
                int[] want = new int[n];
                for (int r = 0; r < n; r++) {
                    u[r] = (float) rnd.nextDouble();
                    want[r] = sampleReference(l, r * v, v, t[r], topK[r], topP[r], u[r]);
                }
                b.sample(lb, n, v, t, topK, topP, u, ids);
                assertArrayEquals(want, readInts(ids, n), "sample, trial " + trial + ", u " + Arrays.toString(u));
            }
        }
    }

    @Test
    void aCapturedStepReplaysAsOneGraph() {
        int n = 2, cols = 64;
        float[] a = randoms(n * cols), c = randoms(n * cols);
        try (Buffer ab = upload(a, n, cols); Buffer cb = upload(c, n, cols)) {
            b.synchronize();
            try (CudaGraph step = b.capture(() -> b.add(ab, cb, n))) {
                assertArrayEquals(a, read(ab, n * cols), "capture must record, not run");
                step.launch();
                step.launch();
            }
            float[] want = new float[n * cols];
            for (int i = 0; i < want.length; i++) {
                want[i] = a[i] + c[i] + c[i];
            }
            assertArrayEquals(want, read(ab, n * cols));
        }
    }

    @Test
    void badHandlesAndShapesAreClearErrors() {
        try (Buffer x = b.allocate(DType.F32, 2, 8); Buffer y = b.allocate(DType.F32, 2, 8)) {
            Weight foreign = new Weight() {
                public String name() { return "foreign"; }
                public DType dtype() { return DType.F32; }
                public int rows() { return 8; }
                public int cols() { return 8; }
                public void close() { }
            };
            assertTrue(assertThrows(IllegalArgumentException.class, () -> b.matmul(x, foreign, 2, y)).getMessage()
                    .contains("not a weight of this CUDA backend"));
            assertThrows(IllegalArgumentException.class, () -> b.allocate(DType.BF16, 1, 1));
            assertThrows(IllegalArgumentException.class, () -> b.add(x, y, 3));
        }
        assertTrue(assertThrows(OutOfMemoryError.class, () -> b.allocate(DType.F32, Integer.MAX_VALUE, 1 << 20))
                .getMessage().contains("bytes"));
    }
}
