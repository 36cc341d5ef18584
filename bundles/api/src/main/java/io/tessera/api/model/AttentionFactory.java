package io.tessera.api.model;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.kernel.KernelBackend;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes the attention block of a layer. Registered with the service property {@value #KIND}
 * ({@code global} or {@code sliding-window}, see {@link io.tessera.api.checkpoint.AttentionKind#property()}); the
 * engine picks the factory whose kind matches the layer spec.
 */
@ProviderType
public interface AttentionFactory {
    String KIND = "attention.kind";

    /**
     * Uploads the layer's weights ({@code prefix + "q_proj.weight"}, {@code k_proj}, {@code v_proj},
     * {@code o_proj}, and {@code attention_sink_bias} when the spec has a sink) to {@code backend}.
     *
     * @param prefix  e.g. {@code model.layers.3.self_attn.} or {@code model.mtp.layers.0.self_attn.}
     * @param maxRows the most rows one call will pass (scratch is allocated once for it)
     * @throws CheckpointException naming a missing or misshapen tensor
     */
    Attention create(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec, int maxRows)
            throws CheckpointException;
}
