package io.tessera.kernels.reference;

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
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Component;

/**
 * The scalar reference backend: every op as the plain loop of its definition, sums in double. It is the oracle
 * of the conformance kit and the starting point for third-party backends. Ops run synchronously on the calling
 * thread. Its KV cache is head-major ({@code [kvHead][slot][dim]}), unlike kernels-cpu, so hot swap between the
 * two exercises the backend-neutral {@link #readKv}/{@link #writeKv}.
 */
@Component(service = KernelBackend.class, property = {KernelBackend.BACKEND + "=reference",
        "service.ranking:Integer=0"})
public class ReferenceBackend implements KernelBackend {

    private final AtomicLong bytesInUse = new AtomicLong();

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public BackendInfo info() {
        return new BackendInfo("scalar Java, calling thread", 1, bytesInUse.get(),
                "f64 accumulate; weights exact; activations f32");
    }

    // ---- handles ------------------------------------------------------------------------------------------

    /** Owner check and use-after-close check shared by every handle. */
    private abstract class Handle {
        private boolean closed;

        final void checkOpen(String what) {
            if (closed) {
                throw new IllegalStateException(what + " used after close");
            }
        }

        final boolean markClosed() {
            boolean was = closed;
            closed = true;
            return !was;
        }

        final ReferenceBackend owner() {
            return ReferenceBackend.this;
        }
    }

    final class Buf extends Handle implements Buffer {
        final DType dtype;
        final int rows, cols;
        final float[] f;
        final int[] i;

        Buf(DType dtype, int rows, int cols) {
            this.dtype = dtype;
            this.rows = rows;
            this.cols = cols;
            int size = Math.multiplyExact(rows, cols);
            f = dtype == DType.F32 ? new float[size] : null;
            i = dtype == DType.I32 ? new int[size] : null;
            bytesInUse.addAndGet(4L * size);
        }

        public DType dtype() { return dtype; }
        public int rows() { return rows; }
        public int cols() { return cols; }

        /** Frees the buffer and overwrites it with garbage, so a read through a stale reference shows. */
        public void close() {
            if (markClosed()) {
                bytesInUse.addAndGet(-4L * rows * cols);
                if (f != null) {
                    Arrays.fill(f, Float.NaN);
                } else {
                    Arrays.fill(i, -1);
                }
            }
        }
    }

    final class W extends Handle implements Weight {
        final WeightData d;

        W(WeightData d) { this.d = d; }

        public String name() { return d.name(); }
        public DType dtype() { return d.dtype(); }
        public int rows() { return d.rows(); }
        public int cols() { return d.cols(); }
        public void close() { markClosed(); }

        float get(int r, int c) { return d.get(r, c); }
    }

    final class Kv extends Handle implements KvCache {
        final int slots, kvHeads, keyDim, valueDim;
        final float[][] keys, values; // [kvHead][slot * dim + d]

        Kv(int slots, int kvHeads, int keyDim, int valueDim) {
            this.slots = slots;
            this.kvHeads = kvHeads;
            this.keyDim = keyDim;
            this.valueDim = valueDim;
            keys = new float[kvHeads][Math.multiplyExact(slots, keyDim)];
            values = new float[kvHeads][Math.multiplyExact(slots, valueDim)];
            bytesInUse.addAndGet(bytes());
        }

        long bytes() { return 4L * slots * kvHeads * (keyDim + valueDim); }

        public int slots() { return slots; }
        public int kvHeads() { return kvHeads; }
        public int keyDim() { return keyDim; }
        public int valueDim() { return valueDim; }

        /** Frees the cache and overwrites it with garbage, so a read through a stale reference shows. */
        public void close() {
            if (markClosed()) {
                bytesInUse.addAndGet(-bytes());
                for (int h = 0; h < kvHeads; h++) {
                    Arrays.fill(keys[h], Float.NaN);
                    Arrays.fill(values[h], Float.NaN);
                }
            }
        }
    }

