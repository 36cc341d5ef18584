package io.tessera.attention.global;

import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.Attention;
import io.tessera.api.model.AttentionFactory;
import io.tessera.common.attention.ProjectedAttention;
import org.osgi.service.component.annotations.Component;

/**
 * Full causal attention (GA layers): GQA, partial NeoX RoPE with the layer's theta, value scale, no sink; its KV
 * holds the whole context.
 */
@Component(property = AttentionFactory.KIND + "=global")
public class GlobalAttentionFactory implements AttentionFactory {

    @Override
    public Attention create(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec, int maxRows)
            throws CheckpointException {
        if (spec.attention() != AttentionKind.GLOBAL) {
            throw new IllegalArgumentException("layer " + spec.index() + " is " + spec.attention().property()
                    + ", this factory serves global");
        }
        return new ProjectedAttention(backend, checkpoint, prefix, spec, maxRows);
    }
}
