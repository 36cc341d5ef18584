package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.Kernels.F;
import static io.tessera.kernels.cpu.Kernels.L;
import static io.tessera.kernels.cpu.Kernels.TILE;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.AttentionParams;
import io.tessera.api.kernel.BackendInfo;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.ExpertWeights;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.ScoreFunction;
import io.tessera.api.kernel.Weight;
import io.tessera.api.kernel.WeightData;
import io.tessera.kernels.cpu.Handles.Buf;
import io.tessera.kernels.cpu.Handles.Kv;
import io.tessera.kernels.cpu.Handles.R;
import io.tessera.kernels.cpu.Handles.W;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;

/**
 * The CPU backend: Vector API kernels on one fixed pool of daemon threads. Weights are read in place from the
 * checkpoint's memory; activations and KV live in heap arrays. Ops run synchronously (the caller's thread joins
 * the pool); calls from several threads are serialized, which keeps each thread's order and lets the per-thread
 * scratch be preallocated.
 */
@Component(service = KernelBackend.class, configurationPid = "io.tessera.kernels.cpu",
        property = {KernelBackend.BACKEND + "=cpu", "service.ranking:Integer=100"})
public class CpuBackend implements KernelBackend {
    /** FP8 GEMM from this many x rows decodes each weight tile once (see {@code MatmulTask.fp8Tile}). */
    private static final int DECODE_ROWS = 8;

    private final AtomicLong bytesInUse = new AtomicLong();
    // replaced together (under this backend's monitor, which every op holds) when the thread count changes
    private WorkerPool pool;
    private float[][] tileOut;
    /** Per worker: an FP8 weight tile decoded for GEMM ({@link Kernels#decodeFp8}). */
    private float[][] decoded;
    private float[][] scores;
    private volatile String configProblem = "";
    private final MatmulTask matmulTask = new MatmulTask();
    private final AttentionTask attentionTask = new AttentionTask();
    // scratch of the single-threaded ops and of experts(), grown on demand
    private float[] work = new float[0];
    private long[] order = new long[0];
    private int[] grouping = new int[0];
    private float[] xPerm = new float[0];

    /** A backend on all available processors. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend on {@code threads} threads (the caller counts as one). */
    public CpuBackend(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        usePool(threads);
    }

    /**
     * The service: configuration PID {@code io.tessera.kernels.cpu}, {@code threads} (default, or 0: all
     * processors). A bad value is not applied; {@link #info()} reports it.
     */
    @Activate
    public CpuBackend(Map<String, Object> config) {
        this(Runtime.getRuntime().availableProcessors());
        modified(config);
    }

    /** A new thread count takes effect at once (between ops); a bad one is reported in the device line. */
    @Modified
    public synchronized void modified(Map<String, Object> config) {
        Object value = config.getOrDefault("threads", "0");
        int threads;
        try {
            threads = Integer.parseInt(value.toString().trim());
        } catch (NumberFormatException e) {
            threads = -1;
        }
        if (threads < 0 || threads > 4096) {
            configProblem = "; threads=" + value + " not applied (0 for all processors, or 1 to 4096)";
            return;
        }
        configProblem = "";
        int wanted = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        if (wanted != pool.threads()) {
            WorkerPool old = pool;
            usePool(wanted);
            old.shutdown();
        }
    }

    private void usePool(int threads) {
        pool = new WorkerPool(threads);
        tileOut = new float[threads][2 * TILE];
        decoded = new float[threads][0];
        scores = new float[threads][0];
    }