    final class R extends Handle implements Rows {
        final int[] positions, kvBase, kvCapacity;
        final BlockTable table;   // null: contiguous

        R(int[] positions, int[] kvBase, int[] kvCapacity, BlockTable table) {
            this.positions = positions.clone();
            this.kvBase = kvBase == null ? null : kvBase.clone();
            this.kvCapacity = kvCapacity == null ? null : kvCapacity.clone();
            this.table = table == null ? null : table.copy();
        }

        public int count() { return positions.length; }
        public void close() { markClosed(); }

        int slot(int r, int position) {
            return table != null ? table.slot(r, position) : kvBase[r] + position % kvCapacity[r];
        }

        int capacity(int r) { return table != null ? table.capacity(r) : kvCapacity[r]; }

        long slotsReached(int r) { return table != null ? table.slotsReached(r) : (long) kvBase[r] + kvCapacity[r]; }
    }

    private Buf buf(Buffer b, String param) {
        if (!(b instanceof Buf x) || x.owner() != this) {
            throw new IllegalArgumentException(param + ": not a buffer of the reference backend: " + b);
        }
        x.checkOpen(param);
        return x;
    }

    private float[] f32(Buffer b, String param, int n, int cols) {
        return typed(b, DType.F32, param, n, cols).f;
    }

    private int[] i32(Buffer b, String param, int n, int cols) {
        return typed(b, DType.I32, param, n, cols).i;
    }

    private Buf typed(Buffer b, DType dtype, String param, int n, int cols) {
        Buf x = buf(b, param);
        if (x.dtype != dtype) {
            throw new IllegalArgumentException(param + ": " + dtype + " buffer expected, got " + x.dtype);
        }
        checkShape(x, param, n, cols);
        return x;
    }

    private static void checkShape(Buf x, String param, int n, int cols) {
        if (n < 0 || n > x.rows || (cols >= 0 && x.cols != cols)) {
            throw new IllegalArgumentException(param + ": buffer [" + x.rows + ", " + x.cols + "] cannot hold "
                    + n + " rows of " + (cols >= 0 ? cols : x.cols) + " columns");
        }
    }

    private W weight(Weight w, String param) {
        if (!(w instanceof W x) || x.owner() != this) {
            throw new IllegalArgumentException(param + ": not a weight of the reference backend: " + w);
        }
        x.checkOpen(param);
        return x;
    }

    private Kv kv(KvCache c) {
        if (!(c instanceof Kv x) || x.owner() != this) {
            throw new IllegalArgumentException("cache: not a KV cache of the reference backend: " + c);
        }
        x.checkOpen("cache");
        return x;
    }

    private R rows(Rows r) {
        if (!(r instanceof R x) || x.owner() != this) {
            throw new IllegalArgumentException("rows: not rows of the reference backend: " + r);
        }
        x.checkOpen("rows");
        return x;
    }

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public Buffer allocate(DType dtype, int rows, int cols) {
        if ((dtype != DType.F32 && dtype != DType.I32) || rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("allocate: F32 or I32 with positive size, got " + dtype + "[" + rows
                    + ", " + cols + "]");
        }
        return new Buf(dtype, rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        return new W(WeightData.of(tensor));
    }

    @Override
    public KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim) {
        if (slots <= 0 || kvHeads <= 0 || keyDim <= 0 || valueDim <= 0) {
            throw new IllegalArgumentException("allocateKv: positive sizes expected, got slots=" + slots
                    + " kvHeads=" + kvHeads + " keyDim=" + keyDim + " valueDim=" + valueDim);
        }
        return new Kv(slots, kvHeads, keyDim, valueDim);
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
        return new R(positions, kvBase, kvCapacity, null);
    }

    @Override
    public Rows pagedRows(int[] positions, BlockTable table) {
        table.requireRows(positions);
        return new R(positions, null, null, table);
    }

