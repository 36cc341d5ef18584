package io.tessera.api.model;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.kernel.KernelBackend;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes the MLP of a layer: a dense SwiGLU ({@code mlp.{gate,up,down}_proj}) or a routed-expert MoE
 * ({@code mlp.gate}, {@code mlp.gate.e_score_correction_bias}, {@code mlp.experts.{e}.*}) as the spec says.
 * The MoE uses an {@link ExpertRouter} service chosen by its {@value ExpertRouter#KIND} property.
 */
@ProviderType
public interface FeedForwardFactory {

    /**
     * @param prefix  e.g. {@code model.layers.3.mlp.}
     * @param maxRows the most rows one call will pass
     * @throws CheckpointException naming a missing or misshapen tensor
     */
    FeedForward create(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec, int maxRows)
            throws CheckpointException;
}
