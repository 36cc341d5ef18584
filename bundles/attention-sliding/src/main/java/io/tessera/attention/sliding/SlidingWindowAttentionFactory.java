package io.tessera.attention.sliding;

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
 * Sliding-window attention (SWA and MTP layers): the layer's window, per-head sink bias, GQA, partial NeoX RoPE;
 * its KV is a ring of window − 1 + rows-per-step slots, so memory is O(window), not O(context).
 */
@Component(property = AttentionFactory.KIND + "=sliding-window")
public class SlidingWindowAttentionFactory implements AttentionFactory {

    @Override
    public Attention create(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec, int maxRows)
            throws CheckpointException {
        if (spec.attention() != AttentionKind.SLIDING_WINDOW) {
            throw new IllegalArgumentException("layer " + spec.index() + " is " + spec.attention().property()
                    + ", this factory serves sliding-window");
        }
        return new ProjectedAttention(backend, checkpoint, prefix, spec, maxRows);
    }
}