    @Override
    public void write(Buffer dst, long offset, float[] src, int from, int len) {
        System.arraycopy(src, from, f32(dst, "dst", 0, -1), Math.toIntExact(offset), len);
    }

    @Override
    public void write(Buffer dst, long offset, int[] src, int from, int len) {
        System.arraycopy(src, from, i32(dst, "dst", 0, -1), Math.toIntExact(offset), len);
    }

    @Override
    public void read(Buffer src, long offset, float[] dst, int from, int len) {
        System.arraycopy(f32(src, "src", 0, -1), Math.toIntExact(offset), dst, from, len);
    }

    @Override
    public void read(Buffer src, long offset, int[] dst, int from, int len) {
        System.arraycopy(i32(src, "src", 0, -1), Math.toIntExact(offset), dst, from, len);
    }

    @Override
    public void readKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        Kv c = kvRange(cache, slot, count);
        for (int s = 0; s < count; s++) {
            for (int h = 0; h < c.kvHeads; h++) {
                System.arraycopy(c.keys[h], (slot + s) * c.keyDim, keys, (s * c.kvHeads + h) * c.keyDim, c.keyDim);
                System.arraycopy(c.values[h], (slot + s) * c.valueDim, values, (s * c.kvHeads + h) * c.valueDim,
                        c.valueDim);
            }
        }
    }

    @Override
    public void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        Kv c = kvRange(cache, slot, count);
        for (int s = 0; s < count; s++) {
            for (int h = 0; h < c.kvHeads; h++) {
                System.arraycopy(keys, (s * c.kvHeads + h) * c.keyDim, c.keys[h], (slot + s) * c.keyDim, c.keyDim);
                System.arraycopy(values, (s * c.kvHeads + h) * c.valueDim, c.values[h], (slot + s) * c.valueDim,
                        c.valueDim);
            }
        }
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
        // ops run synchronously
    }

    // ---- ops ----------------------------------------------------------------------------------------------

    @Override
    public void embed(Weight table, Buffer ids, int n, Buffer out) {
        W t = weight(table, "table");
        int[] id = i32(ids, "ids", n, -1);
        float[] o = f32(out, "out", n, t.cols());
        for (int r = 0; r < n; r++) {
            int tok = id[r * buf(ids, "ids").cols];
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
    public void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out) {
        rmsNormHeads(x, w, eps, n, 1, out);
    }

    @Override
    public void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out) {
        W g = weight(w, "w");
        int d = g.cols();
        float[] in = f32(x, "x", n, heads * d);
        float[] o = f32(out, "out", n, heads * d);
        for (int v = 0; v < n * heads; v++) {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                ss += (double) in[v * d + c] * in[v * d + c];
            }
            double inv = 1 / Math.sqrt(ss / d + eps);
            for (int c = 0; c < d; c++) {
                o[v * d + c] = (float) (g.get(0, c) * (in[v * d + c] * inv));
            }
        }
    }

    @Override
    public void matmul(Buffer x, Weight w, int n, Buffer y) {
        W m = weight(w, "w");
        if (x == y) {
            throw new IllegalArgumentException("matmul: y must not be x");
        }
        float[] in = f32(x, "x", n, m.cols());
        float[] out = f32(y, "y", n, m.rows());
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < m.rows(); o++) {
                double s = 0;
                for (int i = 0; i < m.cols(); i++) {
                    s += (double) in[r * m.cols() + i] * m.get(o, i);
                }
                out[r * m.rows() + o] = (float) s;
            }
        }
    }

    @Override
    public void matmulRows(Buffer x, Weight w, Buffer ids, int n, Buffer y) {
        W m = weight(w, "w");
        if (x == y) {
            throw new IllegalArgumentException("matmulRows: y must not be x");
        }
        int count = buf(y, "y").cols;
        int[] rows = i32(ids, "ids", count, -1);
        int stride = buf(ids, "ids").cols;
        float[] in = f32(x, "x", n, m.cols());
        float[] out = f32(y, "y", n, count);
        for (int j = 0; j < count; j++) {
            int o = rows[j * stride];
            if (o < 0 || o >= m.rows()) {
                throw new IllegalArgumentException("matmulRows: ids row " + j + " is " + o + ", outside [0, "
                        + m.rows() + ")");
            }
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int i = 0; i < m.cols(); i++) {
                    s += (double) in[r * m.cols() + i] * m.get(o, i);
                }
                out[r * count + j] = (float) s;
            }
        }
    }

    @Override
    public void add(Buffer acc, Buffer x, int n) {
        int d = buf(acc, "acc").cols;
        float[] a = f32(acc, "acc", n, d);
        float[] b = f32(x, "x", n, d);
        for (int i = 0; i < n * d; i++) {
            a[i] += b[i];
        }
    }

    @Override
    public void siluMul(Buffer gate, Buffer up, int n, Buffer out) {
        int d = buf(gate, "gate").cols;
        float[] g = f32(gate, "gate", n, d);
        float[] u = f32(up, "up", n, d);
        float[] o = f32(out, "out", n, d);
        for (int i = 0; i < n * d; i++) {
            o[i] = (float) (silu(g[i]) * u[i]);
        }
    }

    static double silu(double z) {
        return z / (1 + Math.exp(-z));
    }

    @Override
    public void concat(Buffer a, Buffer b, int n, Buffer out) {
        int da = buf(a, "a").cols;
        int db = buf(b, "b").cols;
        float[] x = f32(a, "a", n, da);
        float[] y = f32(b, "b", n, db);
        float[] o = f32(out, "out", n, da + db);
        for (int r = 0; r < n; r++) {
            System.arraycopy(x, r * da, o, r * (da + db), da);
            System.arraycopy(y, r * db, o, r * (da + db) + da, db);
        }
    }

    @Override
    public void gatherRows(Buffer src, Buffer index, int n, Buffer dst) {
        moveRows("gatherRows", src, index, n, dst, true);
    }

    @Override
    public void scatterRows(Buffer src, Buffer index, int n, Buffer dst) {
        moveRows("scatterRows", src, index, n, dst, false);
    }

    /** Row {@code i} of src to row {@code index[i]} of dst (scatter), or row {@code index[i]} to row {@code i}. */
    private void moveRows(String op, Buffer src, Buffer index, int n, Buffer dst, boolean gather) {
        Buf s = buf(src, "src");
        Buf ix = buf(index, "index");
        int[] idx = i32(index, "index", n, -1);
        Buf d = buf(dst, "dst");
        if (d.cols != s.cols || d.dtype != s.dtype) {
            throw new IllegalArgumentException(op + ": dst " + d.dtype + "[" + d.rows + ", " + d.cols
                    + "] does not match src " + s.dtype + "[" + s.rows + ", " + s.cols + "]");
        }
        checkShape(gather ? d : s, gather ? "dst" : "src", n, s.cols);
        int bound = gather ? s.rows : d.rows;
        for (int i = 0; i < n; i++) {
            int j = idx[i * ix.cols];
            if (j < 0 || j >= bound) {
                throw new IllegalArgumentException(op + ": index " + j + " outside [0, " + bound + ")");
            }
            System.arraycopy(s.dtype == DType.F32 ? s.f : s.i, (gather ? j : i) * s.cols,
                    d.dtype == DType.F32 ? d.f : d.i, (gather ? i : j) * s.cols, s.cols);
        }
    }

    @Override
    public void rope(Rows rows, Buffer x, int heads, int headDim, double[] inverseFrequencies) {
        R rs = rows(rows);
        float[] v = f32(x, "x", rs.count(), heads * headDim);
        int half = inverseFrequencies.length;
        if (half == 0 || 2 * half > headDim) {
            throw new IllegalArgumentException("rope: rotary dim " + 2 * half + " must be in (0, " + headDim + "]");
        }
        for (int r = 0; r < rs.count(); r++) {
            for (int d = 0; d < half; d++) {
                double angle = rs.positions[r] * inverseFrequencies[d];
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                for (int h = 0; h < heads; h++) {
                    int i = r * heads * headDim + h * headDim + d;
                    double a = v[i];
                    double b = v[i + half];
                    v[i] = (float) (a * cos - b * sin);
                    v[i + half] = (float) (b * cos + a * sin);
                }
            }
        }
    }

    @Override
    public void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams p, Weight sinks,
                          Buffer out) {
        R rs = rows(rows);
        Kv c = kv(cache);
        int n = rs.count();
        if (c.kvHeads != p.kvHeads() || c.keyDim != p.keyDim() || c.valueDim != p.valueDim()) {
            throw new IllegalArgumentException("attention: cache [" + c.kvHeads + " heads, " + c.keyDim + ", "
                    + c.valueDim + "] does not match " + p);
        }
        float[] qs = f32(q, "q", n, p.heads() * p.keyDim());
        float[] ks = f32(k, "k", n, p.kvHeads() * p.keyDim());
        float[] vs = f32(v, "v", n, p.kvHeads() * p.valueDim());
        float[] o = f32(out, "out", n, p.heads() * p.valueDim());
        W sink = sinks == null ? null : weight(sinks, "sinks");
        for (int r = 0; r < n; r++) {
            int slot = rs.slot(r, rs.positions[r]);
            if (rs.slotsReached(r) > c.slots) {
                throw new IllegalArgumentException("attention: row " + r + " reaches KV slot "
                        + (rs.slotsReached(r) - 1) + " outside the cache's " + c.slots);
            }
            for (int h = 0; h < p.kvHeads(); h++) {
                for (int d = 0; d < p.keyDim(); d++) {
                    c.keys[h][slot * p.keyDim() + d] = ks[(r * p.kvHeads() + h) * p.keyDim() + d];
                }
                for (int d = 0; d < p.valueDim(); d++) {
                    c.values[h][slot * p.valueDim() + d] = p.valueScale() * vs[(r * p.kvHeads() + h) * p.valueDim() + d];
                }
            }
        }
        int group = p.heads() / p.kvHeads();
        for (int r = 0; r < n; r++) {
            int pos = rs.positions[r];
            int first = p.window() == 0 ? 0 : Math.max(0, pos - p.window() + 1);
            if (pos - first + 1 > rs.capacity(r)) {
                throw new IllegalArgumentException("attention: row " + r + " attends " + (pos - first + 1)
                        + " keys but its sequence has only " + rs.capacity(r) + " KV slots");
            }
            for (int h = 0; h < p.heads(); h++) {
                int kh = h / group;
                double[] logits = new double[pos - first + 1];
                double max = sink == null ? Double.NEGATIVE_INFINITY : sink.get(0, h);
                for (int j = first; j <= pos; j++) {
                    int slot = rs.slot(r, j);
                    double dot = 0;
                    for (int d = 0; d < p.keyDim(); d++) {
                        dot += (double) qs[(r * p.heads() + h) * p.keyDim() + d] * c.keys[kh][slot * p.keyDim() + d];
                    }
                    logits[j - first] = dot * p.scale();
                    max = Math.max(max, logits[j - first]);
                }
                double sum = sink == null ? 0 : Math.exp(sink.get(0, h) - max);
                for (int j = 0; j < logits.length; j++) {
                    logits[j] = Math.exp(logits[j] - max);
                    sum += logits[j];
                }
                for (int d = 0; d < p.valueDim(); d++) {
                    double acc = 0;
                    for (int j = first; j <= pos; j++) {
                        acc += logits[j - first] * c.values[kh][rs.slot(r, j) * p.valueDim() + d];
                    }
                    o[(r * p.heads() + h) * p.valueDim() + d] = (float) (acc / sum);
                }
            }
        }
    }

    /** Selection order: higher first, NaN above everything (never hidden), ties to the lower index. */
    static boolean before(double a, double b) {
        return a > b || (Double.isNaN(a) && !Double.isNaN(b));
    }

    @Override
    public void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score, boolean normalize,
                      float scaling, boolean replay, Buffer ids, Buffer weights) {
        int experts = buf(logits, "logits").cols;
        float[] l = f32(logits, "logits", n, experts);
        int[] sel = i32(ids, "ids", n, k);
        float[] w = f32(weights, "weights", n, k);
        W b = bias == null ? null : weight(bias, "bias");
        if (k <= 0 || k > experts || (b != null && b.cols() != experts)) {
            throw new IllegalArgumentException("route: k=" + k + " of " + experts + " experts"
                    + (b == null ? "" : ", bias of " + b.cols()));
        }
        for (int r = 0; r < n; r++) {
            double[] s = new double[experts];
            double[] c = new double[experts];
            scores(l, r * experts, experts, score, s);
            for (int e = 0; e < experts; e++) {
                c[e] = s[e] + (b == null ? 0 : b.get(0, e));
            }
            if (!replay) {
                boolean[] taken = new boolean[experts];
                for (int j = 0; j < k; j++) {
                    int best = -1;
                    for (int e = 0; e < experts; e++) {
                        if (!taken[e] && (best < 0 || before(c[e], c[best]))) {
                            best = e;
                        }
                    }
                    taken[best] = true;
                    sel[r * k + j] = best;
                }
            }
            double total = 0;
            for (int j = 0; j < k; j++) {
                int e = sel[r * k + j];
                if (e < 0 || e >= experts) {
                    throw new IllegalArgumentException("route: replayed expert id " + e + " in row " + r
                            + " outside [0, " + experts + ")");
                }
                total += s[e];
            }
            for (int j = 0; j < k; j++) {
                double sj = s[sel[r * k + j]];
                w[r * k + j] = (float) ((normalize ? sj / (total + 1e-20) : sj) * scaling);
            }
        }
    }

    /** Sigmoid of each logit, or the softmax of the row (max-subtracted), in double. */
    private static void scores(float[] l, int from, int experts, ScoreFunction score, double[] s) {
        if (score == ScoreFunction.SIGMOID) {
            for (int e = 0; e < experts; e++) {
                s[e] = 1 / (1 + Math.exp(-l[from + e]));
            }
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            max = Math.max(max, l[from + e]);
        }
        double sum = 0;
        for (int e = 0; e < experts; e++) {
            s[e] = Math.exp(l[from + e] - max);
            sum += s[e];
        }
        for (int e = 0; e < experts; e++) {
            s[e] /= sum;
        }
    }

    @Override
    public void experts(Buffer x, ExpertWeights experts, Buffer ids, Buffer weights, int n, Buffer out) {
        int hidden = experts.gate().getFirst().cols();
        int k = buf(ids, "ids").cols;
        float[] in = f32(x, "x", n, hidden);
        int[] sel = i32(ids, "ids", n, k);
        float[] w = f32(weights, "weights", n, k);
        float[] o = f32(out, "out", n, hidden);
        for (int r = 0; r < n; r++) {
            double[] acc = new double[hidden];
            for (int j = 0; j < k; j++) {
                int e = sel[r * k + j];
                if (e < 0 || e >= experts.count()) {
                    throw new IllegalArgumentException("experts: id " + e + " in row " + r + " outside [0, "
                            + experts.count() + ")");
                }
                W gate = expert(experts.gate().get(e), "gate", e, hidden, false);
                W up = expert(experts.up().get(e), "up", e, hidden, false);
                W down = expert(experts.down().get(e), "down", e, hidden, true);
                float[] act = new float[gate.rows()];
                for (int i = 0; i < gate.rows(); i++) {
                    double g = 0;
                    double u = 0;
                    for (int c = 0; c < hidden; c++) {
                        g += (double) in[r * hidden + c] * gate.get(i, c);
                        u += (double) in[r * hidden + c] * up.get(i, c);
                    }
                    act[i] = (float) (silu((float) g) * (float) u);
                }
                for (int c = 0; c < hidden; c++) {
                    double d = 0;
                    for (int i = 0; i < act.length; i++) {
                        d += (double) act[i] * down.get(c, i);
                    }
                    acc[c] += w[r * k + j] * d;
                }
            }
            for (int c = 0; c < hidden; c++) {
                o[r * hidden + c] = (float) acc[c];
            }
        }
    }

    /** An expert matrix: gate and up are {@code [inter, hidden]}, down {@code [hidden, inter]}. */
    private W expert(Weight w, String kind, int e, int hidden, boolean down) {
        W x = weight(w, kind + "[" + e + "]");
        if ((down ? x.rows() : x.cols()) != hidden) {
            throw new IllegalArgumentException("experts: " + kind + "[" + e + "] " + x.name() + " is [" + x.rows()
                    + ", " + x.cols() + "], which does not fit hidden size " + hidden);
        }
        return x;
    }

    @Override
    public void argmax(Buffer logits, int n, Buffer ids) {
        int v = buf(logits, "logits").cols;
        float[] l = f32(logits, "logits", n, v);
        int[] out = i32(ids, "ids", n, -1);
        for (int r = 0; r < n; r++) {
            out[r * buf(ids, "ids").cols] = argmax(l, r * v, v);
        }
    }

    static int argmax(float[] l, int from, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) {
            if (before(l[from + i], l[from + best])) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] u,
                       Buffer ids) {
        int cols = buf(logits, "logits").cols;
        float[] l = f32(logits, "logits", n, cols);
        int v = vocab;
        if (v <= 0 || v > cols) {
            throw new IllegalArgumentException("sample: vocab " + v + " outside [1, " + cols + "]");
        }
        int[] out = i32(ids, "ids", n, -1);
        int stride = buf(ids, "ids").cols;
        for (int r = 0; r < n; r++) {
            int best = argmax(l, r * cols, v);
            if (temperature[r] == 0 || Float.isNaN(l[r * cols + best])) {
                out[r * stride] = best;
                continue;
            }
            double max = l[r * cols + best];
            double[] p = new double[v];
            for (int i = 0; i < v; i++) {
                p[i] = Math.exp((l[r * cols + i] - max) / temperature[r]);
            }
            Integer[] order = new Integer[v];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -p[i]).thenComparingInt(i -> i));
            int keep = topK[r] > 0 ? Math.min(topK[r], v) : v;
            double total = 0;
            for (int i = 0; i < keep; i++) {
                total += p[order[i]];
            }
            double prefix = 0;
            int kept = 0;
            while (kept < keep && (kept == 0 || prefix < topP[r] * total)) {
                prefix += p[order[kept++]];
            }
            double target = u[r] * prefix;
            double cumulative = 0;
            int pick = order[kept - 1];
            for (int i = 0; i < kept; i++) {
                cumulative += p[order[i]];
                if (target < cumulative) {
                    pick = order[i];
                    break;
                }
            }
            out[r * stride] = pick;
        }
    }

    /** Constrained decoding: logits of ids whose bit is clear become −∞ (kept logits are untouched). */
    @Override
    public void maskLogits(Buffer logits, Buffer allowed, int n) {
        int cols = buf(logits, "logits").cols;
        float[] l = f32(logits, "logits", n, cols);
        Buf mask = typed(allowed, DType.I32, "allowed", n, -1);
        if (mask.cols < (cols + 31) / 32) {
            throw new IllegalArgumentException("maskLogits: allowed has " + mask.cols + " columns, " + cols
                    + " logits need " + (cols + 31) / 32);
        }
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < cols; c++) {
                if ((mask.i[r * mask.cols + (c >>> 5)] >>> (c & 31) & 1) == 0) {
                    l[r * cols + c] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