    @Deactivate
    public synchronized void close() {
        pool.shutdown();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public synchronized BackendInfo info() {
        return new BackendInfo(System.getProperty("os.arch") + ", " + pool.threads() + " threads, " + F.vectorBitSize()
                + "-bit vectors (" + L + " float lanes)" + configProblem, pool.threads(), bytesInUse.get(),
                "f32 accumulate; weights exact; activations f32");
    }

    // ---- handle checks ------------------------------------------------------------------------------------

    private Buf buf(Buffer b, String param) {
        if (!(b instanceof Buf x)) {
            throw new IllegalArgumentException(param + ": not a buffer of the cpu backend: " + b);
        }
        x.check(this, param);
        return x;
    }

    private Buf f32(Buffer b, String param, int n, int cols) {
        return typed(b, DType.F32, param, n, cols);
    }

    private Buf i32(Buffer b, String param, int n, int cols) {
        return typed(b, DType.I32, param, n, cols);
    }

    private Buf typed(Buffer b, DType dtype, String param, int n, int cols) {
        Buf x = buf(b, param);
        if (x.dtype != dtype) {
            throw new IllegalArgumentException(param + ": " + dtype + " buffer expected, got " + x);
        }
        if (n < 0 || n > x.rows || (cols >= 0 && x.cols != cols)) {
            throw new IllegalArgumentException(param + ": " + x + " cannot hold " + n + " rows of "
                    + (cols >= 0 ? cols : x.cols) + " columns");
        }
        return x;
    }

    private WeightData weight(Weight w, String param) {
        return handle(w, param).d;
    }

    private W handle(Weight w, String param) {
        if (!(w instanceof W x)) {
            throw new IllegalArgumentException(param + ": not a weight of the cpu backend: " + w);
        }
        x.check(this, param);
        return x;
    }

    private Kv kv(KvCache c) {
        if (!(c instanceof Kv x)) {
            throw new IllegalArgumentException("cache: not a KV cache of the cpu backend: " + c);
        }
        x.check(this, "cache");
        return x;
    }

    private R rows(Rows r) {
        if (!(r instanceof R x)) {
            throw new IllegalArgumentException("rows: not rows of the cpu backend: " + r);
        }
        x.check(this, "rows");
        return x;
    }

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public Buffer allocate(DType dtype, int rows, int cols) {
        if ((dtype != DType.F32 && dtype != DType.I32) || rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("allocate: F32 or I32 with positive size, got " + dtype + "[" + rows
                    + ", " + cols + "]");
        }
        return new Buf(this, bytesInUse, dtype, rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        return new W(this, bytesInUse, WeightData.of(tensor));
    }

    @Override
    public KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim) {
        if (slots <= 0 || kvHeads <= 0 || keyDim <= 0 || valueDim <= 0) {
            throw new IllegalArgumentException("allocateKv: positive sizes expected, got slots=" + slots
                    + " kvHeads=" + kvHeads + " keyDim=" + keyDim + " valueDim=" + valueDim);
        }
        return new Kv(this, bytesInUse, slots, kvHeads, keyDim, valueDim);
    }

    @Override
    public Rows rows(int[] positions, int[] kvBase, int[] kvCapacity) {
        if (positions.length != kvBase.length || positions.length != kvCapacity.length) {
            throw new IllegalArgumentException("rows: positions, kvBase and kvCapacity differ in length");
        }
        for (int r = 0; r < positions.length; r++) {
            if (positions[r] < 0 || kvBase[r] < 0 || kvCapacity[r] <= 0) {
                throw new IllegalArgumentException("rows: row " + r + " has position " + positions[r]
                        + ", kvBase " + kvBase[r] + ", kvCapacity " + kvCapacity[r]);
            }
        }
        return new R(this, bytesInUse, positions, kvBase, kvCapacity);
    }

    @Override
    public synchronized void write(Buffer dst, long offset, float[] src, int from, int len) {
        System.arraycopy(src, from, f32(dst, "dst", 0, -1).f, Math.toIntExact(offset), len);
    }

    @Override
    public synchronized void write(Buffer dst, long offset, int[] src, int from, int len) {
        System.arraycopy(src, from, i32(dst, "dst", 0, -1).i, Math.toIntExact(offset), len);
    }

    @Override
    public synchronized void read(Buffer src, long offset, float[] dst, int from, int len) {
        System.arraycopy(f32(src, "src", 0, -1).f, Math.toIntExact(offset), dst, from, len);
    }

    @Override
    public synchronized void read(Buffer src, long offset, int[] dst, int from, int len) {
        System.arraycopy(i32(src, "src", 0, -1).i, Math.toIntExact(offset), dst, from, len);
    }

    @Override
    public synchronized void readKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        Kv c = kvRange(cache, slot, count);
        System.arraycopy(c.keys, slot * c.kvHeads * c.keyDim, keys, 0, count * c.kvHeads * c.keyDim);
        System.arraycopy(c.values, slot * c.kvHeads * c.valueDim, values, 0, count * c.kvHeads * c.valueDim);
    }

