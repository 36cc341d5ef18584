package io.tessera.api.model;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.kernel.KernelBackend;

/**
 * Makes multi-token-prediction blocks ({@code model.mtp.layers.{k}}). Block k at position i reads the main
 * model's final-normed hidden state {@code H_i} and token {@code x_{i+k+1}} at RoPE position i and predicts
 * {@code x_{i+k+2}} (spec §4, non-chain).
 */
public interface DraftHead {

    /**
     * @param embedding the main model's embedding (shared, never copied)
     * @param lmHead    the main model's lm_head (shared)
     * @throws CheckpointException naming a missing or misshapen tensor
     */
    DraftBlock create(KernelBackend backend, Checkpoint checkpoint, int block, LayerSpec spec,
                      io.tessera.api.kernel.Weight embedding, io.tessera.api.kernel.Weight lmHead, int maxRows)
            throws CheckpointException;
}
