package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.VectorMath.F;
import static io.tessera.kernels.cpu.VectorMath.L;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.AttentionParams;
import io.tessera.api.kernel.BackendInfo;
import io.tessera.api.kernel.BlockTable;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.ExpertWeights;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.ScoreFunction;
import io.tessera.api.kernel.Weight;
import io.tessera.api.kernel.WeightData;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
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
    private final AtomicLong bytesInUse = new AtomicLong();
    // replaced together (under this backend's monitor, which every op holds) when the thread count changes
    private WorkerPool pool;
    private Matmul matmul;
    private ShortlistMatmul shortlist;
    private Experts experts;
    private Attention attention;
    private volatile String configProblem = "";
    private final Selection selection = new Selection();
    private final RopeTable ropeTable = new RopeTable();

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
        matmul = new Matmul(threads);
        shortlist = new ShortlistMatmul(threads);
        experts = new Experts(matmul);
        attention = new Attention(threads);
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

    private CpuBuffer buf(Buffer b, String param) {
        if (!(b instanceof CpuBuffer x)) {
            throw new IllegalArgumentException(param + ": not a buffer of the cpu backend: " + b);
        }
        x.check(this, param);
        return x;
    }

    private CpuBuffer f32(Buffer b, String param, int n, int cols) {
        return typed(b, DType.F32, param, n, cols);
    }

    private CpuBuffer i32(Buffer b, String param, int n, int cols) {
        return typed(b, DType.I32, param, n, cols);
    }

    private CpuBuffer typed(Buffer b, DType dtype, String param, int n, int cols) {
        CpuBuffer x = buf(b, param);
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
        return handle(w, param).data;
    }

    private CpuWeight handle(Weight w, String param) {
        if (!(w instanceof CpuWeight x)) {
            throw new IllegalArgumentException(param + ": not a weight of the cpu backend: " + w);
        }
        x.check(this, param);
        return x;
    }

    private CpuKv kv(KvCache c) {
        if (!(c instanceof CpuKv x)) {
            throw new IllegalArgumentException("cache: not a KV cache of the cpu backend: " + c);
        }
        x.check(this, "cache");
        return x;
    }

    private CpuRows rows(Rows r) {
        if (!(r instanceof CpuRows x)) {
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
        return new CpuBuffer(this, bytesInUse, dtype, rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        return new CpuWeight(this, bytesInUse, WeightData.of(tensor));
    }

    @Override
    public KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim) {
        if (slots <= 0 || kvHeads <= 0 || keyDim <= 0 || valueDim <= 0) {
            throw new IllegalArgumentException("allocateKv: positive sizes expected, got slots=" + slots
                    + " kvHeads=" + kvHeads + " keyDim=" + keyDim + " valueDim=" + valueDim);
        }
        return new CpuKv(this, bytesInUse, slots, kvHeads, keyDim, valueDim);
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
        return new CpuRows(this, bytesInUse, positions, kvBase, kvCapacity);
    }

    @Override
    public Rows pagedRows(int[] positions, BlockTable table) {
        table.requireRows(positions);
        return new CpuRows(this, bytesInUse, positions, table);
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
        CpuKv c = kvRange(cache, slot, count);
        System.arraycopy(c.keys, slot * c.kvHeads * c.keyDim, keys, 0, count * c.kvHeads * c.keyDim);
        System.arraycopy(c.values, slot * c.kvHeads * c.valueDim, values, 0, count * c.kvHeads * c.valueDim);
    }

    @Override
    public synchronized void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        CpuKv c = kvRange(cache, slot, count);
        System.arraycopy(keys, 0, c.keys, slot * c.kvHeads * c.keyDim, count * c.kvHeads * c.keyDim);
        System.arraycopy(values, 0, c.values, slot * c.kvHeads * c.valueDim, count * c.kvHeads * c.valueDim);
    }

    private CpuKv kvRange(KvCache cache, int slot, int count) {
        CpuKv c = kv(cache);
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
        CpuBuffer id = i32(ids, "ids", n, -1);
        float[] o = f32(out, "out", n, t.cols()).f;
        for (int r = 0; r < n; r++) {
            int tok = id.i[r * id.cols];
            if (tok < 0 || tok >= t.rows()) {
                throw new IllegalArgumentException("embed: id " + tok + " of row " + r + " outside " + t.name()
                        + " [0, " + t.rows() + ")");
            }
            DenseKernels.row(t, tok, o, r * t.cols());
        }
    }

    @Override
    public synchronized void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out) {
        CpuWeight g = handle(w, "w");
        int d = g.cols();
        RowOps.rmsNorm(f32(x, "x", n, d).f, g.values(), eps, n, d, f32(out, "out", n, d).f);
    }

    @Override
    public synchronized void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out) {
        CpuWeight g = handle(w, "w");
        int d = g.cols();
        // each row's heads are contiguous views of d: RMSNorm over n · heads rows of d
        RowOps.rmsNorm(f32(x, "x", n, heads * d).f, g.values(), eps, n * heads, d, f32(out, "out", n, heads * d).f);
    }

    @Override
    public synchronized void matmul(Buffer x, Weight w, int n, Buffer y) {
        CpuWeight m = handle(w, "w");
        if (x == y) {
            throw new IllegalArgumentException("matmul: y must not be x");
        }
        float[] in = matmul.input(f32(x, "x", n, m.cols()).f, 0, m, n);
        matmul.run(pool, in, 0, m, n, f32(y, "y", n, m.rows()).f, 0);
    }

    @Override
    public synchronized void matmulRows(Buffer x, Weight w, Buffer ids, int n, Buffer y) {
        CpuWeight m = handle(w, "w");
        if (x == y) {
            throw new IllegalArgumentException("matmulRows: y must not be x");
        }
        CpuBuffer out = f32(y, "y", n, -1);
        CpuBuffer rows = i32(ids, "ids", out.cols, -1);
        for (int j = 0; j < out.cols; j++) {
            int o = rows.i[j * rows.cols];
            if (o < 0 || o >= m.rows()) {
                throw new IllegalArgumentException("matmulRows: ids row " + j + " is " + o + ", outside [0, "
                        + m.rows() + ")");
            }
        }
        shortlist.run(pool, f32(x, "x", n, m.cols()).f, m.data, rows.i, rows.cols, out.cols, n, out.f);
    }

    @Override
    public synchronized void add(Buffer acc, Buffer x, int n) {
        CpuBuffer a = f32(acc, "acc", n, -1);
        RowOps.add(a.f, f32(x, "x", n, a.cols).f, n * a.cols);
    }

    @Override
    public synchronized void siluMul(Buffer gate, Buffer up, int n, Buffer out) {
        CpuBuffer g = f32(gate, "gate", n, -1);
        float[] u = f32(up, "up", n, g.cols).f;
        float[] o = f32(out, "out", n, g.cols).f;
        RowOps.siluMul(g.f, 0, u, 0, o, 0, n * g.cols);
    }

    @Override
    public synchronized void concat(Buffer a, Buffer b, int n, Buffer out) {
        CpuBuffer x = f32(a, "a", n, -1);
        CpuBuffer y = f32(b, "b", n, -1);
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
        CpuBuffer s = buf(src, "src");
        CpuBuffer idx = i32(index, "index", n, -1);
        CpuBuffer d = buf(dst, "dst");
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
        CpuRows rs = rows(rows);
        float[] v = f32(x, "x", rs.count(), heads * headDim).f;
        int half = inverseFrequencies.length;
        if (half == 0 || 2 * half > headDim) {
            throw new IllegalArgumentException("rope: rotary dim " + 2 * half + " must be in (0, " + headDim + "]");
        }
        RowOps.rope(v, rs.count(), heads, headDim, half, ropeTable.angles(rs, inverseFrequencies));
    }

    @Override
    public synchronized void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams p,
                                       Weight sinks, Buffer out) {
        CpuRows rs = rows(rows);
        CpuKv c = kv(cache);
        int n = rs.count();
        if (c.kvHeads != p.kvHeads() || c.keyDim != p.keyDim() || c.valueDim != p.valueDim()) {
            throw new IllegalArgumentException("attention: cache [" + c.kvHeads + " heads, " + c.keyDim + ", "
                    + c.valueDim + "] does not match " + p);
        }
        float[] ks = f32(k, "k", n, p.kvHeads() * p.keyDim()).f;
        float[] vs = f32(v, "v", n, p.kvHeads() * p.valueDim()).f;
        Attention t = attention;
        t.q = f32(q, "q", n, p.heads() * p.keyDim()).f;
        t.out = f32(out, "out", n, p.heads() * p.valueDim()).f;
        CpuWeight sinkWeight = sinks == null ? null : handle(sinks, "sinks");
        if (sinkWeight != null && sinkWeight.rows() * sinkWeight.cols() != p.heads()) {
            throw new IllegalArgumentException("attention: sinks " + sinkWeight.name() + " has "
                    + sinkWeight.cols() + " values for " + p.heads() + " heads");
        }
        t.sinks = sinkWeight == null ? null : sinkWeight.values();
        int keysMax = 0;
        int kw = p.kvHeads() * p.keyDim();
        int vw = p.kvHeads() * p.valueDim();
        for (int r = 0; r < n; r++) {
            int pos = rs.positions[r];
            int first = p.window() == 0 ? 0 : Math.max(0, pos - p.window() + 1);
            if (rs.slotsReached(r) > c.slots) {
                throw new IllegalArgumentException("attention: row " + r + " reaches KV slot "
                        + (rs.slotsReached(r) - 1) + " outside the cache's " + c.slots);
            }
            if (pos - first + 1 > rs.capacity(r)) {
                throw new IllegalArgumentException("attention: row " + r + " attends " + (pos - first + 1)
                        + " keys but its sequence has only " + rs.capacity(r) + " KV slots");
            }
            keysMax = Math.max(keysMax, pos - first + 1);
            int slot = rs.slot(r, pos);
            System.arraycopy(ks, r * kw, c.keys, slot * kw, kw);
            System.arraycopy(vs, r * vw, c.values, slot * vw, vw);
            VectorMath.scale(c.values, slot * vw, vw, p.valueScale());
        }
        t.reserve(keysMax);
        t.rows = rs;
        t.cache = c;
        t.p = p;
        pool.run(t, n * p.heads());
    }

    @Override
    public synchronized void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score,
                                   boolean normalize, float scaling, boolean replay, Buffer ids, Buffer weights) {
        CpuBuffer lb = f32(logits, "logits", n, -1);
        int count = lb.cols;
        int[] sel = i32(ids, "ids", n, k).i;
        float[] w = f32(weights, "weights", n, k).f;
        CpuWeight b = bias == null ? null : handle(bias, "bias");
        if (k <= 0 || k > count || (b != null && b.cols() != count)) {
            throw new IllegalArgumentException("route: k=" + k + " of " + count + " experts"
                    + (b == null ? "" : ", bias of " + b.cols()));
        }
        selection.route(lb.f, b == null ? null : b.values(), n, count, k, score == ScoreFunction.SOFTMAX, normalize,
                scaling, replay, sel, w);
    }

    @Override
    public synchronized void experts(Buffer x, ExpertWeights weights, Buffer ids, Buffer routeWeights, int n,
                                     Buffer out) {
        int hidden = weights.gate().getFirst().cols();
        int inter = weights.gate().getFirst().rows();
        CpuBuffer idb = i32(ids, "ids", n, -1);
        int k = idb.cols;
        float[] in = f32(x, "x", n, hidden).f;
        float[] w = f32(routeWeights, "weights", n, k).f;
        float[] o = f32(out, "out", n, hidden).f;
        int count = weights.count();
        experts.experts(count);
        for (int i = 0; i < n * k; i++) {
            int e = idb.i[i];
            if (e < 0 || e >= count) {
                throw new IllegalArgumentException("experts: id " + e + " in row " + i / k + " outside [0, "
                        + count + ")");
            }
            CpuWeight gate = expert(weights.gate().get(e), "gate", e, inter, hidden);
            CpuWeight up = expert(weights.up().get(e), "up", e, inter, hidden);
            if ((gate.dtype() == DType.F8_E4M3) != (up.dtype() == DType.F8_E4M3)) {
                throw new IllegalArgumentException("experts: gate[" + e + "] and up[" + e + "] differ in dtype ("
                        + gate.dtype() + ", " + up.dtype() + "): both FP8 or neither");
            }
            experts.weights(e, gate, up, expert(weights.down().get(e), "down", e, hidden, inter));
        }
        experts.run(pool, in, idb.i, w, n, k, count, hidden, inter, o);
    }

    private CpuWeight expert(Weight w, String kind, int e, int rows, int cols) {
        CpuWeight d = handle(w, kind + "[" + e + "]");
        if (d.rows() != rows || d.cols() != cols) {
            throw new IllegalArgumentException("experts: " + kind + "[" + e + "] " + d.name() + " is [" + d.rows()
                    + ", " + d.cols() + "], expected [" + rows + ", " + cols + "]");
        }
        return d;
    }

    @Override
    public synchronized void argmax(Buffer logits, int n, Buffer ids) {
        CpuBuffer l = f32(logits, "logits", n, -1);
        CpuBuffer out = i32(ids, "ids", n, -1);
        for (int r = 0; r < n; r++) {
            out.i[r * out.cols] = Selection.argmax(l.f, r * l.cols, l.cols);
        }
    }

    @Override
    public synchronized void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP,
                                    float[] u, Buffer ids) {
        CpuBuffer l = f32(logits, "logits", n, -1);
        CpuBuffer out = i32(ids, "ids", n, -1);
        if (vocab <= 0 || vocab > l.cols) {
            throw new IllegalArgumentException("sample: vocab " + vocab + " outside [1, " + l.cols + "]");
        }
        for (int r = 0; r < n; r++) {
            out.i[r * out.cols] = selection.sample(l.f, r, l.cols, vocab, temperature[r], topK[r], topP[r], u[r]);
        }
    }

    /** Constrained decoding: logits of ids whose bit is clear become −∞ (kept logits are untouched). */
    @Override
    public synchronized void maskLogits(Buffer logits, Buffer allowed, int n) {
        CpuBuffer l = f32(logits, "logits", n, -1);
        CpuBuffer mask = i32(allowed, "allowed", n, -1);
        int cols = l.cols;
        if (mask.cols < (cols + 31) / 32) {
            throw new IllegalArgumentException("maskLogits: allowed has " + mask.cols + " columns, " + cols
                    + " logits need " + (cols + 31) / 32);
        }
        for (int r = 0; r < n; r++) {
            for (int w = 0; w < (cols + 31) / 32; w++) {
                int bits = mask.i[r * mask.cols + w];
                if (bits == -1) {
                    continue;   // a word of allowed ids: the common case outside a constrained position
                }
                for (int c = w * 32; c < Math.min(cols, w * 32 + 32); c++) {
                    if ((bits >>> (c & 31) & 1) == 0) {
                        l.f[r * cols + c] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
    }
}