    @Override
    public synchronized void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        Kv c = kvRange(cache, slot, count);
        System.arraycopy(keys, 0, c.keys, slot * c.kvHeads * c.keyDim, count * c.kvHeads * c.keyDim);
        System.arraycopy(values, 0, c.values, slot * c.kvHeads * c.valueDim, count * c.kvHeads * c.valueDim);
    }

    private Kv kvRange(KvCache cache, int slot, int count) {
        Kv c = kv(cache);
        if (slot < 0 || count < 0 || slot + count > c.slots) {
            throw new IllegalArgumentException("KV slots [" + slot + ", " + (slot + count) + ") outside [0, "
                    + c.slots + ")");
        }
        return c;
    }

    @Override
    public void synchronize() {
        // ops complete before they return
    }

    // ---- ops ----------------------------------------------------------------------------------------------

    @Override
    public synchronized void embed(Weight table, Buffer ids, int n, Buffer out) {
        WeightData t = weight(table, "table");
        Buf id = i32(ids, "ids", n, -1);
        float[] o = f32(out, "out", n, t.cols()).f;
        for (int r = 0; r < n; r++) {
            int tok = id.i[r * id.cols];
            if (tok < 0 || tok >= t.rows()) {
                throw new IllegalArgumentException("embed: id " + tok + " of row " + r + " outside " + t.name()
                        + " [0, " + t.rows() + ")");
            }
            for (int c = 0; c < t.cols(); c++) {
                o[r * t.cols() + c] = t.get(tok, c);
            }
        }
    }

    @Override
    public synchronized void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out) {
        WeightData g = weight(w, "w");
        int d = g.cols();
        float[] in = f32(x, "x", n, d).f;
        float[] o = f32(out, "out", n, d).f;
        for (int r = 0; r < n; r++) {
            float inv = (float) (1 / Math.sqrt(Kernels.dot(in, r * d, in, r * d, d) / d + eps));
            for (int c = 0; c < d; c++) {
                o[r * d + c] = g.get(0, c) * (in[r * d + c] * inv);
            }
        }
    }

    @Override
    public synchronized void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out) {
        WeightData g = weight(w, "w");
        int d = g.cols();
        float[] in = f32(x, "x", n, heads * d).f;
        float[] o = f32(out, "out", n, heads * d).f;
        for (int v = 0; v < n * heads; v++) {
            float inv = (float) (1 / Math.sqrt(Kernels.dot(in, v * d, in, v * d, d) / d + eps));
            for (int c = 0; c < d; c++) {
                o[v * d + c] = g.get(0, c) * (in[v * d + c] * inv);
            }
        }
    }

    @Override
    public synchronized void matmul(Buffer x, Weight w, int n, Buffer y) {
        W m = handle(w, "w");
        if (x == y) {
            throw new IllegalArgumentException("matmul: y must not be x");
        }
        matmul(f32(x, "x", n, m.cols()).f, m, n, f32(y, "y", n, m.rows()).f);
    }

    /** {@code y = x · Wᵀ} for {@code n} rows, W's rows split across the pool in tiles of {@link Kernels#TILE}. */
    private void matmul(float[] x, W handle, int n, float[] y) {
        WeightData w = handle.d;
        int tiles = (w.rows() + TILE - 1) / TILE;
        int perPart = Math.max(1, tiles / (pool.threads() * 4));
        if (w.dtype() == DType.F8_E4M3) {
            int cols = w.cols();
            if (xPerm.length < n * cols) {
                xPerm = new float[n * cols];
            }
            if (n >= DECODE_ROWS && decoded[0].length < TILE * cols) {
                for (int i = 0; i < decoded.length; i++) {
                    decoded[i] = new float[TILE * cols];
                }
            }
            for (int r = 0; r < n; r++) {
                Kernels.permuteForFp8(x, matmulTask.xOff + r * cols, xPerm, r * cols, cols);
            }
            x = xPerm;
            matmulTask.xOff = 0;
        }
        matmulTask.x = x;
        matmulTask.w = w;
        matmulTask.plain = handle.plain;
        matmulTask.scanned = handle.scanned;
        matmulTask.n = n;
        matmulTask.y = y;
        matmulTask.tiles = tiles;
        matmulTask.perPart = perPart;
        pool.run(matmulTask, (tiles + perPart - 1) / perPart);
    }

    private final class MatmulTask implements WorkerPool.Task {
        float[] x, y;
        WeightData w;
        long[] plain;
        boolean[] scanned;
        int n, tiles, perPart, xOff, yOff;

        @Override
        public void run(int part, int worker) {
            float[] out = tileOut[worker];
            int rows = w.rows();
            int cols = w.cols();
            for (int t = part * perPart, end = Math.min(tiles, t + perPart); t < end; t++) {
                int o = t * TILE;
                int valid = Math.min(TILE, rows - o);
                if (w.dtype() == DType.F8_E4M3) {
                    fp8Tile(t, o, valid, out, worker);
                    continue;
                }
                for (int r = 0; r < n; r++) {
                    Kernels.dot(w, o, x, xOff + r * cols, out);
                    System.arraycopy(out, 0, y, yOff + r * rows + o, valid);
                }
            }
        }

        /**
         * FP8 (the decode costs more than the FMAs): up to {@link #DECODE_ROWS} x rows, each weight row is decoded
         * in registers once per four x rows; more, the tile is decoded once into the worker's scratch and applied
         * to the x rows four at a time (the last group padded with the last row).
         */
        private void fp8Tile(int t, int o, int valid, float[] out, int worker) {
            int rows = w.rows();
            int cols = w.cols();
            if (n < DECODE_ROWS) {
                if (!scanned[t]) { // only this worker touches tile t's words; the pool orders it before later calls
                    Kernels.scanFp8Tile(w, plain, o);
                    scanned[t] = true;
                }
                for (int j = o; j < o + valid; j++) {
                    int r = 0;
                    for (; r + 4 <= n; r += 4) {
                        Kernels.fp8x4(w, plain, j, x, xOff + r * cols, out);
                        for (int i = 0; i < 4; i++) {
                            y[yOff + (r + i) * rows + j] = out[i];
                        }
                    }
                    for (; r < n; r++) {
                        y[yOff + r * rows + j] = Kernels.fp8(w, plain, j, x, xOff + r * cols);
                    }
                }
                return;
            }
            float[] dec = decoded[worker];
            Kernels.decodeFp8(w, o, dec);
            for (int r = 0; r < n; r += 4) {
                int x0 = xOff + r * cols, x1 = xOff + Math.min(r + 1, n - 1) * cols;
                int x2 = xOff + Math.min(r + 2, n - 1) * cols, x3 = xOff + Math.min(r + 3, n - 1) * cols;
                for (int i = 0; i < valid; i += 2) {
                    Kernels.fp8Decoded(w, dec, o, i, x, x0, x1, x2, x3, out);
                    for (int j = 0; j < Math.min(4, n - r); j++) {
                        y[yOff + (r + j) * rows + o + i] = out[2 * j];
                        if (i + 1 < valid) {
                            y[yOff + (r + j) * rows + o + i + 1] = out[2 * j + 1];
                        }
                    }
                }
            }
        }
    }

    @Override
    public synchronized void add(Buffer acc, Buffer x, int n) {
        Buf a = f32(acc, "acc", n, -1);
        float[] b = f32(x, "x", n, a.cols).f;
        int len = n * a.cols;
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += L) {
            FloatVector.fromArray(F, a.f, i).add(FloatVector.fromArray(F, b, i)).intoArray(a.f, i);
        }
        for (; i < len; i++) {
            a.f[i] += b[i];
        }
    }

    @Override
    public synchronized void siluMul(Buffer gate, Buffer up, int n, Buffer out) {
        Buf g = f32(gate, "gate", n, -1);
        float[] u = f32(up, "up", n, g.cols).f;
        float[] o = f32(out, "out", n, g.cols).f;
        siluMul(g.f, 0, u, 0, o, 0, n * g.cols);
    }

    private static void siluMul(float[] g, int go, float[] u, int uo, float[] o, int oo, int len) {
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

    @Override
    public synchronized void concat(Buffer a, Buffer b, int n, Buffer out) {
        Buf x = f32(a, "a", n, -1);
        Buf y = f32(b, "b", n, -1);
        float[] o = f32(out, "out", n, x.cols + y.cols).f;
        for (int r = 0; r < n; r++) {
            System.arraycopy(x.f, r * x.cols, o, r * (x.cols + y.cols), x.cols);
            System.arraycopy(y.f, r * y.cols, o, r * (x.cols + y.cols) + x.cols, y.cols);
        }
    }

    @Override
    public synchronized void gatherRows(Buffer src, Buffer index, int n, Buffer dst) {
        moveRows("gatherRows", src, index, n, dst, true);
    }

    @Override
    public synchronized void scatterRows(Buffer src, Buffer index, int n, Buffer dst) {
        moveRows("scatterRows", src, index, n, dst, false);
    }

    /** Gather: row {@code index[i]} of src to row {@code i} of dst; scatter: row {@code i} to row {@code index[i]}. */
    private void moveRows(String op, Buffer src, Buffer index, int n, Buffer dst, boolean gather) {
        Buf s = buf(src, "src");
        Buf idx = i32(index, "index", n, -1);
        Buf d = buf(dst, "dst");
        if (d.cols != s.cols || d.dtype != s.dtype) {
            throw new IllegalArgumentException(op + ": dst " + d + " does not match src " + s);
        }
        typed(gather ? dst : src, s.dtype, gather ? "dst" : "src", n, s.cols);
        Object from = s.dtype == DType.F32 ? s.f : s.i;
        Object to = d.dtype == DType.F32 ? d.f : d.i;
        int bound = gather ? s.rows : d.rows;
        for (int i = 0; i < n; i++) {
            int j = idx.i[i * idx.cols];
            if (j < 0 || j >= bound) {
                throw new IllegalArgumentException(op + ": index " + j + " outside [0, " + bound + ")");
            }
            System.arraycopy(from, (gather ? j : i) * s.cols, to, (gather ? i : j) * s.cols, s.cols);
        }
    }

    @Override
    public synchronized void rope(Rows rows, Buffer x, int heads, int headDim, double[] inverseFrequencies) {
        R rs = rows(rows);
        float[] v = f32(x, "x", rs.count(), heads * headDim).f;
        int half = inverseFrequencies.length;
        if (half == 0 || 2 * half > headDim) {
            throw new IllegalArgumentException("rope: rotary dim " + 2 * half + " must be in (0, " + headDim + "]");
        }
        float[] cs = work(2 * half);
        for (int r = 0; r < rs.count(); r++) {
            // angles in double: pos · freq loses whole radians in F32 at long positions
            for (int d = 0; d < half; d++) {
                double angle = rs.positions[r] * inverseFrequencies[d];
                cs[d] = (float) Math.cos(angle);
                cs[half + d] = (float) Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                int d = 0;
                for (int bound = F.loopBound(half); d < bound; d += L) {
                    FloatVector a = FloatVector.fromArray(F, v, base + d);
                    FloatVector b = FloatVector.fromArray(F, v, base + half + d);
                    FloatVector cos = FloatVector.fromArray(F, cs, d);
                    FloatVector sin = FloatVector.fromArray(F, cs, half + d);
                    a.mul(cos).sub(b.mul(sin)).intoArray(v, base + d);
                    b.mul(cos).add(a.mul(sin)).intoArray(v, base + half + d);
                }
                for (; d < half; d++) {
                    float a = v[base + d];
                    float b = v[base + half + d];
                    v[base + d] = a * cs[d] - b * cs[half + d];
                    v[base + half + d] = b * cs[d] + a * cs[half + d];
                }
            }
        }
    }

    private float[] work(int size) {
        if (work.length < size) {
            work = new float[size];
        }
        return work;
    }

    @Override
    public synchronized void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams p,
                                       Weight sinks, Buffer out) {
        R rs = rows(rows);
        Kv c = kv(cache);
        int n = rs.count();
        if (c.kvHeads != p.kvHeads() || c.keyDim != p.keyDim() || c.valueDim != p.valueDim()) {
            throw new IllegalArgumentException("attention: cache [" + c.kvHeads + " heads, " + c.keyDim + ", "
                    + c.valueDim + "] does not match " + p);
        }
        float[] ks = f32(k, "k", n, p.kvHeads() * p.keyDim()).f;
        float[] vs = f32(v, "v", n, p.kvHeads() * p.valueDim()).f;
        AttentionTask t = attentionTask;
        t.q = f32(q, "q", n, p.heads() * p.keyDim()).f;
        t.out = f32(out, "out", n, p.heads() * p.valueDim()).f;
        t.sinks = sinks == null ? null : weight(sinks, "sinks");
        if (t.sinks != null && t.sinks.rows() * t.sinks.cols() != p.heads()) {
            throw new IllegalArgumentException("attention: sinks " + t.sinks.name() + " has "
                    + t.sinks.cols() + " values for " + p.heads() + " heads");
        }
        int keysMax = 0;
        int kw = p.kvHeads() * p.keyDim();
        int vw = p.kvHeads() * p.valueDim();
        for (int r = 0; r < n; r++) {
            int pos = rs.positions[r];
            int first = p.window() == 0 ? 0 : Math.max(0, pos - p.window() + 1);
            if (rs.kvBase[r] + rs.kvCapacity[r] > c.slots) {
                throw new IllegalArgumentException("attention: row " + r + " KV slots [" + rs.kvBase[r] + ", "
                        + (rs.kvBase[r] + rs.kvCapacity[r]) + ") outside the cache's " + c.slots);
            }
            if (pos - first + 1 > rs.kvCapacity[r]) {
                throw new IllegalArgumentException("attention: row " + r + " attends " + (pos - first + 1)
                        + " keys but its sequence has only " + rs.kvCapacity[r] + " KV slots");
            }
            keysMax = Math.max(keysMax, pos - first + 1);
            int slot = rs.slot(r, pos);
            System.arraycopy(ks, r * kw, c.keys, slot * kw, kw);
            System.arraycopy(vs, r * vw, c.values, slot * vw, vw);
            Kernels.scale(c.values, slot * vw, vw, p.valueScale());
        }
        for (int w = 0; w < scores.length; w++) {
            if (scores[w].length < keysMax) {
                scores[w] = new float[keysMax];
            }
        }
        t.rows = rs;
        t.cache = c;
        t.p = p;
        pool.run(t, n * p.heads());
    }

    /** One part per (row, query head). */
    private final class AttentionTask implements WorkerPool.Task {
        R rows;
        Kv cache;
        AttentionParams p;
        WeightData sinks;
        float[] q, out;

        @Override
        public void run(int part, int worker) {
            int heads = p.heads();
            int r = part / heads;
            int h = part % heads;
            int kh = h / (heads / p.kvHeads());
            int kd = p.keyDim();
            int vd = p.valueDim();
            int pos = rows.positions[r];
            int first = p.window() == 0 ? 0 : Math.max(0, pos - p.window() + 1);
            float[] s = scores[worker];
            int qo = (r * heads + h) * kd;
            float sink = sinks == null ? Float.NEGATIVE_INFINITY : sinks.get(0, h);
            float max = sink;
            for (int j = first; j <= pos; j++) {
                int slot = rows.slot(r, j);
                float a = Kernels.dot(q, qo, cache.keys, (slot * p.kvHeads() + kh) * kd, kd) * p.scale();
                s[j - first] = a;
                max = Math.max(max, a);
            }
            float sum = sinks == null ? 0 : (float) Math.exp(sink - max);
            for (int j = 0; j <= pos - first; j++) {
                s[j] = (float) Math.exp(s[j] - max);
                sum += s[j];
            }
            int oo = (r * heads + h) * vd;
            Arrays.fill(out, oo, oo + vd, 0f);
            for (int j = first; j <= pos; j++) {
                Kernels.axpy(s[j - first], cache.values, (rows.slot(r, j) * p.kvHeads() + kh) * vd, out, oo, vd);
            }
            Kernels.scale(out, oo, vd, 1 / sum);
        }
    }

    /** Selection order: higher first, NaN above everything (never hidden); callers keep ties to the lower index. */
    private static boolean before(float a, float b) {
        return a > b || (Float.isNaN(a) && !Float.isNaN(b));
    }

    @Override
    public synchronized void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score,
                                   boolean normalize, float scaling, boolean replay, Buffer ids, Buffer weights) {
        Buf lb = f32(logits, "logits", n, -1);
        int experts = lb.cols;
        int[] sel = i32(ids, "ids", n, k).i;
        float[] w = f32(weights, "weights", n, k).f;
        WeightData b = bias == null ? null : weight(bias, "bias");
        if (k <= 0 || k > experts || (b != null && b.cols() != experts)) {
            throw new IllegalArgumentException("route: k=" + k + " of " + experts + " experts"
                    + (b == null ? "" : ", bias of " + b.cols()));
        }
        float[] s = work(2 * experts);
        for (int r = 0; r < n; r++) {
            if (score == ScoreFunction.SOFTMAX) {
                softmax(lb.f, r * experts, experts, s);
            } else {
                for (int e = 0; e < experts; e++) {
                    s[e] = (float) (1 / (1 + Math.exp(-lb.f[r * experts + e])));
                }
            }
            for (int e = 0; e < experts; e++) {
                s[experts + e] = s[e] + (b == null ? 0 : b.get(0, e));
            }
            int row = r * k;
            if (!replay) {
                for (int j = 0; j < k; j++) {
                    int best = -1;
                    for (int e = 0; e < experts; e++) {
                        if ((best < 0 || before(s[experts + e], s[experts + best])) && !taken(sel, row, j, e)) {
                            best = e;
                        }
                    }
                    sel[row + j] = best;
                }
            }
            float total = 0;
            for (int j = 0; j < k; j++) {
                int e = sel[row + j];
                if (e < 0 || e >= experts) {
                    throw new IllegalArgumentException("route: replayed expert id " + e + " in row " + r
                            + " outside [0, " + experts + ")");
                }
                total += s[e];
            }
            for (int j = 0; j < k; j++) {
                float sj = s[sel[row + j]];
                w[row + j] = (normalize ? sj / (total + 1e-20f) : sj) * scaling;
            }
        }
    }

    /** {@code s[0, n) = softmax(l[from, from + n))} in F32, max-subtracted, summed in index order. */
    private static void softmax(float[] l, int from, int n, float[] s) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < n; e++) {
            max = Math.max(max, l[from + e]);
        }
        float sum = 0;
        for (int e = 0; e < n; e++) {
            s[e] = (float) Math.exp(l[from + e] - max);
            sum += s[e];
        }
        for (int e = 0; e < n; e++) {
            s[e] /= sum;
        }
    }

    private static boolean taken(int[] sel, int from, int count, int e) {
        for (int j = 0; j < count; j++) {
            if (sel[from + j] == e) {
                return true;
            }
        }
        return false;
    }

    @Override
    public synchronized void experts(Buffer x, ExpertWeights experts, Buffer ids, Buffer weights, int n,
                                     Buffer out) {
        int hidden = experts.gate().getFirst().cols();
        int inter = experts.gate().getFirst().rows();
        Buf idb = i32(ids, "ids", n, -1);
        int k = idb.cols;
        float[] in = f32(x, "x", n, hidden).f;
        float[] w = f32(weights, "weights", n, k).f;
        float[] o = f32(out, "out", n, hidden).f;
        int count = experts.count();
        // counting sort of the (row, j) pairs by expert: start[e] .. start[e+1] index into pair[]
        if (grouping.length < count + 1 + n * k) {
            grouping = new int[count + 1 + n * k];
        }
        int[] g = grouping;
        Arrays.fill(g, 0, count + 1, 0);
        for (int i = 0; i < n * k; i++) {
            int e = idb.i[i];
            if (e < 0 || e >= count) {
                throw new IllegalArgumentException("experts: id " + e + " in row " + i / k + " outside [0, "
                        + count + ")");
            }
            g[e + 1]++;
        }
        int m = 0;
        for (int e = 0; e < count; e++) {
            m = Math.max(m, g[e + 1]);
            g[e + 1] += g[e];
        }
        int pairs = count + 1;
        for (int i = 0; i < n * k; i++) {
            g[pairs + g[idb.i[i]]++] = i; // g[e] now ends at the old g[e+1]
        }
        // scratch: gathered rows [m, hidden], gate and up [m, inter], down [m, hidden]
        float[] s = work(m * (2 * hidden + 2 * inter));
        int xs = 0, gs = m * hidden, us = gs + m * inter, ds = us + m * inter;
        Arrays.fill(o, 0, n * hidden, 0f);
        int from = 0;
        for (int e = 0; e < count; e++) {
            int to = g[e];
            int rowsE = to - from;
            if (rowsE == 0) {
                continue;
            }
            for (int i = 0; i < rowsE; i++) {
                System.arraycopy(in, (g[pairs + from + i] / k) * hidden, s, xs + i * hidden, hidden);
            }
            W gate = expert(experts.gate().get(e), "gate", e, inter, hidden);
            W up = expert(experts.up().get(e), "up", e, inter, hidden);
            W down = expert(experts.down().get(e), "down", e, hidden, inter);
            matmulInto(s, xs, gate, rowsE, s, gs);
            matmulInto(s, xs, up, rowsE, s, us);
            siluMul(s, gs, s, us, s, gs, rowsE * inter);
            matmulInto(s, gs, down, rowsE, s, ds);
            for (int i = 0; i < rowsE; i++) {
                int pair = g[pairs + from + i];
                Kernels.axpy(w[pair], s, ds + i * hidden, o, (pair / k) * hidden, hidden);
            }
            from = to;
        }
    }

    @Override
    public synchronized void argmax(Buffer logits, int n, Buffer ids) {
        Buf l = f32(logits, "logits", n, -1);
        Buf out = i32(ids, "ids", n, -1);
        for (int r = 0; r < n; r++) {
            out.i[r * out.cols] = argmax(l.f, r * l.cols, l.cols);
        }
    }

    /** First index of the maximum, or of the first NaN: a vector max (NaN-propagating), then a scan for it. */
    private static int argmax(float[] l, int from, int len) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += L) {
            mv = mv.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, l, from + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            max = Math.max(max, l[from + i]);
        }
        for (i = 0; i < len; i++) {
            float x = l[from + i];
            if (x == max || (Float.isNaN(max) && Float.isNaN(x))) {
                return i;
            }
        }
        return 0; // all -Inf
    }

    @Override
    public synchronized void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP,
                                    float[] u, Buffer ids) {
        Buf l = f32(logits, "logits", n, -1);
        Buf out = i32(ids, "ids", n, -1);
        int cols = l.cols;
        int v = vocab;
        if (v <= 0 || v > cols) {
            throw new IllegalArgumentException("sample: vocab " + v + " outside [1, " + cols + "]");
        }
        if (order.length < v) {
            order = new long[v];
        }
        float[] p = work(v);
        for (int r = 0; r < n; r++) {
            int best = argmax(l.f, r * cols, v);
            float max = l.f[r * cols + best];
            if (temperature[r] == 0 || Float.isNaN(max)) {
                out.i[r * out.cols] = best;
                continue;
            }
            // probabilities up to the common factor; sort keys: descending p, then ascending id
            for (int i = 0; i < v; i++) {
                p[i] = (float) Math.exp((l.f[r * cols + i] - max) / temperature[r]);
                order[i] = ((long) (Integer.MAX_VALUE - Float.floatToRawIntBits(p[i])) << 32) | i;
            }
            Arrays.sort(order, 0, v);
            int keep = topK[r] > 0 ? Math.min(topK[r], v) : v;
            double total = 0;
            for (int i = 0; i < keep; i++) {
                total += p[(int) order[i]];
            }
            double prefix = 0;
            int kept = 0;
            while (kept < keep && (kept == 0 || prefix < topP[r] * total)) {
                prefix += p[(int) order[kept++]];
            }
            double target = u[r] * prefix;
            double cumulative = 0;
            int pick = (int) order[kept - 1];
            for (int i = 0; i < kept; i++) {
                cumulative += p[(int) order[i]];
                if (target < cumulative) {
                    pick = (int) order[i];
                    break;
                }
            }
            out.i[r * out.cols] = pick;
        }
    }

    private W expert(Weight w, String kind, int e, int rows, int cols) {
        W d = handle(w, kind + "[" + e + "]");
        if (d.rows() != rows || d.cols() != cols) {
            throw new IllegalArgumentException("experts: " + kind + "[" + e + "] " + d.name() + " is [" + d.rows()
                    + ", " + d.cols() + "], expected [" + rows + ", " + cols + "]");
        }
        return d;
    }

    /** {@code matmul} on sub-ranges of scratch arrays: x from {@code xOff}, y from {@code yOff}. */
    private void matmulInto(float[] x, int xOff, W w, int n, float[] y, int yOff) {
        matmulTask.xOff = xOff;
        matmulTask.yOff = yOff;
        try {
            matmul(x, w, n, y);
        } finally {
            matmulTask.xOff = 0;
            matmulTask.yOff = 0;
        }
    }
}
