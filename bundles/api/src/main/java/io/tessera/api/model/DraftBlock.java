package io.tessera.api.model;

import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One MTP block with its weights; its KV cache is the engine's. One caller at a time.
 *
 * <pre>
 * u   = eh_proj · concat(RMSNorm(E[t]; enorm), RMSNorm(g; hnorm))       embedding first
 * r   = u + Attn(RMSNorm(u; input_layernorm))                           sliding window, sink, RoPE position i
 * r   = r + DenseMLP(RMSNorm(r; pre_mlp_layernorm))
 * out = RMSNorm(r; final_layernorm)                                     then the shared lm_head
 * </pre>
 */
@ProviderType
public interface DraftBlock extends AutoCloseable {

    /** The attention of this block (for KV sizing). */
    Attention attention();

    /**
     * The ids this block drafts among: a shortlist of the shared lm_head's rows (e.g. the most frequent ids of a
     * corpus), or null for the whole vocabulary. The engine then computes the draft logits over these rows only
     * ({@link io.tessera.api.kernel.KernelBackend#matmulRows}); verification stays exact over the full vocabulary,
     * so the output never depends on the shortlist, only how often drafts are accepted and what they cost.
     *
     * @since 0.2.0
     */
    default int[] vocabulary() {
        return null;
    }

    /**
     * Computes the block's final-normed output for every row.
     *
     * @param tokens I32 {@code [R, 1]}: token {@code x_{i+k+1}} of each row
     * @param hidden {@code [R, hidden]}: the main model's final-normed hidden state {@code H_i}
     * @param out    {@code [R, hidden]}: ready for the shared lm_head
     */
    void forward(Rows rows, Buffer tokens, Buffer hidden, KvCache cache, Buffer out);

    @Override
    void close();
}
