package io.tessera.itest;

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
import java.util.Hashtable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

/**
 * A test backend that serves through a real one (its handles are the real backend's) and lets a test act at an
 * exact step: {@link #rows} — called once per step and KV capacity, before the step's ops — hands the step's
 * positions to a hook, which may start a swap and hold the step until the swap is prepared. It can also refuse
 * KV allocations, as a backend without room does.
 */
final class GatedBackend implements KernelBackend {
    private final String name;
    private final KernelBackend real;
    private final Predicate<int[]> gate;
    private final String allocationFailure;
    private volatile int maxPosition = -1;

    /**
     * @param gate              sees each step's positions; may block (the engine waits at that step)
     * @param allocationFailure non-null: every {@link #allocateKv} fails with this message
     */
    GatedBackend(String name, KernelBackend real, Predicate<int[]> gate, String allocationFailure) {
        this.name = name;
        this.real = real;
        this.gate = gate;
        this.allocationFailure = allocationFailure;
    }

    /** Registers this backend under its name with {@code ranking} (a low one, so nothing picks it by chance). */
    ServiceRegistration<KernelBackend> register(BundleContext context, int ranking) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(KernelBackend.BACKEND, name);
        properties.put(Constants.SERVICE_RANKING, ranking);
        return context.registerService(KernelBackend.class, this, properties);
    }

    /** Waits (bounded) for a latch a gate hook counts down, or fails the test. */
    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The highest position of any row this backend ran. */
    int maxPosition() {
        return maxPosition;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BackendInfo info() {
        return real.info();
    }

    @Override
    public Buffer allocate(DType dtype, int rows, int cols) {
        return real.allocate(dtype, rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        return real.weight(tensor);
    }

    @Override
    public KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim) {
        if (allocationFailure != null) {
            throw new OutOfMemoryError(allocationFailure);
        }
        return real.allocateKv(slots, kvHeads, keyDim, valueDim);
    }

    @Override
    public Rows rows(int[] positions, int[] kvBase, int[] kvCapacity) {
        for (int p : positions) {
            maxPosition = Math.max(maxPosition, p);
        }
        gate.test(positions);
        return real.rows(positions, kvBase, kvCapacity);
    }

    @Override
    public Rows pagedRows(int[] positions, BlockTable table) {
        for (int p : positions) {
            maxPosition = Math.max(maxPosition, p);
        }
        gate.test(positions);
        return real.pagedRows(positions, table);
    }

    @Override
    public void write(Buffer dst, long offset, float[] src, int from, int len) {
        real.write(dst, offset, src, from, len);
    }

    @Override
    public void write(Buffer dst, long offset, int[] src, int from, int len) {
        real.write(dst, offset, src, from, len);
    }

    @Override
    public void read(Buffer src, long offset, float[] dst, int from, int len) {
        real.read(src, offset, dst, from, len);
    }

    @Override
    public void read(Buffer src, long offset, int[] dst, int from, int len) {
        real.read(src, offset, dst, from, len);
    }

    @Override
    public void readKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        real.readKv(cache, slot, count, keys, values);
    }

    @Override
    public void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        real.writeKv(cache, slot, count, keys, values);
    }

    @Override
    public void synchronize() {
        real.synchronize();
    }

    @Override
    public void embed(Weight table, Buffer ids, int n, Buffer out) {
        real.embed(table, ids, n, out);
    }

    @Override
    public void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out) {
        real.rmsNorm(x, w, eps, n, out);
    }

    @Override
    public void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out) {
        real.rmsNormHeads(x, w, eps, n, heads, out);
    }

    @Override
    public void matmul(Buffer x, Weight w, int n, Buffer y) {
        real.matmul(x, w, n, y);
    }

    @Override
    public void matmulRows(Buffer x, Weight w, Buffer ids, int n, Buffer y) {
        real.matmulRows(x, w, ids, n, y);
    }

    @Override
    public void add(Buffer acc, Buffer x, int n) {
        real.add(acc, x, n);
    }

    @Override
    public void siluMul(Buffer gate, Buffer up, int n, Buffer out) {
        real.siluMul(gate, up, n, out);
    }

    @Override
    public void concat(Buffer a, Buffer b, int n, Buffer out) {
        real.concat(a, b, n, out);
    }

    @Override
    public void gatherRows(Buffer src, Buffer index, int n, Buffer dst) {
        real.gatherRows(src, index, n, dst);
    }

    @Override
    public void scatterRows(Buffer src, Buffer index, int n, Buffer dst) {
        real.scatterRows(src, index, n, dst);
    }

    @Override
    public void rope(Rows rows, Buffer x, int heads, int headDim, double[] inverseFrequencies) {
        real.rope(rows, x, heads, headDim, inverseFrequencies);
    }

    @Override
    public void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams params,
                          Weight sinks, Buffer out) {
        real.attention(rows, q, k, v, cache, params, sinks, out);
    }

    @Override
    public void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score, boolean normalize,
                      float scaling, boolean replay, Buffer ids, Buffer weights) {
        real.route(logits, bias, n, k, score, normalize, scaling, replay, ids, weights);
    }

    @Override
    public void experts(Buffer x, ExpertWeights experts, Buffer ids, Buffer weights, int n, Buffer out) {
        real.experts(x, experts, ids, weights, n, out);
    }

    @Override
    public void maskLogits(Buffer logits, Buffer allowed, int n) {
        real.maskLogits(logits, allowed, n);
    }

    @Override
    public void argmax(Buffer logits, int n, Buffer ids) {
        real.argmax(logits, n, ids);
    }

    @Override
    public void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] u,
                       Buffer ids) {
        real.sample(logits, n, vocab, temperature, topK, topP, u, ids);
    }
}
