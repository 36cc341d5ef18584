package io.tessera.kernels.cuda;

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
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.DoubleBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA {@link KernelBackend}: every op is one or a few launches of the bundled kernels on one non-blocking
 * stream, asynchronous; the host waits only in {@link #read}, {@link #readKv} and {@link #synchronize}. Buffers,
 * weights, KV and rows live in device memory; weights are copied as stored and dequantized in registers.
 *
 * <p>This class is the only one that knows the op signatures of {@code io.tessera.api.kernel}: it validates the
 * handles and maps each op to kernel launches. Calls are serialized (one stream, in issue order).
 */
public final class CudaBackend implements KernelBackend, AutoCloseable {
    private static final int BLOCK = 256;
    private static final int ATTENTION_TILE = 128;   // TILE in attention.cu
    private static final int MAX_VALUE_DIM = 512;    // TILE * MAX_DV_PER_THREAD in attention.cu
    private static final String CONTRACT = "f32 accumulate; weights exact (BF16/F16/FP8 block-scaled, dequantized in "
            + "registers); activations and KV f32; sampling sums f64";

    private final CudaDriver driver;
    private final MemorySegment context, stream;
    private final int device;
    private final String description;
    private final CudaKernels kernels;
    private final Arena arena = Arena.ofShared();
    private MemorySegment staging;
    private long bytesInUse;
    /** Per-call scratch of {@link #experts} and {@link #sample}, grown on demand and kept. */
    private long scratch, scratchBytes;
    /** Device tables of expert weight pointers, one per ExpertWeights seen. */
    private final Map<ExpertWeights, Long> expertTables = new HashMap<>();
    /** Device copies of RoPE inverse-frequency tables, by content (each layer passes the same array every step). */
    private final Map<DoubleBuffer, Long> ropeTables = new HashMap<>();
    private boolean closed;

    CudaBackend(CudaDriver driver, int device, MemorySegment context, MemorySegment stream, CudaKernels kernels,
                String description) {
        this.driver = driver;
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.kernels = kernels;
        this.description = description;
        this.staging = arena.allocate(1 << 16, 16);
    }

    static RuntimeException unchecked(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public synchronized BackendInfo info() {
        return new BackendInfo(description, 1, bytesInUse, CONTRACT);
    }

    // ---- memory -----------------------------------------------------------------------------------------------

    /** Makes the context current on the calling thread; every public entry point starts here. */
    private void enter() throws Throwable {
        if (closed) {
            throw new IllegalStateException("the CUDA backend was closed");
        }
        driver.setCurrent(context);
    }

    private long alloc(long bytes) throws Throwable {
        long p = driver.alloc(Math.max(bytes, 4));
        driver.zero(p, Math.max(bytes, 4), stream);
        bytesInUse += bytes;
        return p;
    }

    /** Frees a handle's allocations (called by {@link CudaMemory#close} under this backend's lock). */
    void free(long bytes, long... pointers) {
        if (closed) {
            return;  // the context is gone, and its memory with it
        }
        try {
            enter();
            driver.synchronize(stream);  // queued ops may still read it
            for (long p : pointers) {
                if (p != 0) {
                    driver.free(p);
                }
            }
            bytesInUse -= bytes;
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized Buffer allocate(DType dtype, int rows, int cols) {
        if (dtype != DType.F32 && dtype != DType.I32) {
            throw new IllegalArgumentException("a buffer is F32 or I32, not " + dtype);
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("bad buffer size [" + rows + ", " + cols + "]");
        }
        try {
            enter();
            return new CudaBuffer(this, alloc(4L * rows * cols), dtype, rows, cols);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized Weight weight(Tensor tensor) {
        int code;
        try {
            code = CudaWeight.code(tensor.dtype());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": unsupported dtype " + tensor.dtype());
        }
        if (tensor.rank() != 1 && tensor.rank() != 2) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": rank " + tensor.rank() + " (want 1 or 2)");
        }
        int rows = tensor.rank() == 1 ? 1 : tensor.dim(0), cols = tensor.dim(tensor.rank() - 1);
        Tensor scales = null;
        if (code == 3) {
            scales = tensor.scaleInv().orElseThrow(() -> new IllegalArgumentException(
                    "tensor " + tensor.name() + ": F8_E4M3 without its weight_scale_inv"));
            long want = (long) ((rows + 127) / 128) * ((cols + 127) / 128);
            if (scales.dtype() != DType.F32 || scales.elements() != want) {
                throw new IllegalArgumentException("tensor " + tensor.name() + ": block scales " + scales
                        + " (want F32 with " + want + " elements)");
            }
        }
        long bytes = tensor.elements() * tensor.dtype().bytes();
        if (tensor.data().byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": " + tensor.data().byteSize()
                    + " bytes of data for " + bytes);
        }
        try {
            enter();
            long ptr = alloc(bytes);
            driver.copyToDevice(ptr, tensor.data(), bytes, stream);
            long s = 0, sBytes = 0;
            if (scales != null) {
                sBytes = scales.data().byteSize();
                s = alloc(sBytes);
                driver.copyToDevice(s, scales.data(), sBytes, stream);
            }
            return new CudaWeight(this, tensor.name(), tensor.dtype(), rows, cols, ptr, s, bytes + sBytes);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim) {
        if (slots <= 0 || kvHeads <= 0 || keyDim <= 0 || valueDim <= 0) {
            throw new IllegalArgumentException("bad KV shape: slots=" + slots + " kvHeads=" + kvHeads + " keyDim="
                    + keyDim + " valueDim=" + valueDim);
        }
        try {
            enter();
            long k = alloc(4L * slots * kvHeads * keyDim);
            long v = alloc(4L * slots * kvHeads * valueDim);
            return new CudaKvCache(this, slots, kvHeads, keyDim, valueDim, k, v);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized Rows rows(int[] positions, int[] kvBase, int[] kvCapacity) {
        int n = positions.length;
        if (n == 0 || kvBase.length != n || kvCapacity.length != n) {
            throw new IllegalArgumentException("rows: positions, kvBase and kvCapacity must have the same, positive "
                    + "length (" + n + ", " + kvBase.length + ", " + kvCapacity.length + ")");
        }
        for (int r = 0; r < n; r++) {
            if (positions[r] < 0 || kvBase[r] < 0 || kvCapacity[r] <= 0) {
                throw new IllegalArgumentException("rows: row " + r + " has position " + positions[r] + ", kvBase "
                        + kvBase[r] + ", kvCapacity " + kvCapacity[r]);
            }
        }
        long reached = 0;
        for (int r = 0; r < n; r++) {
            reached = Math.max(reached, (long) kvBase[r] + kvCapacity[r]);
        }
        return upload(positions, kvBase, kvCapacity, new int[0], 0, reached);
    }

    @Override
    public synchronized Rows pagedRows(int[] positions, BlockTable table) {
        table.requireRows(positions);
        if (positions.length == 0) {
            throw new IllegalArgumentException("pagedRows: no rows");
        }
        long reached = 0;
        for (int r = 0; r < positions.length; r++) {
            reached = Math.max(reached, table.slotsReached(r));
        }
        return upload(positions, table.start(), table.length(), table.blocks(), table.blockTokens(), reached);
    }

    /** Uploads a row descriptor: positions, kvBase, kvCapacity, then the block tables (paged rows only). */
    private CudaRows upload(int[] positions, int[] kvBase, int[] kvCapacity, int[] blocks, int blockTokens,
                            long slotsReached) {
        int n = positions.length;
        long bytes = 12L * n + 4L * blocks.length;
        try {
            enter();
            long ptr = alloc(bytes);
            MemorySegment host = staging(bytes);
            MemorySegment.copy(positions, 0, host, ValueLayout.JAVA_INT, 0, n);
            MemorySegment.copy(kvBase, 0, host, ValueLayout.JAVA_INT, 4L * n, n);
            MemorySegment.copy(kvCapacity, 0, host, ValueLayout.JAVA_INT, 8L * n, n);
            MemorySegment.copy(blocks, 0, host, ValueLayout.JAVA_INT, 12L * n, blocks.length);
            driver.copyToDevice(ptr, host, bytes, stream);
            return new CudaRows(this, ptr, bytes, n, blockTokens, slotsReached);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    /** The host staging area, at least {@code bytes} long. Pageable memory: a copy from it is staged by the time
     *  cuMemcpyHtoDAsync returns, so it can be reused at once. */
    private MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            staging = arena.allocate(Math.max(bytes, 2 * staging.byteSize()), 16);
        }
        return staging;
    }

    @Override
    public synchronized void write(Buffer dst, long offset, float[] src, int from, int len) {
        CudaBuffer b = span(dst, "dst", DType.F32, offset, len);
        try {
            enter();
            MemorySegment host = staging(4L * len);
            MemorySegment.copy(src, from, host, ValueLayout.JAVA_FLOAT, 0, len);
            driver.copyToDevice(b.ptr + 4 * offset, host, 4L * len, stream);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized void write(Buffer dst, long offset, int[] src, int from, int len) {
        CudaBuffer b = span(dst, "dst", DType.I32, offset, len);
        try {
            enter();
            MemorySegment host = staging(4L * len);
            MemorySegment.copy(src, from, host, ValueLayout.JAVA_INT, 0, len);
            driver.copyToDevice(b.ptr + 4 * offset, host, 4L * len, stream);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized void read(Buffer src, long offset, float[] dst, int from, int len) {
        CudaBuffer b = span(src, "src", DType.F32, offset, len);
        MemorySegment host = readToHost(b.ptr + 4 * offset, 4L * len);
        MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, 0, dst, from, len);
    }

    @Override
    public synchronized void read(Buffer src, long offset, int[] dst, int from, int len) {
        CudaBuffer b = span(src, "src", DType.I32, offset, len);
        MemorySegment host = readToHost(b.ptr + 4 * offset, 4L * len);
        MemorySegment.copy(host, ValueLayout.JAVA_INT, 0, dst, from, len);
    }

    private MemorySegment readToHost(long devicePtr, long bytes) {
        try {
            enter();
            MemorySegment host = staging(bytes);
            driver.copyToHost(host, devicePtr, bytes, stream);
            driver.synchronize(stream);
            return host;
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized void readKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        CudaKvCache kv = kv(cache, slot, count);
        long kw = (long) kv.kvHeads() * kv.keyDim(), vw = (long) kv.kvHeads() * kv.valueDim();
        MemorySegment.copy(readToHost(kv.keys + 4 * kw * slot, 4 * kw * count), ValueLayout.JAVA_FLOAT, 0, keys, 0,
                (int) (kw * count));
        MemorySegment.copy(readToHost(kv.values + 4 * vw * slot, 4 * vw * count), ValueLayout.JAVA_FLOAT, 0, values,
                0, (int) (vw * count));
    }

    @Override
    public synchronized void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        CudaKvCache kv = kv(cache, slot, count);
        long kw = (long) kv.kvHeads() * kv.keyDim(), vw = (long) kv.kvHeads() * kv.valueDim();
        try {
            enter();
            MemorySegment host = staging(4 * kw * count);
            MemorySegment.copy(keys, 0, host, ValueLayout.JAVA_FLOAT, 0, (int) (kw * count));
            driver.copyToDevice(kv.keys + 4 * kw * slot, host, 4 * kw * count, stream);
            host = staging(4 * vw * count);
            MemorySegment.copy(values, 0, host, ValueLayout.JAVA_FLOAT, 0, (int) (vw * count));
            driver.copyToDevice(kv.values + 4 * vw * slot, host, 4 * vw * count, stream);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    @Override
    public synchronized void synchronize() {
        try {
            enter();
            driver.synchronize(stream);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    // ---- ops ----------------------------------------------------------------------------------------------------

    @Override
    public synchronized void embed(Weight table, Buffer ids, int n, Buffer out) {
        CudaWeight t = weight(table, "table");
        CudaBuffer i = buffer(ids, "ids", DType.I32, n, -1), o = buffer(out, "out", DType.F32, n, t.cols());
        run(() -> kernels.launch("embed").grid(n, 1).block(BLOCK)
                .ptr(t.ptr).ptr(t.scales).i32(t.code()).i32(t.cols()).ptr(i.ptr).ptr(o.ptr).go(stream));
    }

    @Override
    public synchronized void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out) {
        CudaWeight g = weight(w, "w");
        CudaBuffer xb = buffer(x, "x", DType.F32, n, g.cols()), o = buffer(out, "out", DType.F32, n, g.cols());
        run(() -> kernels.launch("rms_norm").grid(n, 1).block(BLOCK)
                .ptr(xb.ptr).ptr(g.ptr).i32(g.code()).f32(eps).i32(g.cols()).ptr(o.ptr).go(stream));
    }

    @Override
    public synchronized void matmul(Buffer x, Weight w, int n, Buffer y) {
        CudaWeight wt = weight(w, "w");
        CudaBuffer xb = buffer(x, "x", DType.F32, n, wt.cols()), yb = buffer(y, "y", DType.F32, n, wt.rows());
        if (xb == yb) {
            throw new IllegalArgumentException("matmul: y must not be x");
        }
        run(() -> kernels.launch("gemv_" + wt.suffix()).grid(blocks(32L * wt.rows()), 1).block(BLOCK)
                .ptr(xb.ptr).ptr(wt.ptr).ptr(wt.scales).i32(wt.cols()).i32(wt.rows()).i32(n).ptr(yb.ptr).go(stream));
    }

    /** Ids are not range-checked on the device (as in {@link #embed}): the engine's shortlist is checked at load. */
    @Override
    public synchronized void matmulRows(Buffer x, Weight w, Buffer ids, int n, Buffer y) {
        CudaWeight wt = weight(w, "w");
        CudaBuffer xb = buffer(x, "x", DType.F32, n, wt.cols()), yb = buffer(y, "y", DType.F32, n, -1);
        CudaBuffer ib = buffer(ids, "ids", DType.I32, yb.cols(), -1);
        if (xb == yb) {
            throw new IllegalArgumentException("matmulRows: y must not be x");
        }
        run(() -> kernels.launch("gemv_rows_" + wt.suffix()).grid(blocks(32L * yb.cols()), 1).block(BLOCK)
                .ptr(xb.ptr).ptr(wt.ptr).ptr(wt.scales).i32(wt.cols()).ptr(ib.ptr).i32(ib.cols()).i32(yb.cols())
                .i32(n).ptr(yb.ptr).go(stream));
    }

    @Override
    public synchronized void add(Buffer acc, Buffer x, int n) {
        CudaBuffer a = buffer(acc, "acc", DType.F32, n, -1), b = buffer(x, "x", DType.F32, n, a.cols());
        long total = (long) n * a.cols();
        run(() -> kernels.launch("add").grid(blocks(total), 1).block(BLOCK).ptr(a.ptr).ptr(b.ptr).i64(total).go(stream));
    }

    @Override
    public synchronized void siluMul(Buffer gate, Buffer up, int n, Buffer out) {
        CudaBuffer g = buffer(gate, "gate", DType.F32, n, -1), u = buffer(up, "up", DType.F32, n, g.cols()),
                o = buffer(out, "out", DType.F32, n, g.cols());
        long total = (long) n * g.cols();
        run(() -> kernels.launch("silu_mul").grid(blocks(total), 1).block(BLOCK)
                .ptr(g.ptr).ptr(u.ptr).ptr(o.ptr).i64(total).go(stream));
    }

    @Override
    public synchronized void concat(Buffer a, Buffer b, int n, Buffer out) {
        CudaBuffer ab = buffer(a, "a", DType.F32, n, -1), bb = buffer(b, "b", DType.F32, n, -1),
                o = buffer(out, "out", DType.F32, n, ab.cols() + bb.cols());
        run(() -> kernels.launch("concat").grid(n, 1).block(BLOCK)
                .ptr(ab.ptr).i32(ab.cols()).ptr(bb.ptr).i32(bb.cols()).ptr(o.ptr).go(stream));
    }

    @Override
    public synchronized void gatherRows(Buffer src, Buffer index, int n, Buffer dst) {
        CudaBuffer s = buffer(src, "src", DType.F32, 1, -1), i = buffer(index, "index", DType.I32, n, -1),
                d = buffer(dst, "dst", DType.F32, n, s.cols());
        run(() -> kernels.launch("gather_rows").grid(n, 1).block(BLOCK)
                .ptr(s.ptr).ptr(i.ptr).i32(s.cols()).ptr(d.ptr).go(stream));
    }

    @Override
    public synchronized void scatterRows(Buffer src, Buffer index, int n, Buffer dst) {
        CudaBuffer s = buffer(src, "src", DType.F32, n, -1), i = buffer(index, "index", DType.I32, n, -1),
                d = buffer(dst, "dst", DType.F32, 1, s.cols());
        run(() -> kernels.launch("scatter_rows").grid(n, 1).block(BLOCK)
                .ptr(s.ptr).ptr(i.ptr).i32(s.cols()).ptr(d.ptr).go(stream));
    }

    @Override
    public synchronized void rope(Rows rows, Buffer x, int heads, int headDim, double[] inverseFrequencies) {
        CudaRows r = rows(rows);
        CudaBuffer xb = buffer(x, "x", DType.F32, r.count(), heads * headDim);
        int half = inverseFrequencies.length;
        if (half == 0 || 2 * half > headDim) {
            throw new IllegalArgumentException("rope: rotary dim " + 2 * half + " must be in (0, " + headDim + "]");
        }
        run(() -> kernels.launch("rope").grid(r.count(), heads).block(Math.min(BLOCK, Math.max(32, half)))
                .ptr(xb.ptr).ptr(r.positions).i32(heads).i32(headDim).i32(half).ptr(ropeTable(inverseFrequencies))
                .go(stream));
    }

    /** The device copy of a RoPE table, uploaded on first use and kept until the backend closes. */
    private long ropeTable(double[] inverseFrequencies) throws Throwable {
        DoubleBuffer key = DoubleBuffer.wrap(inverseFrequencies);
        Long ptr = ropeTables.get(key);
        if (ptr == null) {
            enter();
            long bytes = 8L * inverseFrequencies.length;
            ptr = alloc(bytes);
            MemorySegment host = staging(bytes);
            MemorySegment.copy(inverseFrequencies, 0, host, ValueLayout.JAVA_DOUBLE, 0, inverseFrequencies.length);
            driver.copyToDevice(ptr, host, bytes, stream);
            ropeTables.put(DoubleBuffer.wrap(inverseFrequencies.clone()), ptr);
        }
        return ptr;
    }

    @Override
    public synchronized void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out) {
        CudaWeight g = weight(w, "w");
        CudaBuffer xb = buffer(x, "x", DType.F32, n, heads * g.cols()),
                o = buffer(out, "out", DType.F32, n, heads * g.cols());
        // a head's view is a row of [n × heads, d]: the row kernel over n × heads rows
        run(() -> kernels.launch("rms_norm").grid(n * heads, 1).block(BLOCK)
                .ptr(xb.ptr).ptr(g.ptr).i32(g.code()).f32(eps).i32(g.cols()).ptr(o.ptr).go(stream));
    }

    @Override
    public synchronized void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams p,
                                       Weight sinks, Buffer out) {
        CudaRows r = rows(rows);
        int n = r.count();
        CudaKvCache kv = kv(cache, 0, 0);
        if (kv.kvHeads() != p.kvHeads() || kv.keyDim() != p.keyDim() || kv.valueDim() != p.valueDim()) {
            throw new IllegalArgumentException("attention: KV cache [" + kv.kvHeads() + " x " + kv.keyDim() + "/"
                    + kv.valueDim() + "] does not match " + p);
        }
        if (p.valueDim() > MAX_VALUE_DIM) {
            throw new IllegalArgumentException("attention: valueDim " + p.valueDim() + " > " + MAX_VALUE_DIM);
        }
        if (r.slotsReached > kv.slots()) {
            throw new IllegalArgumentException("attention: rows reach KV slot " + (r.slotsReached - 1)
                    + " outside the cache's " + kv.slots());
        }
        CudaBuffer qb = buffer(q, "q", DType.F32, n, p.heads() * p.keyDim()),
                kb = buffer(k, "k", DType.F32, n, p.kvHeads() * p.keyDim()),
                vb = buffer(v, "v", DType.F32, n, p.kvHeads() * p.valueDim()),
                o = buffer(out, "out", DType.F32, n, p.heads() * p.valueDim());
        CudaWeight s = sinks == null ? null : weight(sinks, "sinks");
        if (s != null && s.rows() * s.cols() != p.heads()) {
            throw new IllegalArgumentException("attention: sinks " + s + " must have " + p.heads() + " elements");
        }
        int shared = 4 * (p.keyDim() + 2 * ATTENTION_TILE);
        run(() -> {
            kernels.launch("kv_store").grid(n, 1).block(BLOCK).ptr(kb.ptr).ptr(vb.ptr).ptr(r.positions).ptr(r.kvBase)
                    .ptr(r.kvCapacity).ptr(r.table).i32(r.blockTokens).i32(p.kvHeads()).i32(p.keyDim())
                    .i32(p.valueDim()).f32(p.valueScale())
                    .ptr(kv.keys).ptr(kv.values).go(stream);
            kernels.launch("attention").grid(n, p.heads()).block(ATTENTION_TILE).shared(shared).ptr(qb.ptr)
                    .ptr(r.positions).ptr(r.kvBase).ptr(r.kvCapacity).ptr(r.table).i32(r.blockTokens)
                    .ptr(kv.keys).ptr(kv.values)
                    .ptr(s == null ? 0 : s.ptr).i32(s == null ? 0 : s.code()).i32(p.heads()).i32(p.kvHeads())
                    .i32(p.keyDim()).i32(p.valueDim()).i32(p.window()).f32(p.scale()).ptr(o.ptr).go(stream);
        });
    }

    @Override
    public synchronized void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score,
                                   boolean normalize, float scaling, boolean replay, Buffer ids, Buffer weights) {
        CudaBuffer l = buffer(logits, "logits", DType.F32, n, -1);
        int experts = l.cols();
        if (k <= 0 || k > experts) {
            throw new IllegalArgumentException("route: k " + k + " must be in [1, " + experts + "]");
        }
        CudaWeight b = bias == null ? null : weight(bias, "bias");
        if (b != null && b.rows() * b.cols() != experts) {
            throw new IllegalArgumentException("route: bias " + b + " must have " + experts + " elements");
        }
        CudaBuffer i = buffer(ids, "ids", DType.I32, n, k), w = buffer(weights, "weights", DType.F32, n, k);
        run(() -> kernels.launch("route").grid(n, 1).block(32).shared(9 * experts).ptr(l.ptr)
                .ptr(b == null ? 0 : b.ptr).i32(b == null ? 0 : b.code()).i32(experts).i32(k).i32(normalize ? 1 : 0)
                .f32(scaling).i32(replay ? 1 : 0).i32(score == ScoreFunction.SOFTMAX ? 1 : 0).ptr(i.ptr).ptr(w.ptr)
                .go(stream));
    }

    @Override
    public synchronized void experts(Buffer x, ExpertWeights experts, Buffer ids, Buffer weights, int n, Buffer out) {
        CudaWeight g0 = weight(experts.gate().getFirst(), "gate[0]");
        int hidden = g0.cols(), inter = g0.rows();
        CudaBuffer xb = buffer(x, "x", DType.F32, n, hidden), i = buffer(ids, "ids", DType.I32, n, -1);
        int k = i.cols();
        CudaBuffer w = buffer(weights, "weights", DType.F32, n, k), o = buffer(out, "out", DType.F32, n, hidden);
        long table = expertTable(experts, g0, hidden, inter);
        int e = experts.count();
        long pairs = (long) n * k;
        run(() -> {
            long h = scratch(4 * pairs * (inter + hidden)), t = h + 4 * pairs * inter;
            kernels.launch("expert_gate_up_" + g0.suffix()).grid(blocks(32L * inter), pairs).block(BLOCK).ptr(xb.ptr)
                    .ptr(i.ptr).i32(k).ptr(table).ptr(table + 8L * e).ptr(table + 16L * e).ptr(table + 24L * e)
                    .i32(hidden).i32(inter).ptr(h).go(stream);
            kernels.launch("expert_down_" + g0.suffix()).grid(blocks(32L * hidden), pairs).block(BLOCK).ptr(h)
                    .ptr(i.ptr).ptr(w.ptr).ptr(table + 32L * e).ptr(table + 40L * e).i32(inter).i32(hidden).ptr(t)
                    .go(stream);
            kernels.launch("expert_combine").grid(n, 1).block(BLOCK).ptr(t).i32(k).i32(hidden).ptr(o.ptr).go(stream);
        });
    }

    /** The device table {gate[E], gateScale[E], up[E], upScale[E], down[E], downScale[E]} of 64-bit pointers. */
    private long expertTable(ExpertWeights experts, CudaWeight g0, int hidden, int inter) {
        Long cached = expertTables.get(experts);
        if (cached != null) {
            return cached;
        }
        int e = experts.count();
        long[] table = new long[6 * e];
        for (int j = 0; j < e; j++) {
            CudaWeight g = expert(experts.gate(), j, "gate", g0, inter, hidden),
                    u = expert(experts.up(), j, "up", g0, inter, hidden),
                    d = expert(experts.down(), j, "down", g0, hidden, inter);
            table[j] = g.ptr;
            table[e + j] = g.scales;
            table[2 * e + j] = u.ptr;
            table[3 * e + j] = u.scales;
            table[4 * e + j] = d.ptr;
            table[5 * e + j] = d.scales;
        }
        try {
            enter();
            long ptr = alloc(8L * table.length);
            MemorySegment host = staging(8L * table.length);
            MemorySegment.copy(table, 0, host, ValueLayout.JAVA_LONG, 0, table.length);
            driver.copyToDevice(ptr, host, 8L * table.length, stream);
            expertTables.put(experts, ptr);
            return ptr;
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    private CudaWeight expert(List<Weight> list, int j, String what, CudaWeight g0, int rows, int cols) {
        CudaWeight w = weight(list.get(j), what + "[" + j + "]");
        if (w.dtype() != g0.dtype() || w.rows() != rows || w.cols() != cols) {
            throw new IllegalArgumentException("experts: " + w + " must be " + g0.dtype() + "[" + rows + ", " + cols
                    + "] like " + g0.name());
        }
        return w;
    }

    @Override
    public synchronized void argmax(Buffer logits, int n, Buffer ids) {
        CudaBuffer l = buffer(logits, "logits", DType.F32, n, -1), i = buffer(ids, "ids", DType.I32, n, -1);
        if (i.cols() != 1) {
            throw new IllegalArgumentException("argmax: ids must be [n, 1], not " + i);
        }
        run(() -> kernels.launch("argmax").grid(n, 1).block(1024).ptr(l.ptr).i32(l.cols()).ptr(i.ptr).go(stream));
    }

    @Override
    public synchronized void maskLogits(Buffer logits, Buffer allowed, int n) {
        CudaBuffer l = buffer(logits, "logits", DType.F32, n, -1), a = buffer(allowed, "allowed", DType.I32, n, -1);
        if (a.cols() < (l.cols() + 31) / 32) {
            throw new IllegalArgumentException("maskLogits: allowed has " + a.cols() + " columns, " + l.cols()
                    + " logits need " + (l.cols() + 31) / 32);
        }
        run(() -> kernels.launch("mask_logits").grid(n, 1).block(256).ptr(l.ptr).i32(l.cols()).ptr(a.ptr).i32(a.cols())
                .go(stream));
    }

    @Override
    public synchronized void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP,
                                    float[] u, Buffer ids) {
        CudaBuffer l = buffer(logits, "logits", DType.F32, n, -1), i = buffer(ids, "ids", DType.I32, n, -1);
        if (vocab <= 0 || vocab > l.cols()) {
            throw new IllegalArgumentException("sample: vocab " + vocab + " outside [1, " + l.cols() + "]");
        }
        if (i.cols() != 1 || temperature.length < n || topK.length < n || topP.length < n || u.length < n) {
            throw new IllegalArgumentException("sample: ids must be [n, 1] and every parameter array hold n = " + n);
        }
        run(() -> {
            long params = scratch(16L * n);
            MemorySegment host = staging(16L * n);
            MemorySegment.copy(temperature, 0, host, ValueLayout.JAVA_FLOAT, 0, n);
            MemorySegment.copy(topK, 0, host, ValueLayout.JAVA_INT, 4L * n, n);
            MemorySegment.copy(topP, 0, host, ValueLayout.JAVA_FLOAT, 8L * n, n);
            MemorySegment.copy(u, 0, host, ValueLayout.JAVA_FLOAT, 12L * n, n);
            driver.copyToDevice(params, host, 16L * n, stream);
            kernels.launch("sample").grid(n, 1).block(1024).ptr(l.ptr).i32(l.cols()).i32(vocab).ptr(params).ptr(params + 4L * n)
                    .ptr(params + 8L * n).ptr(params + 12L * n).ptr(i.ptr).go(stream);
        });
    }

    // ---- graphs -------------------------------------------------------------------------------------------------

    /**
     * Records the ops {@code step} issues (no host transfers among them) as a CUDA graph instead of running them;
     * {@link CudaGraph#launch} then replays the whole step as one launch.
     */
    public synchronized CudaGraph capture(Runnable step) {
        try {
            enter();
            driver.beginCapture(stream);
            try {
                step.run();
            } catch (RuntimeException e) {
                driver.endCapture(stream);
                throw e;
            }
            MemorySegment graph = driver.endCapture(stream);
            return new CudaGraph(this, graph, driver.instantiate(graph));
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    synchronized void launchGraph(MemorySegment exec) {
        run(() -> driver.launchGraph(exec, stream));
    }

    synchronized void destroyGraph(MemorySegment graph, MemorySegment exec) {
        run(() -> driver.destroyGraph(graph, exec));
    }

    // ---- for benchmarks and tests in this package ---------------------------------------------------------------

    long pointer(Buffer b) {
        return buffer(b, "buffer", b.dtype(), 0, -1).ptr;
    }

    long[] pointers(Weight w) {
        CudaWeight c = weight(w, "weight");
        return new long[] {c.ptr, c.scales};
    }

    MemorySegment stream() {
        return stream;
    }

    CudaKernels kernels() {
        return kernels;
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Ops {
        void run() throws Throwable;
    }

    private void run(Ops ops) {
        try {
            enter();
            ops.run();
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    private static long blocks(long threads) {
        return Math.max(1, (threads + BLOCK - 1) / BLOCK);
    }

    /** Backend scratch of at least {@code bytes} (grown on demand, never shrunk). */
    private long scratch(long bytes) throws Throwable {
        if (scratchBytes < bytes) {
            if (scratch != 0) {
                driver.synchronize(stream);
                driver.free(scratch);
                bytesInUse -= scratchBytes;
            }
            scratchBytes = Math.max(bytes, 2 * scratchBytes);
            scratch = alloc(scratchBytes);
        }
        return scratch;
    }

    private CudaBuffer buffer(Buffer b, String name, DType dtype, int n, int cols) {
        if (!(b instanceof CudaBuffer c) || c.owner != this) {
            throw new IllegalArgumentException(name + ": " + b + " is not a buffer of this CUDA backend");
        }
        c.checkOpen(name);
        if (c.dtype() != dtype || n < 0 || c.rows() < n || (cols >= 0 && c.cols() != cols)) {
            throw new IllegalArgumentException(name + ": " + c + " does not fit " + dtype + "[" + n + ", "
                    + (cols >= 0 ? cols : "*") + "]");
        }
        return c;
    }

    private CudaBuffer span(Buffer b, String name, DType dtype, long offset, int len) {
        CudaBuffer c = buffer(b, name, dtype, 0, -1);
        if (offset < 0 || len < 0 || offset + len > (long) c.rows() * c.cols()) {
            throw new IllegalArgumentException(name + ": elements [" + offset + ", " + (offset + len) + ") outside " + c);
        }
        return c;
    }

    private CudaWeight weight(Weight w, String name) {
        if (!(w instanceof CudaWeight c) || c.owner != this) {
            throw new IllegalArgumentException(name + ": " + w + " is not a weight of this CUDA backend");
        }
        c.checkOpen(name + " " + c.name());
        return c;
    }

    private CudaRows rows(Rows rows) {
        if (!(rows instanceof CudaRows c) || c.owner != this) {
            throw new IllegalArgumentException("rows: " + rows + " are not rows of this CUDA backend");
        }
        c.checkOpen("rows");
        return c;
    }

    private CudaKvCache kv(KvCache cache, int slot, int count) {
        if (!(cache instanceof CudaKvCache c) || c.owner != this) {
            throw new IllegalArgumentException("cache: " + cache + " is not a KV cache of this CUDA backend");
        }
        c.checkOpen("KV cache");
        if (slot < 0 || count < 0 || slot + count > c.slots()) {
            throw new IllegalArgumentException("KV slots [" + slot + ", " + (slot + count) + ") outside [0, "
                    + c.slots() + ")");
        }
        return c;
    }

    /** Frees the backend's own memory and stream and releases the primary context. Open handles become invalid. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            enter();
            driver.synchronize(stream);
            for (long t : expertTables.values()) {
                driver.free(t);
            }
            for (long t : ropeTables.values()) {
                driver.free(t);
            }
            if (scratch != 0) {
                driver.free(scratch);
            }
            kernels.close();
            driver.destroyStream(stream);
            driver.releasePrimaryContext(device);
        } catch (Throwable t) {
            throw unchecked(t);
        } finally {
            closed = true;
            arena.close();
        }
    }
}
