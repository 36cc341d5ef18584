package com.example.tessera.backend;

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
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * A backend of your own, as a starting point: it registers {@code backend=template}, runs {@link #argmax} itself
 * and hands every other op to the node's reference backend. Replace the delegations with your own code one op
 * at a time; {@code mvn verify} runs Tessera's conformance kit on it after each change.
 *
 * <p>The ranking is negative, so the node never prefers it on its own: {@code backend:use template} moves a model
 * to it. Its handles are the delegate's (it owns no memory of its own); a real backend allocates its own.
 */
@Component(service = KernelBackend.class,
        property = {KernelBackend.BACKEND + "=template", "service.ranking:Integer=-10"})
public class TemplateBackend implements KernelBackend {
    private final KernelBackend delegate;

    @Activate
    public TemplateBackend(@Reference(target = "(" + KernelBackend.BACKEND + "=reference)") KernelBackend delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return "template";
    }

    /**
     * The op this backend runs itself, on the host through {@link #read}/{@link #write} (a real backend runs it on
     * its device): the first index of each row's maximum; a NaN wins at once, as the contract says.
     */
    @Override
    public void maskLogits(Buffer logits, Buffer allowed, int n) {
        delegate.maskLogits(logits, allowed, n);
    }

    @Override
    public void argmax(Buffer logits, int n, Buffer ids) {
        int vocab = logits.cols();
        float[] row = new float[vocab];
        int[] best = new int[1];
        for (int r = 0; r < n; r++) {
            delegate.read(logits, (long) r * vocab, row, 0, vocab);
            int arg = 0;
            for (int i = 0; i < vocab; i++) {
                if (Float.isNaN(row[i])) {
                    arg = i;
                    break;
                }
                if (row[i] > row[arg]) {
                    arg = i;
                }
            }
            best[0] = arg;
            delegate.write(ids, (long) r * ids.cols(), best, 0, 1);
        }
    }

    // ---- everything else: the reference backend's -------------------------------------------------------------

    @Override
    public BackendInfo info() {
        return delegate.info();
    }

    @Override
    public Buffer allocate(DType dtype, int rows, int cols) {
        return delegate.allocate(dtype, rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        return delegate.weight(tensor);
    }

    @Override
    public KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim) {
        return delegate.allocateKv(slots, kvHeads, keyDim, valueDim);
    }

    @Override
    public Rows rows(int[] positions, int[] kvBase, int[] kvCapacity) {
        return delegate.rows(positions, kvBase, kvCapacity);
    }

    @Override
    public Rows pagedRows(int[] positions, BlockTable table) {
        return delegate.pagedRows(positions, table);
    }

    @Override
    public void write(Buffer dst, long offset, float[] src, int from, int len) {
        delegate.write(dst, offset, src, from, len);
    }

    @Override
    public void write(Buffer dst, long offset, int[] src, int from, int len) {
        delegate.write(dst, offset, src, from, len);
    }

    @Override
    public void read(Buffer src, long offset, float[] dst, int from, int len) {
        delegate.read(src, offset, dst, from, len);
    }

    @Override
    public void read(Buffer src, long offset, int[] dst, int from, int len) {
        delegate.read(src, offset, dst, from, len);
    }

    @Override
    public void readKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        delegate.readKv(cache, slot, count, keys, values);
    }

    @Override
    public void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values) {
        delegate.writeKv(cache, slot, count, keys, values);
    }

    @Override
    public void synchronize() {
        delegate.synchronize();
    }

    @Override
    public void embed(Weight table, Buffer ids, int n, Buffer out) {
        delegate.embed(table, ids, n, out);
    }

    @Override
    public void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out) {
        delegate.rmsNorm(x, w, eps, n, out);
    }

    @Override
    public void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out) {
        delegate.rmsNormHeads(x, w, eps, n, heads, out);
    }

    @Override
    public void matmul(Buffer x, Weight w, int n, Buffer y) {
        delegate.matmul(x, w, n, y);
    }

    @Override
    public void matmulRows(Buffer x, Weight w, Buffer ids, int n, Buffer y) {
        delegate.matmulRows(x, w, ids, n, y);
    }

    @Override
    public void add(Buffer acc, Buffer x, int n) {
        delegate.add(acc, x, n);
    }

    @Override
    public void siluMul(Buffer gate, Buffer up, int n, Buffer out) {
        delegate.siluMul(gate, up, n, out);
    }

    @Override
    public void concat(Buffer a, Buffer b, int n, Buffer out) {
        delegate.concat(a, b, n, out);
    }

    @Override
    public void gatherRows(Buffer src, Buffer index, int n, Buffer dst) {
        delegate.gatherRows(src, index, n, dst);
    }

    @Override
    public void scatterRows(Buffer src, Buffer index, int n, Buffer dst) {
        delegate.scatterRows(src, index, n, dst);
    }

    @Override
    public void rope(Rows rows, Buffer x, int heads, int headDim, double[] inverseFrequencies) {
        delegate.rope(rows, x, heads, headDim, inverseFrequencies);
    }

    @Override
    public void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams params, Weight sinks, Buffer out) {
        delegate.attention(rows, q, k, v, cache, params, sinks, out);
    }

    @Override
    public void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score, boolean normalize, float scaling, boolean replay, Buffer ids, Buffer weights) {
        delegate.route(logits, bias, n, k, score, normalize, scaling, replay, ids, weights);
    }

    @Override
    public void experts(Buffer x, ExpertWeights experts, Buffer ids, Buffer weights, int n, Buffer out) {
        delegate.experts(x, experts, ids, weights, n, out);
    }

    @Override
    public void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] u, Buffer ids) {
        delegate.sample(logits, n, vocab, temperature, topK, topP, u, ids);
    }
}
