package io.tessera.common.attention;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.AttentionParams;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.common.Resources;
import java.util.Optional;

/**
 * One attention block (MiMo spec §3, steps 1–8): q/k/v projections, per-head RMSNorm of q and k when the layer has
 * it (Qwen3's {@code q_norm}/{@code k_norm}), partial NeoX RoPE on q and k from the layer's inverse-frequency
 * table, attention over the engine's KV cache (the backend stores k and value-scaled v first), output projection.
 * Global and sliding-window layers differ only in window and sink, given by the spec.
 */
public final class ProjectedAttention implements Attention {
    private final KernelBackend backend;
    private final LayerSpec spec;
    private final AttentionParams params;
    private final Weight wq;
    private final Weight wk;
    private final Weight wv;
    private final Weight wo;
    private final Weight sinks;
    private final Weight qNorm;
    private final Weight kNorm;
    private final float normEps;
    private final double[] inverseFrequencies;
    private final Buffer q;
    private final Buffer k;
    private final Buffer v;
    private final Buffer heads;
    private final Resources owned = new Resources();

    public ProjectedAttention(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec,
                              int maxRows) throws CheckpointException {
        this.backend = backend;
        this.normEps = (float) checkpoint.config().rmsNormEps();
        this.inverseFrequencies = spec.inverseFrequencies();
        this.spec = spec;
        this.params = new AttentionParams(spec.heads(), spec.kvHeads(), spec.headDim(), spec.valueHeadDim(),
                spec.window(), (float) (1.0 / Math.sqrt(spec.headDim())), spec.valueScale());
        try {
            wq = owned.add(backend.weight(checkpoint.tensor(prefix + "q_proj.weight")));
            wk = owned.add(backend.weight(checkpoint.tensor(prefix + "k_proj.weight")));
            wv = owned.add(backend.weight(checkpoint.tensor(prefix + "v_proj.weight")));
            wo = owned.add(backend.weight(checkpoint.tensor(prefix + "o_proj.weight")));
            sinks = spec.sink() ? owned.add(backend.weight(sinkTensor(checkpoint, prefix))) : null;
            qNorm = spec.qkNorm() ? owned.add(backend.weight(checkpoint.tensor(prefix + "q_norm.weight"))) : null;
            kNorm = spec.qkNorm() ? owned.add(backend.weight(checkpoint.tensor(prefix + "k_norm.weight"))) : null;
            q = owned.add(backend.allocate(DType.F32, maxRows, spec.heads() * spec.headDim()));
            k = owned.add(backend.allocate(DType.F32, maxRows, spec.kvHeads() * spec.headDim()));
            v = owned.add(backend.allocate(DType.F32, maxRows, spec.kvHeads() * spec.valueHeadDim()));
            heads = owned.add(backend.allocate(DType.F32, maxRows, spec.heads() * spec.valueHeadDim()));
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    /** The hub name {@code attention_sink_bias}, or {@code sinks} as transformers saves it. */
    private static Tensor sinkTensor(Checkpoint checkpoint, String prefix) throws CheckpointException {
        Optional<Tensor> saved = checkpoint.find(prefix + "sinks");
        return saved.isPresent() ? saved.get() : checkpoint.tensor(prefix + "attention_sink_bias");
    }

    @Override
    public int kvSlots(int contextLength, int rowsPerSequence) {
        // a ring of window - 1 + rows keeps every key a row of this step may read, and nothing older
        return spec.window() == 0 ? contextLength : Math.min(contextLength, spec.window() - 1 + rowsPerSequence);
    }

    @Override
    public int kvHeads() {
        return spec.kvHeads();
    }

    @Override
    public int keyDim() {
        return spec.headDim();
    }

    @Override
    public int valueDim() {
        return spec.valueHeadDim();
    }

    @Override
    public void forward(Rows rows, Buffer normed, KvCache cache, Buffer out) {
        int n = rows.count();
        backend.matmul(normed, wq, n, q);
        backend.matmul(normed, wk, n, k);
        backend.matmul(normed, wv, n, v);
        if (qNorm != null) {
            backend.rmsNormHeads(q, qNorm, normEps, n, spec.heads(), q);
            backend.rmsNormHeads(k, kNorm, normEps, n, spec.kvHeads(), k);
        }
        backend.rope(rows, q, spec.heads(), spec.headDim(), inverseFrequencies);
        backend.rope(rows, k, spec.kvHeads(), spec.headDim(), inverseFrequencies);
        backend.attention(rows, q, k, v, cache, params, sinks, heads);
        backend.matmul(heads, wo, n, out);
    }

    @Override
    public void close() {
        owned.close();
    }
}
