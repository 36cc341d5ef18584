package io.tessera.api.model;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes multi-token-prediction blocks ({@code model.mtp.layers.{k}.}). Block k at position i reads the main
 * model's final-normed hidden state {@code H_i} and token {@code x_{i+k+1}} at RoPE position i and predicts
 * {@code x_{i+k+2}} (spec §4, non-chain). The block's sliding-window attention and dense MLP are made by the
 * engine from the {@link AttentionFactory} and {@link FeedForwardFactory} services, so they are the same
 * components the main model uses; embedding and lm_head are the main model's (shared, never copied).
 */
@ProviderType
public interface DraftHead {

    /**
     * @param prefix    e.g. {@code model.mtp.layers.0.}
     * @param attention the block's attention ({@code prefix + "self_attn."}); the block owns and closes it
     * @param mlp       the block's dense MLP ({@code prefix + "mlp."}); the block owns and closes it
     * @param embedding the main model's {@code model.embed_tokens.weight}
     * @throws CheckpointException naming a missing or misshapen tensor
     */
    DraftBlock create(KernelBackend backend, Checkpoint checkpoint, String prefix, Attention attention,
                      FeedForward mlp, Weight embedding, int maxRows) throws CheckpointException;
}
